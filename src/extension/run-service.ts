// One run, end to end: settings + workspace policy file + trust → layers; the host runs it; events go to
// the run's terminal, the Problems panel and the run store as they arrive.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MODE_RANK, PROFILE_RANK } from '../policy/presets';
import type { Mode, PolicyInput, Profile } from '../policy/schema';
import type { Violation } from '../policy/violation';
import { interpreterOverrides } from './runnable-rules';
import { isLooseningApproved, recordLooseningApproval } from '../host/loosening-approvals';
import { auditPathSetting, readSettings, SettingsError, type SandboxSettings } from './config';
import type { ViolationDiagnostics } from './diagnostics';
import { HostRejection, type Finished, type GitFetched, type HostClient, type RunRequest } from './host-client';
import { PolicyFileError, readWorkspaceLayer, type WorkspaceLayer } from './policy-file';
import type { RunRecord, RunStore } from './runs';
import { describeIgnored, describeOrigin, layerTask, type IgnoredSetting, type Origin, type Source } from './settings-layers';
import { RunTerminal } from './terminal';

export interface RunTarget {
  script: vscode.Uri;
  args?: string[];
  cwd?: string;
  /** A task's own policy fields: workspace input, kept only where they tighten the policy otherwise in force. */
  task?: { name: string; fields: { mode?: Mode; profile?: Profile } };
  origin: 'command' | 'task' | 'git';
  /** The git-script definition of a git run. */
  gitSpec?: unknown;
}

/** What a run in a folder is under: the policy layers and where it is recorded. */
export interface PolicyContext {
  workspace: string;
  settings: SandboxSettings;
  wsLayer: WorkspaceLayer | null;
  notes: string[];
  layers: RunRequest['layers'];
  approvedLoosening: boolean | undefined;
  /** Undefined when the configured log would lead outside the workspace (the run is then not recorded). */
  auditPath: string | undefined;
  mode: string;
  profile: string;
  /** Where the mode and the profile (before .vscode/sandbox.json) came from. */
  origins: { mode: Origin; profile: Origin };
  label?: string;
}

const LOOSENING_KEY = 'scriptSandbox.approvedLoosening';

export class RunService implements vscode.Disposable {
  /** The terminal of the last command run of each script, reused once that run is over. */
  private readonly terminals = new Map<string, { terminal: vscode.Terminal; pty: RunTerminal }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly state: vscode.Memento,
    private readonly host: HostClient,
    private readonly runs: RunStore,
    private readonly diagnostics: ViolationDiagnostics,
  ) {
    this.disposables.push(
      vscode.window.onDidCloseTerminal((t) => {
        for (const [k, v] of this.terminals) if (v.terminal === t) this.terminals.delete(k);
      }),
    );
  }

  /** Runs from a command: opens (or reuses) the script's terminal. Resolves when the run is over. */
  async runFromCommand(target: RunTarget): Promise<RunRecord | undefined> {
    const prepared = await this.prepare(target);
    if (!prepared) return undefined;
    const key = target.script.toString();
    const previous = this.terminals.get(key);
    if (previous && !this.runs.running().some((r) => r.script.toString() === key)) previous.terminal.dispose();
    const pty = new RunTerminal(path.basename(target.script.fsPath), false);
    const terminal = vscode.window.createTerminal({ name: `Sandbox: ${path.basename(target.script.fsPath)}`, pty, iconPath: new vscode.ThemeIcon('shield') });
    this.terminals.set(key, { terminal, pty });
    terminal.show(true);
    const started = this.start(prepared, pty);
    pty.onStop = () => this.stop(started.record);
    return started.done;
  }

  /** Runs for a task: the caller owns the terminal (a CustomExecution's pseudoterminal). */
  runInTerminal(target: RunTarget, pty: RunTerminal): Promise<RunRecord | undefined> {
    return this.prepare(target).then((prepared) => {
      if (!prepared) {
        pty.error('the run did not start (see the notification)');
        return undefined;
      }
      const s = this.start(prepared, pty);
      pty.onStop = () => this.stop(s.record);
      return s.done;
    });
  }

  stop(run: RunRecord): void {
    if (run.status === 'starting') run.stopRequested = true; // no host run id yet: cancelled on acceptance
    if (run.status === 'running' || run.status === 'starting') this.host.cancel(run.id);
  }

  /** Everything that can fail before the host is asked: settings, the policy file, trust, saving. */
  private async prepare(target: RunTarget): Promise<Prepared | null> {
    const script = target.script;
    if (script.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Script Sandbox runs files on disk; "${script.toString()}" is not one.`);
      return null;
    }
    const folder = vscode.workspace.getWorkspaceFolder(script);
    const ctx = await this.policyContext(script, folder, target.task);
    if (!ctx) return null;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === script.toString());
    if (doc?.isDirty) await doc.save();
    return this.prepared(target, ctx, { command: [script.fsPath, ...(target.args ?? [])], cwd: target.cwd ?? ctx.workspace });
  }

  /**
   * The policy layers of a run in `folder` (or beside `scope` when there is none): settings, the
   * workspace policy file when trusted, Restricted Mode's floor. Null after telling the user what is wrong.
   */
  async policyContext(scope: vscode.Uri, folder: vscode.WorkspaceFolder | undefined, task?: RunTarget['task']): Promise<PolicyContext | null> {
    const workspace = folder?.uri.fsPath ?? path.dirname(scope.fsPath);
    const settingsError = (e: unknown): null => {
      if (!(e instanceof SettingsError)) throw e;
      // Not awaited: the caller (a command, a task) must not hang until the notification is dismissed.
      void vscode.window.showErrorMessage(`Script Sandbox: ${e.message}. The run did not start.`, 'Open Settings').then((open) => {
        if (open) void vscode.commands.executeCommand('workbench.action.openSettings', 'scriptSandbox');
      });
      return null;
    };
    let settings: SandboxSettings;
    try {
      settings = readSettings(folder?.uri ?? scope, workspace);
    } catch (e) {
      return settingsError(e);
    }
    const trusted = vscode.workspace.isTrusted;
    let wsLayer: WorkspaceLayer | null = null;
    if (trusted && folder) {
      try {
        wsLayer = await readWorkspaceLayer(folder.uri);
      } catch (e) {
        const msg = (e as Error).message;
        void vscode.window.showErrorMessage(`Script Sandbox: the workspace policy is invalid, so the run did not start: ${msg}`, 'Open Policy File').then((open) => {
          if (open && e instanceof PolicyFileError) void vscode.window.showTextDocument(e.uri);
        });
        return null;
      }
    }
    const notes: string[] = [];
    const ignored: IgnoredSetting[] = [...settings.ignored];
    const origins = { ...settings.origins };
    // A task's mode/profile come from the workspace's tasks.json: they may only tighten what is in force.
    let runLayer: PolicyInput = {};
    if (task && (task.fields.mode !== undefined || task.fields.profile !== undefined)) {
      const source: Source = { kind: 'task', label: 'task', detail: `task "${task.name}"` };
      try {
        const t = layerTask(task.fields, source, { user: settings.layer, ...(wsLayer ? { workspace: wsLayer.layer } : {}) }, { workspace, home: os.homedir() });
        runLayer = t.run;
        ignored.push(...t.ignored);
      } catch (e) {
        return settingsError(e);
      }
      if (runLayer.mode) origins.mode = { value: runLayer.mode, source, tightened: runLayer.mode !== settings.mode };
      if (runLayer.profile) origins.profile = { value: runLayer.profile, source, tightened: runLayer.profile !== settings.profile };
    }
    const audit = auditPathSetting(workspace, folder?.uri ?? scope);
    ignored.push(...audit.ignored);
    notes.push(...audit.notes);
    // Restricted Mode: the workspace's own policy is not trusted, and neither is a mode that turns the
    // sandbox off; strict is the floor.
    if (!trusted) {
      const restricted: Source = { kind: 'restricted', label: 'Restricted Mode', detail: 'Restricted Mode' };
      runLayer.profile = 'strict';
      origins.profile = { value: 'strict', source: restricted, tightened: settings.profile !== 'strict' };
      if ((runLayer.mode ?? settings.mode) === 'disabled') {
        runLayer.mode = 'enforce';
        origins.mode = { value: 'enforce', source: restricted, tightened: true };
      }
      notes.push(`Restricted Mode: profile strict${folder ? ', .vscode/sandbox.json ignored' : ''}`);
    }
    if (ignored.length) {
      const lines = ignored.map(describeIgnored);
      notes.push(...lines);
      // Once per run, not awaited: the run goes ahead under the user's settings.
      void vscode.window.showWarningMessage(
        `Script Sandbox: ${ignored.length === 1 ? 'a workspace setting that would loosen your sandbox was' : `${ignored.length} workspace settings that would loosen your sandbox were`} ignored: ${ignored.map((i) => `${i.setting} from ${i.source.detail}`).join('; ')}. The run's terminal says what each would loosen.`,
      );
    }
    return {
      workspace,
      settings,
      wsLayer,
      notes,
      layers: { user: settings.layer, ...(wsLayer ? { workspace: wsLayer.layer } : {}), ...(Object.keys(runLayer).length ? { run: runLayer } : {}) },
      // The extension's own record, or one made with `script-sandbox approve` (the same digest of the file text).
      approvedLoosening: wsLayer ? this.state.get<Record<string, string>>(LOOSENING_KEY, {})[workspace] === wsLayer.digest || isLooseningApproved(workspace, wsLayer.digest) : undefined,
      auditPath: audit.path,
      mode: runLayer.mode ?? settings.mode,
      profile: runLayer.profile ?? settings.profile,
      origins,
    };
  }

  /** A git-script the user approved: runs its checkout's script in a terminal, like a script of the workspace. */
  async runFetchedGitScript(fetched: GitFetched, ctx: PolicyContext, gitSpec: unknown): Promise<RunRecord | undefined> {
    const script = vscode.Uri.file(fetched.scriptPath);
    const prepared = await this.prepared({ script, args: fetched.args, cwd: fetched.checkoutDir, origin: 'git', gitSpec }, ctx, {
      command: [fetched.scriptPath, ...fetched.args],
      cwd: fetched.checkoutDir,
      gitFetchId: fetched.fetchId,
      label: `${fetched.name} @ ${fetched.commit.slice(0, 12)}`,
    });
    if (!prepared) return undefined;
    const pty = new RunTerminal(fetched.name, false);
    const terminal = vscode.window.createTerminal({ name: `Sandbox: ${fetched.name}`, pty, iconPath: new vscode.ThemeIcon('shield') });
    terminal.show(true);
    const started = this.start(prepared, pty);
    pty.onStop = () => this.stop(started.record);
    return started.done;
  }

  private async prepared(target: RunTarget, ctx: PolicyContext, how: { command: string[]; cwd: string; gitFetchId?: string; label?: string }): Promise<Prepared | null> {
    let text = '';
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(target.script)).toString('utf8');
    } catch (e) {
      void vscode.window.showErrorMessage(`Script Sandbox: cannot read ${target.script.fsPath}: ${(e as Error).message}`);
      return null;
    }
    const request: RunRequest = {
      command: how.command,
      cwd: how.cwd,
      workspace: ctx.workspace,
      env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
      layers: ctx.layers,
      approvedLoosening: ctx.approvedLoosening,
      inferInterpreter: true,
      ...interpretersFor(target.script.fsPath, text, ctx.settings),
      ...(ctx.auditPath ? { auditPath: ctx.auditPath } : {}),
      alerts: ctx.settings.alerts,
      ...(how.gitFetchId ? { gitFetchId: how.gitFetchId } : {}),
    };
    return { target, text, request, wsLayer: ctx.wsLayer, notes: [...ctx.notes], mode: ctx.mode, profile: ctx.profile, origins: ctx.origins, label: how.label };
  }

  private start(p: Prepared, pty: RunTerminal): { record: RunRecord; done: Promise<RunRecord> } {
    const { target, request } = p;
    const local = `pending-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const record: RunRecord = {
      key: local,
      id: local,
      label: p.label ?? path.basename(target.script.fsPath),
      script: target.script,
      args: target.args ?? [],
      cwd: request.cwd,
      workspace: request.workspace,
      auditPath: request.auditPath ?? '',
      status: 'starting',
      startedAt: Date.now(),
      notes: p.notes,
      violations: [],
      limits: [],
      alerts: [],
      origin: target.origin,
      ...(target.gitSpec !== undefined ? { gitSpec: target.gitSpec } : {}),
      ...(target.task ? { task: target.task } : {}),
    };
    this.runs.add(record);
    this.diagnostics.reset(target.script);
    for (const n of p.notes) pty.note(n);

    const done = new Promise<RunRecord>((resolve) => {
      const end = (status: RunRecord['status']) => {
        record.status = status;
        this.runs.changed(record);
        // The host has written the run's records by now: point its diagnostics at them.
        if (record.violations.length) void this.diagnostics.linkAudit(target.script, record.auditPath);
        resolve(record);
      };
      const sink = {
        started: (m: { pid: number }) => {
          record.status = 'running';
          record.pid = m.pid;
          this.runs.changed(record);
        },
        output: (stream: 'stdout' | 'stderr', data: string) => pty.output(stream, data),
        violation: (v: Violation) => {
          // Problems first: it is what the user is looking at, and what the latency budget is about.
          this.diagnostics.add(target.script, p.text, request.cwd, v);
          record.violations.push(v);
          pty.violation(v);
          this.runs.changed(record);
        },
        limit: (m: RunRecord['limits'][number]) => {
          record.limits.push(m);
          pty.limit(m.message, m.action);
          this.runs.changed(record);
        },
        finished: (m: Finished) => {
          // Ctrl+C in the run's terminal stopped it (SIGINT through the terminal, not a host cancel): "stopped".
          record.result = pty.relay.stoppedByInterrupt(m) ? { ...m, cancelled: true } : m;
          if (m.setupError) record.error = m.setupError;
          pty.finished(m, record.violations.length);
          end(m.setupError ? 'failed' : 'finished');
        },
        aborted: (reason: string) => {
          record.error = { code: 'ABORTED', message: reason };
          pty.aborted(reason);
          end('aborted');
        },
      };
      const accept = (approved: boolean | undefined): Promise<void> =>
        this.host.run({ ...request, env: { TERM: 'xterm-256color', ...request.env }, approvedLoosening: approved, terminal: { size: pty.relay.requestSize() } }, sink).then(
          (a) => {
            record.id = a.runId;
            pty.relay.connect({ input: (d) => this.host.terminalInput(a.runId, d), resize: (size) => this.host.terminalResize(a.runId, size) });
            record.policy = a.policy;
            if (record.stopRequested) this.host.cancel(a.runId);
            // The header names the policy actually in force and where each value came from (a workspace
            // file may have changed the mode).
            const mode = inForce('mode', a.policy?.mode ?? p.mode, p.origins.mode);
            const profile = inForce('profile', a.policy?.profile ?? p.profile, p.origins.profile);
            pty.header(request.command, mode, profile);
            record.notes.push(`in force: mode ${mode}, profile ${profile}`);
            for (const n of a.notes ?? []) {
              record.notes.push(n);
              pty.note(n);
            }
            this.runs.changed(record);
          },
          async (e: unknown) => {
            if (e instanceof HostRejection && e.error.code === 'POLICY_LOOSENING' && p.wsLayer && !approved && (await this.approveLoosening(request.workspace, p.wsLayer, e.error.message))) {
              pty.note('Loosening approved for this workspace.');
              return accept(true);
            }
            const err = e instanceof HostRejection ? e.error : { code: 'HOST_FAILED', message: (e as Error).message };
            record.error = err;
            pty.error(`${err.code}: ${err.message}`);
            end('failed');
          },
        );
      void accept(request.approvedLoosening);
    });
    return { record, done };
  }

  /** Asks once per workspace (and per content of its policy file) whether it may widen the user's policy. */
  private async approveLoosening(workspace: string, ws: WorkspaceLayer, why: string): Promise<boolean> {
    const allow = 'Allow for This Workspace';
    const pick = await vscode.window.showWarningMessage(
      `This workspace's ${path.relative(workspace, ws.uri.fsPath)} loosens your sandbox policy. Allow it?`,
      { modal: true, detail: `${why}\n\nThe approval holds for this workspace until the file changes.` },
      allow,
    );
    if (pick !== allow) return false;
    const approved = { ...this.state.get<Record<string, string>>(LOOSENING_KEY, {}), [workspace]: ws.digest };
    await this.state.update(LOOSENING_KEY, approved);
    try {
      recordLooseningApproval(workspace, ws.digest); // so the CLI honours it too
    } catch {
      // the user's config directory is not writable: the extension's own record still holds
    }
    return true;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    for (const { pty } of this.terminals.values()) pty.dispose();
  }
}

interface Prepared {
  target: RunTarget;
  text: string;
  request: RunRequest;
  wsLayer: WorkspaceLayer | null;
  notes: string[];
  mode: string;
  profile: string;
  origins: { mode: Origin; profile: Origin };
  label?: string;
}

/** "enforce (user)"; a value the settings did not give came from .vscode/sandbox.json (tightened, or approved). */
function inForce(key: 'mode' | 'profile', value: string, origin: Origin): string {
  if (value === origin.value) return describeOrigin(origin);
  const rank = (v: string) => (key === 'mode' ? MODE_RANK[v as Mode] : PROFILE_RANK[v as Profile]);
  return `${value} (.vscode/sandbox.json, ${rank(value) < rank(origin.value) ? 'tightened' : 'approved loosening'})`;
}

/** The interpreter override for this script: per extension, else per language when it has no `#!` line. */
function interpretersFor(file: string, text: string, settings: SandboxSettings): { interpreters?: Record<string, string[]> } {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  const o = interpreterOverrides(file, text.startsWith('#!'), settings.interpreters, settings.languageInterpreters, doc?.languageId);
  return Object.keys(o).length ? { interpreters: o } : {};
}
