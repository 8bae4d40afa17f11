// script-sandbox audit tail | stats | verify: reading the workspace's audit log. Read-only: nothing here
// takes the writers' lock or changes a file, so it is safe next to running hosts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { auditChainFiles, readAuditRecords, verifyAuditFile } from '../audit';
import { violationStats, type ViolationStats, type Count } from '../host/monitor';
import { parseAuditLine, type AuditRecord } from '../protocol/audit';
import type { Violation } from '../policy/violation';
import { HelpRequest, parseCommand, UsageError, type CommandSpec, type OptionSpec } from './parse';

export const AUDIT_HELP = `script-sandbox audit — the workspace's audit log (default <workspace>/.sandbox/audit.jsonl)

  script-sandbox audit tail [-n N] [--follow] [--json]   the last N records (default 20); --follow waits for more
  script-sandbox audit stats [--since 1h|30m|2d] [--json] runs, violations, limits and usage
  script-sandbox audit verify [FILE]                       check the keyed chain; exit 1 at the first broken line,
                                                           3 when the log is intact but unkeyed (older format)

  --file F          the log to read (rotated siblings F.1, F.2, … are found next to it)
  --workspace DIR   the workspace whose .sandbox/audit.jsonl to read (default: the current directory)`;

export interface AuditCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  now: () => number;
  /** Ends `tail --follow`; by default SIGINT/SIGTERM do. */
  signal?: AbortSignal;
  /** Poll interval of `tail --follow`, ms. */
  pollMs?: number;
}

class AuditUsageError extends Error {}

interface Options {
  file: string;
  n: number;
  follow: boolean;
  json: boolean;
  sinceMs: number | null;
  positional: string[];
}

/** "90s", "30m", "1h", "2d", "1w" → ms. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(s.trim());
  if (!m) throw new AuditUsageError(`--since takes a duration like 30m, 1h or 2d, got "${s}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

const LOG_OPTIONS: Record<string, OptionSpec> = {
  file: { type: 'string', value: 'FILE', help: 'the log to read (rotated siblings FILE.1, FILE.2, … are found next to it)' },
  workspace: { type: 'string', value: 'DIR', help: 'the workspace whose .sandbox/audit.jsonl to read (default: the current directory)' },
};
const AUDIT_SPECS: Record<'tail' | 'stats' | 'verify', CommandSpec> = {
  tail: {
    name: 'audit tail',
    summary: 'The last N records of the audit log, as lines for people (or raw JSON).',
    options: {
      lines: { type: 'string', short: 'n', value: 'N', help: 'how many records (default 20)' },
      follow: { type: 'boolean', short: 'f', help: 'keep printing new records as they come' },
      json: { type: 'boolean', help: 'raw JSON Lines' },
      ...LOG_OPTIONS,
    },
    positionals: 'any',
  },
  stats: {
    name: 'audit stats',
    summary: 'Runs, violations, limits and resource usage from the audit log.',
    options: { since: { type: 'string', value: 'DURATION', help: 'only records newer than this: 90s, 30m, 1h, 2d, 1w' }, json: { type: 'boolean', help: 'as JSON' }, ...LOG_OPTIONS },
    positionals: 'any',
  },
  verify: {
    name: 'audit verify',
    operands: '[FILE]',
    summary: 'Checks the keyed chain of the log: exit 0 intact, 1 at the first broken line, 3 intact but unkeyed (older format).',
    options: LOG_OPTIONS,
    positionals: 'any',
  },
};

/** One parser for every subcommand (parse.ts); its usage errors are this module's. */
function parseOptions(argv: string[], cwd: string, sub: 'tail' | 'stats' | 'verify'): Options {
  let p: ReturnType<typeof parseCommand>;
  try {
    p = parseCommand(AUDIT_SPECS[sub], argv);
  } catch (e) {
    if (e instanceof UsageError) throw new AuditUsageError(e.message);
    throw e;
  }
  const v = p.values as { file?: string; workspace?: string; lines?: string; follow?: boolean; json?: boolean; since?: string };
  const o: Options = { file: '', n: 20, follow: v.follow === true, json: v.json === true, sinceMs: v.since !== undefined ? parseDuration(v.since) : null, positional: p.positionals };
  if (v.lines !== undefined) {
    const n = Number(v.lines);
    if (!/^\d+$/.test(v.lines.trim()) || !Number.isInteger(n) || n < 0) throw new AuditUsageError(`--lines takes a whole number, got "${v.lines}"`);
    o.n = n;
  }
  o.file = path.resolve(cwd, v.file ?? path.join(path.resolve(cwd, v.workspace ?? cwd), '.sandbox', 'audit.jsonl'));
  return o;
}

export async function runAuditCommand(argv: string[], ioIn: Partial<AuditCliIo> = {}): Promise<number> {
  const io: AuditCliIo = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    cwd: process.cwd(),
    now: Date.now,
    ...ioIn,
  };
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'tail':
        return await cmdTail(parseOptions(rest, io.cwd, 'tail'), io);
      case 'stats':
        return cmdStats(parseOptions(rest, io.cwd, 'stats'), io);
      case 'verify': {
        const o = parseOptions(rest, io.cwd, 'verify');
        if (o.positional.length > 1) throw new AuditUsageError('verify takes at most one FILE');
        return cmdVerify(o.positional[0] ? path.resolve(io.cwd, o.positional[0]) : o.file, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(`${AUDIT_HELP}\n`);
        return sub === undefined ? 2 : 0;
      default:
        throw new AuditUsageError(`unknown audit command "${sub}" (tail, stats, verify)`);
    }
  } catch (e) {
    if (e instanceof HelpRequest) {
      io.stdout(`${e.text}\n`);
      return 0;
    }
    if (e instanceof AuditUsageError) {
      io.stderr(`script-sandbox audit: ${e.message}\n${AUDIT_HELP}\n`);
      return 2;
    }
    throw e;
  }
}

// ---- verify ----

function cmdVerify(file: string, io: AuditCliIo): number {
  const r = verifyAuditFile(file);
  const range = r.lines ? `, seq ${r.firstSeq}..${r.lastSeq}` : '';
  if (r.unkeyed) {
    // Intact but not keyed: anyone who could write the file could have rewritten and re-hashed it.
    io.stdout(`unkeyed (older format): ${r.lines} line${r.lines === 1 ? '' : 's'} in ${r.files.length} file${r.files.length === 1 ? '' : 's'}${range}; the hash chain is intact but carries no key, so it cannot show that the lines are unchanged\n`);
    return 3;
  }
  if (!r.ok) {
    const b = r.firstBroken!;
    io.stdout(b.line > 0 ? `line ${b.line} of ${b.file}: ${b.reason}\n` : `${b.file}: ${b.reason}\n`);
    return 1;
  }
  io.stdout(`ok: ${r.lines} line${r.lines === 1 ? '' : 's'} in ${r.files.length} file${r.files.length === 1 ? '' : 's'}${range}, chain intact\n`);
  if (r.lines && !r.anchored) io.stdout(`note: the chain starts at seq ${r.firstSeq}: older lines were rotated out\n`);
  if (r.unkeyedLines) io.stdout(`note: the first ${r.unkeyedLines} line${r.unkeyedLines === 1 ? ' is' : 's are'} in the older unkeyed format; the first keyed line after them pins their hashes\n`);
  if (r.incompleteTail) io.stdout(`note: ${r.incompleteTail.file} ends in an incomplete line (${r.incompleteTail.bytes} bytes) left by a writer that died mid-write; the next writer cuts it off\n`);
  return 0;
}

// ---- tail ----

/** The last n complete lines of the chain, oldest first. */
function lastLines(file: string, n: number): string[] {
  const out: string[] = [];
  const files = auditChainFiles(file).reverse();
  for (const f of files) {
    if (out.length >= n) break;
    const text = fs.readFileSync(f, 'utf8');
    const lines = text.split('\n');
    lines.pop(); // after the last newline: empty, or an incomplete line
    out.unshift(...lines.slice(Math.max(0, lines.length - (n - out.length))));
  }
  return out;
}

async function cmdTail(o: Options, io: AuditCliIo): Promise<number> {
  if (o.positional.length) throw new AuditUsageError(`tail takes no argument "${o.positional[0]}" (use --file)`);
  if (!o.follow && !fs.existsSync(o.file) && !auditChainFiles(o.file).length) {
    io.stderr(`script-sandbox audit: no audit log at ${o.file}\n`);
    return 1;
  }
  const print = (line: string) => io.stdout(`${o.json ? line : formatLine(line)}\n`);
  for (const l of lastLines(o.file, o.n)) print(l);
  if (!o.follow) return 0;
  await follow(o.file, print, io);
  return 0;
}

/** Polls the file for new complete lines, following rotation (a new inode) from its start. */
async function follow(file: string, print: (line: string) => void, io: AuditCliIo): Promise<void> {
  const controller = new AbortController();
  const signal = io.signal ?? controller.signal;
  const stop = () => controller.abort();
  if (!io.signal) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  let fd: number | null = null;
  let ino = -1;
  let offset = 0;
  let partial = '';
  const open = (fromEnd: boolean) => {
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      fd = null;
      return;
    }
    const st = fs.fstatSync(fd);
    ino = st.ino;
    // Start after the last complete line already printed; an incomplete tail is read when it completes.
    offset = fromEnd ? lastNewlineEnd(fd, st.size) : 0;
    partial = '';
  };
  const drain = () => {
    if (fd == null) return;
    const size = fs.fstatSync(fd).size;
    if (size < offset) offset = lastNewlineEnd(fd, size); // cut back by a writer repairing a torn line
    while (offset < size) {
      const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      partial += buf.subarray(0, n).toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l) print(l);
    }
  };
  open(true);
  try {
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, io.pollMs ?? 250);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      drain();
      let now: fs.Stats | null = null;
      try {
        now = fs.statSync(file);
      } catch {
        // rotated away and not recreated yet
      }
      if (now && now.ino !== ino) {
        drain(); // the rest of the rotated file first
        if (fd != null) fs.closeSync(fd);
        open(false);
        drain();
      }
    }
  } finally {
    if (fd != null) fs.closeSync(fd);
    if (!io.signal) {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}

function lastNewlineEnd(fd: number, size: number): number {
  const window = Math.min(size, 1 << 20);
  if (!window) return 0;
  const buf = Buffer.alloc(window);
  fs.readSync(fd, buf, 0, window, size - window);
  const nl = buf.lastIndexOf(0x0a);
  return nl < 0 ? size - window : size - window + nl + 1;
}

function fmtMs(ms: number | null): string {
  if (ms == null) return '?';
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function counts(m: Partial<Record<string, number>>): string {
  const parts = Object.entries(m)
    .filter(([, n]) => n)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** One human line per record. */
export function formatRecord(r: AuditRecord): string {
  const head = `${r.time} #${r.seq}`;
  switch (r.type) {
    case 'host_started':
      return `${head} ${r.component} started (pid ${r.writer.pid}${r.version ? `, ${r.version}` : ''})`;
    case 'host_stopped':
      return `${head} stopped (pid ${r.writer.pid}${r.reason ? `: ${r.reason}` : ''})`;
    case 'run_started':
      return `${head} run ${r.runId} started: ${r.command.join(' ')}  [${r.mode}/${r.profile}] in ${r.cwd}${r.gitScript ? ` from ${r.gitScript.repo}${r.gitScript.commit ? `@${r.gitScript.commit.slice(0, 12)}` : ''}` : ''}`;
    case 'violation': {
      const v = r.violation;
      return `${head} run ${r.runId} ${v.action} ${v.severity} ${v.kind}: ${v.message} [${v.rule}]`;
    }
    case 'limit_exceeded':
      return `${head} run ${r.runId} limit ${r.limit} ${r.action}: ${r.message}`;
    case 'env_filtered':
      return `${head} run ${r.runId} environment: removed ${r.removed.length} variable${r.removed.length === 1 ? '' : 's'} (${r.removed.join(', ')})`;
    case 'run_finished': {
      const how = r.setupError ? `setup failed (${r.setupError.code}): ${r.setupError.message}` : r.signal ? `killed by ${r.signal} (exit ${r.exitCode})` : `exit ${r.exitCode}`;
      return `${head} run ${r.runId} finished: ${how} after ${fmtMs(r.durationMs)}, cpu ${fmtMs(r.cpuUserMs)} user / ${fmtMs(r.cpuSystemMs)} sys, max rss ${r.maxRssKiB != null ? `${Math.round(r.maxRssKiB / 1024)} MiB` : '?'}; violations: ${counts(r.violations)}`;
    }
    case 'run_aborted':
      return `${head} run ${r.runId} aborted: ${r.reason}`;
    case 'policy_error':
      return `${head} policy error in ${r.source}: ${r.message}`;
    case 'log_repaired':
      return `${head} log repaired: ${r.reason} (${r.removedBytes} bytes)`;
    case 'log_regressed':
      return `${head} LOG REGRESSED: ${r.reason}`;
  }
}

function formatLine(line: string): string {
  const p = parseAuditLine(line);
  return p.ok ? formatRecord(p.record) : `(unreadable line: ${p.reason}) ${line.slice(0, 200)}`;
}

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

function cmdStats(o: Options, io: AuditCliIo): number {
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
