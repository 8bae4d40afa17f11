// script-sandbox audit stats: counts of runs, violations and limits in the audit log, with the most blocked
// targets, since a point in time.
import { auditChainFiles, readAuditRecords } from '../audit';
import { violationStats, type ViolationStats, type Count } from '../host/monitor';
import type { AuditRecord } from '../protocol/audit';
import type { Violation } from '../policy/violation';
import { AuditUsageError, type AuditCliIo, type Options } from './audit-options';
import { counts, fmtMs } from './audit-tail';

// ---- stats ----

export interface AuditStats {
  file: string;
  files: number;
  records: number;
  since: string | null;
  runs: { started: number; finished: number; succeeded: number; failed: number; aborted: number; open: number; timedOut: number; cancelled: number };
  violations: ViolationStats;
  limits: Record<string, number>;
  usage: { wallMs: number; cpuUserMs: number; cpuSystemMs: number; maxRssKiB: number | null };
  policyErrors: number;
  /** Incomplete lines cut off after a writer died, and chains found shorter than a writer had seen them. */
  integrity: { repaired: number; regressed: number };
}

export function auditStats(records: AuditRecord[], file: string, files: number, sinceTime: number | null): AuditStats {
  const rs = sinceTime == null ? records : records.filter((r) => Date.parse(r.time) >= sinceTime);
  const s: AuditStats = {
    file,
    files,
    records: rs.length,
    since: sinceTime == null ? null : new Date(sinceTime).toISOString(),
    runs: { started: 0, finished: 0, succeeded: 0, failed: 0, aborted: 0, open: 0, timedOut: 0, cancelled: 0 },
    violations: violationStats([]),
    limits: {},
    usage: { wallMs: 0, cpuUserMs: 0, cpuSystemMs: 0, maxRssKiB: null },
    policyErrors: 0,
    integrity: { repaired: 0, regressed: 0 },
  };
  const open = new Set<string>();
  const violations: Violation[] = [];
  for (const r of rs) {
    switch (r.type) {
      case 'run_started':
        s.runs.started++;
        open.add(r.runId);
        break;
      case 'run_finished':
        s.runs.finished++;
        open.delete(r.runId);
        if (r.exitCode === 0) s.runs.succeeded++;
        else s.runs.failed++;
        if (r.timedOut) s.runs.timedOut++;
        if (r.cancelled) s.runs.cancelled++;
        s.usage.wallMs += r.durationMs;
        s.usage.cpuUserMs += r.cpuUserMs ?? 0;
        s.usage.cpuSystemMs += r.cpuSystemMs ?? 0;
        if (r.maxRssKiB != null) s.usage.maxRssKiB = Math.max(s.usage.maxRssKiB ?? 0, r.maxRssKiB);
        break;
      case 'run_aborted':
        s.runs.aborted++;
        open.delete(r.runId);
        break;
      case 'violation':
        violations.push(r.violation);
        break;
      case 'limit_exceeded':
        s.limits[r.limit] = (s.limits[r.limit] ?? 0) + 1;
        break;
      case 'policy_error':
        s.policyErrors++;
        break;
      case 'log_repaired':
        s.integrity.repaired++;
        break;
      case 'log_regressed':
        s.integrity.regressed++;
        break;
    }
  }
  s.runs.open = open.size;
  s.violations = violationStats(violations);
  return s;
}

export function cmdStats(o: Options, io: AuditCliIo): number {
  if (o.positional.length) throw new AuditUsageError(`stats takes no argument "${o.positional[0]}" (use --file)`);
  const files = auditChainFiles(o.file);
  if (!files.length) {
    io.stderr(`script-sandbox audit: no audit log at ${o.file}\n`);
    return 1;
  }
  const s = auditStats(readAuditRecords(o.file), o.file, files.length, o.sinceMs == null ? null : io.now() - o.sinceMs);
  if (o.json) {
    io.stdout(`${JSON.stringify(s, null, 2)}\n`);
    return 0;
  }
  const rows: Array<[string, string]> = [];
  const v = s.violations;
  rows.push(['log', `${s.file} (${s.files} file${s.files === 1 ? '' : 's'}, ${s.records} records${s.since ? ` since ${s.since}` : ''})`]);
  rows.push(['runs', `${s.runs.started} started, ${s.runs.finished} finished (${s.runs.succeeded} exit 0, ${s.runs.failed} failed, ${s.runs.timedOut} timed out, ${s.runs.cancelled} cancelled), ${s.runs.aborted} aborted, ${s.runs.open} open`]);
  rows.push(['violations', `${v.total} in ${v.runs} run${v.runs === 1 ? '' : 's'}`]);
  rows.push(['  by kind', counts(v.byKind)]);
  rows.push(['  by severity', counts(v.bySeverity)]);
  rows.push(['  by action', counts(v.byAction)]);
  rows.push(['  by rule', list(v.byRule.slice(0, 10))]);
  rows.push(['blocked hosts', list(v.topBlockedHosts)]);
  rows.push(['blocked paths', list(v.topBlockedPaths)]);
  rows.push(['limits exceeded', counts(s.limits)]);
  rows.push(['usage', `wall ${fmtMs(s.usage.wallMs)}, cpu ${fmtMs(s.usage.cpuUserMs)} user / ${fmtMs(s.usage.cpuSystemMs)} sys, peak rss ${s.usage.maxRssKiB != null ? `${Math.round(s.usage.maxRssKiB / 1024)} MiB` : '?'}`]);
  rows.push(['policy errors', String(s.policyErrors)]);
  rows.push(['log integrity', `${s.integrity.repaired} incomplete line${s.integrity.repaired === 1 ? '' : 's'} cut after a writer died, ${s.integrity.regressed} regression${s.integrity.regressed === 1 ? '' : 's'} (lines removed)`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, val] of rows) io.stdout(`${k.padEnd(w)}  ${val}\n`);
  return 0;
}

function list(cs: Count[]): string {
  return cs.length ? cs.map((c) => `${c.key} (${c.count})`).join(', ') : 'none';
}
