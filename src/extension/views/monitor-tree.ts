// The Sandbox Monitor view: runs, newest first, each with its violations, resource usage, the policy in
// force and its alerts. Run rows carry a contextValue ("run.running", "run.finished", ...) for the menus.
import * as vscode from 'vscode';
import type { Violation } from '../../policy/violation';
import type { RunRecord, RunStore } from '../runs';
import { fmtKiB, fmtMs } from '../terminal';
import { MonitorRefreshPlanner, runShown } from './monitor-refresh';

export type MonitorNode =
  | { kind: 'run'; run: RunRecord }
  | { kind: 'group'; run: RunRecord; group: 'violations' | 'usage' | 'policy' | 'alerts' }
  | { kind: 'violation'; run: RunRecord; violation: Violation }
  | { kind: 'detail'; run: RunRecord; group: string; label: string; description?: string; tooltip?: string };

const STATUS_ICON: Record<RunRecord['status'], vscode.ThemeIcon> = {
  starting: new vscode.ThemeIcon('loading~spin'),
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  aborted: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('testing.iconFailed')),
};

export function runStatusText(r: RunRecord): string {
  if (r.status === 'finished' && r.result) return r.result.cancelled ? 'stopped' : r.result.exitCode === 0 ? 'finished' : `finished (exit ${r.result.exitCode})`;
  return r.status;
}

export class MonitorTree implements vscode.TreeDataProvider<MonitorNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<MonitorNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subscription: vscode.Disposable;
  /** One node object per run, so reveal() and refreshes address the same element. */
  private readonly nodes = new WeakMap<RunRecord, MonitorNode>();
  private readonly planner = new MonitorRefreshPlanner();

  constructor(private readonly runs: RunStore) {
    // Only what changed is refreshed (monitor-refresh.ts): an unchanged row is never re-rendered, so a
    // context menu open on it keeps its element. Every store event is checked against the whole list (≤ 50
    // runs), so a change reported for one run cannot hide another's.
    this.planner.plan(runs.all().map(runShown));
    this.subscription = runs.onDidChange(() => this.refresh());
  }

  private refresh(): void {
    const all = this.runs.all();
    const plan = this.planner.plan(all.map(runShown));
    if (plan.root) return this.emitter.fire(undefined);
    for (const key of plan.runs) {
      const run = all.find((r) => r.key === key);
      if (run) this.emitter.fire(this.nodeFor(run));
    }
  }

  nodeFor(run: RunRecord): MonitorNode {
    let n = this.nodes.get(run);
    if (!n) {
      n = { kind: 'run', run };
      this.nodes.set(run, n);
    }
    return n;
  }

  getChildren(node?: MonitorNode): MonitorNode[] {
    if (!node) return this.runs.all().map((r) => this.nodeFor(r));
    const run = node.run;
    if (node.kind === 'run') {
      const groups: MonitorNode[] = [{ kind: 'group', run, group: 'violations' }, { kind: 'group', run, group: 'usage' }, { kind: 'group', run, group: 'policy' }];
      if (run.alerts.length) groups.push({ kind: 'group', run, group: 'alerts' });
      return groups;
    }
    if (node.kind !== 'group') return [];
    switch (node.group) {
      case 'violations':
        return run.violations.map((violation) => ({ kind: 'violation', run, violation }));
      case 'usage':
        return usageDetails(run);
      case 'policy':
        return policyDetails(run);
      case 'alerts':
        return run.alerts.map((a) => ({ kind: 'detail', run, group: 'alerts', label: a.message, description: new Date(a.time).toLocaleTimeString(), tooltip: `${a.reason} alert · ${a.count} violation(s)` }));
    }
  }

  getParent(node: MonitorNode): MonitorNode | undefined {
    return node.kind === 'run' ? undefined : this.nodeFor(node.run);
  }

  getTreeItem(node: MonitorNode): vscode.TreeItem {
    const run = node.run;
    switch (node.kind) {
      case 'run': {
        const item = new vscode.TreeItem(run.label, vscode.TreeItemCollapsibleState.Collapsed);
        const n = run.violations.length;
        item.id = run.key;
        item.description = `${runStatusText(run)} · ${n} violation${n === 1 ? '' : 's'} · ${new Date(run.startedAt).toLocaleTimeString()}`;
        item.iconPath = run.status === 'finished' && n > 0 ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : STATUS_ICON[run.status];
        item.contextValue = `run.${run.status}`;
        item.tooltip = new vscode.MarkdownString(`**${run.label}** — ${runStatusText(run)}\n\n\`${[run.script.fsPath, ...run.args].join(' ')}\`\n\nrun id \`${run.id}\`${run.error ? `\n\n${run.error.code}: ${run.error.message}` : ''}`);
        item.resourceUri = run.script;
        return item;
      }
      case 'group': {
        const labels = { violations: `Violations (${run.violations.length})`, usage: 'Resource usage', policy: 'Policy in force', alerts: `Alerts (${run.alerts.length})` };
        const icons = { violations: 'shield', usage: 'dashboard', policy: 'law', alerts: 'bell' };
        const empty = node.group === 'violations' && run.violations.length === 0;
        const item = new vscode.TreeItem(labels[node.group], empty ? vscode.TreeItemCollapsibleState.None : node.group === 'violations' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${run.key}:${node.group}`;
        item.iconPath = new vscode.ThemeIcon(icons[node.group]);
        return item;
      }
      case 'violation': {
        const v = node.violation;
        const item = new vscode.TreeItem(v.message, vscode.TreeItemCollapsibleState.None);
        item.description = `${v.action} · ${v.rule}`;
        item.iconPath = new vscode.ThemeIcon(v.action === 'warned' ? 'warning' : 'error', new vscode.ThemeColor(v.action === 'warned' ? 'list.warningForeground' : 'list.errorForeground'));
        item.tooltip = new vscode.MarkdownString('```json\n' + JSON.stringify(v, null, 2) + '\n```');
        item.contextValue = 'violation';
        item.command = { command: 'scriptSandbox.showViolation', title: 'Show in Script', arguments: [node] };
        return item;
      }
      case 'detail': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.tooltip = node.tooltip;
        return item;
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

function usageDetails(run: RunRecord): MonitorNode[] {
  const r = run.result;
  const d = (label: string, description: string): MonitorNode => ({ kind: 'detail', run, group: 'usage', label, description });
  if (!r) return [d('Duration', `${fmtMs(Date.now() - run.startedAt)} so far`)];
  const out = [
    d('Exit code', `${r.exitCode}${r.signal ? ` (${r.signal})` : ''}`),
    d('Duration', fmtMs(r.durationMs)),
    d('CPU', r.cpuUserMs == null ? 'n/a' : `${fmtMs(r.cpuUserMs)} user, ${fmtMs(r.cpuSystemMs ?? 0)} system`),
    d('Max memory', r.maxRssKiB == null ? 'n/a' : fmtKiB(r.maxRssKiB)),
  ];
  for (const l of run.limits) out.push(d(`Limit: ${l.limit}`, `${l.action} — ${l.message}`));
  return out;
}

function policyDetails(run: RunRecord): MonitorNode[] {
  const p = run.policy;
  const d = (label: string, description: string): MonitorNode => ({ kind: 'detail', run, group: 'policy', label, description });
  if (!p) return [d('Not resolved', run.error?.message ?? 'the host has not accepted the run yet')];
  const lim = Object.entries(p.limits)
    .filter(([, v]) => v != null)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    d('Mode', p.mode),
    d('Profile', p.profile),
    d('Network', `${p.network.preset}${p.network.allowHosts.length ? `, allow ${p.network.allowHosts.join(', ')}` : ''}`),
    d('Writes', p.filesystem.readOnly ? 'read-only' : p.filesystem.writeOutsideSystem ? 'outside system paths' : `workspace${p.filesystem.allowWrite.length ? ` + ${p.filesystem.allowWrite.join(', ')}` : ''}`),
    d('Limits', lim || 'none'),
    ...run.notes.map((n) => d('Note', n)),
  ];
}
