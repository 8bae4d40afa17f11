// After a window reload the Sandbox Monitor lists the runs it showed before: the newest runs of each
// workspace folder's audit log (run-history.ts), as finished records without a terminal. And the view's
// badge: runs with violations that finished while the view was not visible, cleared when it is shown.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readAuditRecords } from '../../audit/verify'; // not ../../audit: its writer needs native/ (file locks)
import { auditPathFor } from '../config';
import { pastRuns, type PastRun } from '../run-history';
import type { RunRecord, RunStore } from '../runs';
import type { MonitorNode } from './monitor-tree';

const RESTORED_RUNS = 20;

export function recordFromPast(p: PastRun, auditPath: string): RunRecord {
  const f = p.finished;
  return {
    key: `restored-${p.runId}`,
    id: p.runId,
    label: p.gitScript ? `${path.basename(p.command[0] ?? '')} @ ${(p.gitScript.commit ?? p.gitScript.ref ?? '').slice(0, 12)}` : path.basename(p.command[0] ?? p.runId),
    script: vscode.Uri.file(p.command[0] ?? p.cwd),
    args: p.command.slice(1),
    cwd: p.cwd,
    workspace: p.workspace,
    auditPath,
    status: f ? (f.setupError ? 'failed' : 'finished') : 'aborted',
    startedAt: p.startedAt,
    ...(p.policy ? { policy: p.policy } : {}),
    notes: [`restored from the audit log ${auditPath}`],
    violations: p.violations,
    limits: p.limits.map((l) => ({ type: 'limit' as const, runId: p.runId, ...l })),
    alerts: [],
    ...(f
      ? {
          result: {
            type: 'finished' as const,
            runId: p.runId,
            exitCode: f.exitCode,
            signal: f.signal,
            durationMs: f.durationMs,
            cpuUserMs: f.cpuUserMs,
            cpuSystemMs: f.cpuSystemMs,
            maxRssKiB: f.maxRssKiB,
            setupError: f.setupError ?? null,
            ...(f.usageSource ? { usageSource: f.usageSource } : {}),
            ...(f.timedOut !== undefined ? { timedOut: f.timedOut } : {}),
            ...(f.cancelled !== undefined ? { cancelled: f.cancelled } : {}),
          },
        }
      : { error: { code: 'RUN_ABORTED', message: p.aborted ?? 'the window closed before the run ended' } }),
    origin: p.gitScript ? 'git' : 'command',
    restored: true,
  };
}

/** Reads each folder's audit log (the runs' own, by the folder's settings) and adds its newest runs. */
export async function restoreRuns(runs: RunStore, folders: readonly vscode.WorkspaceFolder[]): Promise<number> {
  await new Promise((r) => setImmediate(r)); // after activation returns: the logs are read synchronously
  const all: RunRecord[] = [];
  for (const folder of folders) {
    const file = auditPathFor(folder.uri.fsPath, folder.uri);
    let records;
    try {
      records = readAuditRecords(file);
    } catch {
      continue; // no log yet, or unreadable: nothing to restore
    }
    all.push(...pastRuns(records, RESTORED_RUNS).map((p) => recordFromPast(p, file)));
  }
  all.sort((a, b) => a.startedAt - b.startedAt);
  runs.restore(all.slice(-RESTORED_RUNS));
  return all.length;
}

/** The view's badge: runs with violations finished since the user last looked at the view. */
export class MonitorBadge implements vscode.Disposable {
  private unseen = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly view: vscode.TreeView<MonitorNode>,
    runs: RunStore,
  ) {
    this.disposables.push(
      runs.onDidChange((r) => {
        if (!r || r.restored || r.violations.length === 0 || (r.status !== 'finished' && r.status !== 'failed')) return;
        if (this.view.visible || this.unseen.has(r.key)) return;
        this.unseen.add(r.key);
        this.update();
      }),
      view.onDidChangeVisibility((e) => {
        if (e.visible && this.unseen.size) {
          this.unseen = new Set();
          this.update();
        }
      }),
    );
  }

  get count(): number {
    return this.unseen.size;
  }

  private update(): void {
    const n = this.unseen.size;
    this.view.badge = n ? { value: n, tooltip: `${n} run${n === 1 ? '' : 's'} with violations since you last looked` } : undefined;
  }

  dispose(): void {
    this.view.badge = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
