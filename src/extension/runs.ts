// What the extension knows about runs: one record per run, newest first, bounded. The monitor view, the
// status bar and the commands read it; the run service writes it.
import * as vscode from 'vscode';
import type { ResolvedPolicy } from '../policy/schema';
import type { Violation } from '../policy/violation';
import type { AlertMsg, Finished, HostError, LimitMsg } from './host-client';

export type RunStatus = 'starting' | 'running' | 'finished' | 'failed' | 'aborted';

/**
 * What the Monitor shows of a run's end: the host's finished message as it came, or a run_finished record
 * restored from the audit log, which keeps less (protocol/audit.ts).
 */
export type RunOutcome = Pick<Finished, 'type' | 'runId' | 'exitCode' | 'signal' | 'durationMs' | 'cpuUserMs' | 'cpuSystemMs' | 'maxRssKiB'> &
  Partial<Pick<Finished, 'usageSource' | 'timedOut' | 'cancelled'>> & { setupError: { code: string; message: string } | null };

export interface RunRecord {
  /** Stable for the record's life (tree item ids); `id` changes when the host accepts the run. */
  readonly key: string;
  /** Local id until the host accepts the run, then the host's runId. */
  id: string;
  label: string;
  /** The script file, for diagnostics and "run again". */
  script: vscode.Uri;
  args: string[];
  cwd: string;
  workspace: string;
  auditPath: string;
  status: RunStatus;
  startedAt: number;
  pid?: number;
  policy?: ResolvedPolicy;
  notes: string[];
  violations: Violation[];
  limits: LimitMsg[];
  alerts: AlertMsg[];
  result?: RunOutcome;
  error?: HostError | { code: string; message: string };
  /** Stop was asked before the host accepted the run. */
  stopRequested?: boolean;
  /** How it was started, so "run again" repeats it: a task's policy overrides, for instance. */
  origin: 'command' | 'task' | 'git';
  /** A git-script run: its definition, so "run again" fetches and checks it again. */
  gitSpec?: unknown;
  /** A task run: its name and policy fields, so "run again" repeats it with the same profile and mode. */
  task?: { name: string; fields: { mode?: ResolvedPolicy['mode']; profile?: ResolvedPolicy['profile'] } };
  /** Rebuilt from the audit log after a reload (no terminal, no live events). */
  restored?: boolean;
}

const MAX_RUNS = 50;

export class RunStore implements vscode.Disposable {
  private readonly runs: RunRecord[] = [];
  private readonly emitter = new vscode.EventEmitter<RunRecord | undefined>();
  /** Fires with the run that changed, or undefined when the list itself changed. */
  readonly onDidChange = this.emitter.event;

  add(run: RunRecord): void {
    this.runs.unshift(run);
    // Keep every run that is still going; drop the oldest finished ones.
    while (this.runs.length > MAX_RUNS) {
      let i = this.runs.length - 1;
      while (i >= 0 && (this.runs[i]!.status === 'running' || this.runs[i]!.status === 'starting')) i--;
      if (i < 0) break;
      this.runs.splice(i, 1);
    }
    this.emitter.fire(undefined);
  }

  /** Runs from before a reload, oldest first; each goes below the runs already listed. */
  restore(past: RunRecord[]): void {
    const known = new Set(this.runs.map((r) => r.id));
    for (const r of [...past].reverse()) if (!known.has(r.id) && this.runs.length < MAX_RUNS) this.runs.push(r);
    this.emitter.fire(undefined);
  }

  changed(run: RunRecord): void {
    this.emitter.fire(run);
  }

  /** Newest first. */
  all(): readonly RunRecord[] {
    return this.runs;
  }

  get(id: string): RunRecord | undefined {
    return this.runs.find((r) => r.id === id);
  }

  running(): RunRecord[] {
    return this.runs.filter((r) => r.status === 'running' || r.status === 'starting');
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** A JSON view of a run for "Copy as JSON" and the test API: plain data, no URIs. */
export function runToJson(r: RunRecord): Record<string, unknown> {
  return {
    runId: r.id,
    script: r.script.fsPath,
    args: r.args,
    cwd: r.cwd,
    workspace: r.workspace,
    status: r.status,
    startedAt: new Date(r.startedAt).toISOString(),
    pid: r.pid,
    exitCode: r.result?.exitCode,
    signal: r.result?.signal,
    durationMs: r.result?.durationMs,
    cpuUserMs: r.result?.cpuUserMs,
    cpuSystemMs: r.result?.cpuSystemMs,
    maxRssKiB: r.result?.maxRssKiB,
    error: r.error,
    violations: r.violations,
    limits: r.limits.map(({ limit, action, message }) => ({ limit, action, message })),
    alerts: r.alerts,
    notes: r.notes,
    policy: r.policy,
    auditPath: r.auditPath,
    ...(r.gitSpec !== undefined ? { gitScript: r.gitSpec } : {}),
  };
}
