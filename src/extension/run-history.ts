// The Sandbox Monitor's runs after a window reload: rebuilt from the audit log the runs were written to
// (run_started, violation, limit_exceeded, run_finished / run_aborted), newest last. Pure (no vscode), so a
// unit test feeds it records; ctx.ts turns the result into RunRecords.
import type { AuditRecord } from '../protocol/audit';
import type { ResolvedPolicy } from '../policy/schema';
import type { Violation } from '../policy/violation';
import type { LimitEvent } from '../protocol/run-events';

export interface PastRun {
  runId: string;
  command: string[];
  cwd: string;
  workspace: string;
  startedAt: number;
  mode: string;
  profile: string;
  policy?: ResolvedPolicy;
  gitScript?: { repo: string; ref?: string; commit?: string };
  violations: Violation[];
  limits: LimitEvent[];
  finished?: Extract<AuditRecord, { type: 'run_finished' }>;
  aborted?: string;
}

/** The last `limit` runs of the records (in file order), oldest first. */
export function pastRuns(records: Iterable<AuditRecord>, limit: number): PastRun[] {
  const byId = new Map<string, PastRun>();
  const policies = new Map<string, ResolvedPolicy>();
  for (const r of records) {
    if (r.type === 'run_started') {
      if (r.policy) policies.set(r.policyDigest, r.policy);
      const policy = r.policy ?? policies.get(r.policyDigest);
      byId.set(r.runId, {
        runId: r.runId,
        command: r.command,
        cwd: r.cwd,
        workspace: r.workspace,
        startedAt: Date.parse(r.time),
        mode: r.mode,
        profile: r.profile,
        ...(policy ? { policy } : {}),
        ...(r.gitScript ? { gitScript: r.gitScript } : {}),
        violations: [],
        limits: [],
      });
      // Bounded memory over a long log: only the newest `limit` runs are kept.
      if (byId.size > limit) byId.delete(byId.keys().next().value!);
      continue;
    }
    if (!('runId' in r)) continue;
    const run = byId.get(r.runId as string);
    if (!run) continue;
    if (r.type === 'violation') run.violations.push(r.violation);
    else if (r.type === 'limit_exceeded') run.limits.push({ limit: r.limit, observed: r.observed, max: r.max, action: r.action, message: r.message });
    else if (r.type === 'run_finished') run.finished = r;
    else if (r.type === 'run_aborted') run.aborted = r.reason;
  }
  return [...byId.values()];
}
