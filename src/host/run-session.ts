// One run as the extension's host and the CLI both start it: the enforce gate, the runner, the audit recorder,
// the events file and the monitor, wired once and in one order. The caller resolves the policy, compiles the
// reactions once (protocol/run-reactions.ts) and relays the events its own way (IPC, the terminal).
import { SandboxError } from '../errors';
import type { AuditLog } from '../audit';
import type { RunReactions } from '../protocol/run-reactions';
import type { Engine } from './engine';
import type { RunRequest } from './runner';
import type { RunHandle } from './run-handle';
import { attachAudit, secretValuesFromEnv } from './audit-recorder';
import { openEventsFile, recordEvents } from './events-file';
import { attachMonitor, type Monitor } from './monitor';
import { describeUnkept, unkeptPromises } from './unkept-promises';
import * as fs from 'node:fs';
import type { ResolvedPolicy } from '../policy/schema';

export interface RunSessionRequest extends RunRequest {
  reactions: RunReactions;
  /** Where the run's records go; null: not recorded (the caller decided so by reactions.unkeptPromise and said why). */
  log: AuditLog | null;
  /** The origin of a git-script run, for its run_started record. */
  gitScript?: { repo: string; ref?: string; commit?: string };
  /** One monitor across runs (the alert window spans runs). */
  monitor: Monitor;
  /** `--events FILE`: opened after the gate and before the run, so a bad path fails the command, not a running script. */
  eventsFile?: string | null;
  /** The caller's relays (IPC, terminal). Attached before the monitor, so a violation reaches them before the alert it raises. */
  listen(handle: RunHandle): void;
}

export interface RunSession {
  handle: RunHandle;
  /** The policy's promises this machine does not keep (warn: all; enforce: the profile's baseline, demands refuse); the caller shows them. */
  notes: string[];
  /** Settles when the run's last audit record is written (at once when the run is not recorded); rejects with the first write error. */
  written: Promise<void>;
}

/**
 * Enforce promises what this machine must keep: refused up front where the capability report says it cannot,
 * as a whole (a required capability missing) or for this policy (a capability that keeps one of its promises,
 * e.g. job limits measured unenforced). Warn mode gets the unkept promises back as notes.
 */
export function enforceGate(engine: Pick<Engine, 'capabilities'>, reactions: RunReactions, policy?: ResolvedPolicy, exists: (abs: string) => boolean = fs.existsSync): string[] {
  if (!reactions.sandboxed) return [];
  if (reactions.unkeptPromise === 'refuse') {
    const report = engine.capabilities();
    if (!report.enforcePossible) {
      const missing = report.capabilities.filter((c) => c.requiredForEnforce && !c.available).map((c) => `${c.name} (${c.detail})`);
      throw new SandboxError('MECHANISM_UNAVAILABLE', `enforce mode impossible on this machine: missing ${missing.join(', ')}; use --mode warn or disabled`);
    }
  }
  const unkept = policy ? unkeptPromises(policy, engine.capabilities(), exists) : [];
  if (!unkept.length) return [];
  if (reactions.unkeptPromise !== 'refuse') return [`not kept on this machine (warn mode runs anyway): ${describeUnkept(unkept)}`];
  // Enforce: the user's demands refuse the run; the profile's baseline (unkept-promises.ts) is only said.
  const demands = unkept.filter((u) => !u.baseline);
  if (demands.length) {
    throw new SandboxError('MECHANISM_UNAVAILABLE', `enforce mode cannot keep this policy on this machine: ${describeUnkept(demands)}; use --mode warn, or a policy without these promises`);
  }
  return [`not kept on this machine (profile defaults; enforce runs without them): ${describeUnkept(unkept)}`];
}

export function startRunSession(engine: Engine, req: RunSessionRequest): RunSession {
  const notes = enforceGate(engine, req.reactions, req.policy);
  const { log, gitScript, monitor, eventsFile, listen, ...run } = req;
  const eventsFd = eventsFile ? openEventsFile(eventsFile) : null;
  const handle = engine.runner.run(run);
  // Listeners attach before the runner's first event (it starts on the next tick).
  const audit = log
    ? attachAudit(handle, log, { command: run.command, cwd: run.cwd, policy: run.policy, capabilities: engine.capabilities(), secretValues: secretValuesFromEnv(run.env, run.policy), ...(gitScript ? { gitScript } : {}) })
    : null;
  if (eventsFd != null) recordEvents(handle, eventsFd, { mode: run.policy.mode, profile: run.policy.profile, workspace: run.policy.workspace });
  listen(handle);
  attachMonitor(handle, monitor);
  return { handle, notes, written: audit?.written ?? Promise.resolve() };
}
