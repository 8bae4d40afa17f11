// Turns one run's RunHandle events into audit records: run_started (+ env_filtered), violation,
// limit_exceeded, run_finished with violation counts by kind. Writing is asynchronous; `written` settles
// when the run's last record is in the file, so a CLI can wait for it before exiting.
import * as os from 'node:os';
import { policyDigest } from '../policy';
import { decideEnv } from '../policy/evaluate';
import type { ResolvedPolicy } from '../policy/schema';
import type { Violation } from '../policy/violation';
import { runFinishedRecord, type CapabilitySummary, type AuditRecordInput } from '../protocol/audit';
import type { CapabilityReport } from '../protocol/capabilities';
import type { AuditLog } from '../audit';
import type { RunHandle } from './run-handle';
import type { RunStarted, RunResult } from '../protocol/run-events';

export interface AuditRunMeta {
  command: string[];
  cwd: string;
  policy: ResolvedPolicy;
  /** The engine's capability report, or an already summarized one. */
  capabilities?: CapabilityReport | CapabilitySummary;
  gitScript?: { repo: string; ref?: string; commit?: string };
  /** Literal secret values to mask from this log (see secretValuesFromEnv). */
  secretValues?: string[];
}

export interface AuditAttachment {
  /** Settles after run_finished is written; rejects with the first write error of the run. */
  written: Promise<void>;
}

/**
 * The literal values the audit log must never contain, by the policy's own rule (decideEnv): values of
 * secret-named variables whether passed (an --env-allow'ed API_KEY) or removed (GITHUB_TOKEN), values
 * matching the secret patterns, token-like values of removed variables, and secret-named values the policy
 * sets. Ordinary removed variables (PWD, SHELL, …) are not masked: that would erase paths from the log.
 */
export function secretValuesFromEnv(env: Record<string, string | undefined>, policy: ResolvedPolicy): string[] {
  const defined: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') defined[k] = v;
  return decideEnv(policy, defined).secretValues;
}

/** A CapabilityReport (or anything shaped like one) reduced to what the audit log keeps. */
export function summarizeCapabilities(c: unknown): CapabilitySummary | undefined {
  if (!c || typeof c !== 'object') return undefined;
  const r = c as { enforcePossible?: unknown; treeLimits?: unknown; capabilities?: unknown; available?: unknown; missing?: unknown };
  if (Array.isArray(r.available) && Array.isArray(r.missing)) {
    return { enforcePossible: typeof r.enforcePossible === 'boolean' ? r.enforcePossible : undefined, treeLimits: typeof r.treeLimits === 'string' ? r.treeLimits : undefined, available: r.available.map(String), missing: r.missing.map(String) };
  }
  if (!Array.isArray(r.capabilities)) return undefined;
  const caps = r.capabilities as Array<{ name?: unknown; available?: unknown }>;
  return {
    enforcePossible: typeof r.enforcePossible === 'boolean' ? r.enforcePossible : undefined,
    treeLimits: typeof r.treeLimits === 'string' ? r.treeLimits : undefined,
    available: caps.filter((x) => x.available === true).map((x) => String(x.name)),
    missing: caps.filter((x) => x.available !== true).map((x) => String(x.name)),
  };
}

export function attachAudit(handle: RunHandle, log: AuditLog, meta: AuditRunMeta): AuditAttachment {
  // Masking covers this run's policy patterns and values from its first record on; the log keeps them.
  log.addSecretPatterns(meta.policy.env.secretPatterns);
  if (meta.secretValues?.length) log.addSecretValues(meta.secretValues);
  const runId = handle.runId;
  const counts: Partial<Record<Violation['kind'], number>> = {};
  const writes: Array<Promise<unknown>> = [];
  let startedWritten = false;
  // Records go to the log in event order; the log keeps that order. Errors surface through `written`.
  const write = (r: AuditRecordInput) => {
    const p = log.append(r);
    p.catch(() => undefined); // observed through `written`, never an unhandled rejection
    writes.push(p);
  };

  const capabilities = summarizeCapabilities(meta.capabilities);
  const started = (s: RunStarted | null) => {
    startedWritten = true;
    const p = meta.policy;
    write({
      type: 'run_started',
      runId,
      command: meta.command,
      cwd: meta.cwd,
      workspace: p.workspace,
      mode: p.mode,
      profile: p.profile,
      policyDigest: policyDigest(p),
      policy: p,
      platform: { os: os.platform(), arch: os.arch(), release: os.release() },
      ...(capabilities ? { capabilities } : {}),
      ...(s ? { treeLimits: s.treeLimits, pid: s.pid, file: s.file } : {}),
      ...(meta.gitScript ? { gitScript: meta.gitScript } : {}),
    });
    if (s?.envRemoved.length) write({ type: 'env_filtered', runId, removed: s.envRemoved });
  };

  handle.on('started', (s) => started(s));
  handle.on('violation', (v) => {
    counts[v.kind] = (counts[v.kind] ?? 0) + 1;
    write({ type: 'violation', runId: v.runId || runId, violation: v });
  });
  handle.on('limit', (l) => write({ type: 'limit_exceeded', runId, ...l }));

  const written = new Promise<void>((resolve, reject) => {
    handle.once('finished', (r: RunResult) => {
      // A run that failed before exec never emitted 'started'; it still gets its run_started.
      if (!startedWritten) started(null);
      write(runFinishedRecord(r, counts));
      Promise.all(writes).then(() => resolve(), reject);
    });
  });
  written.catch(() => undefined);
  return { written };
}
