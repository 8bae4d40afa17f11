// The audit command's flags, its help and the I/O it writes through (tests pass their own).
import * as path from 'node:path';
import { parseCommand, UsageError, type CommandSpec, type OptionSpec } from './parse';

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

export class AuditUsageError extends Error {}

export interface Options {
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
export function parseOptions(argv: string[], cwd: string, sub: 'tail' | 'stats' | 'verify'): Options {
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
