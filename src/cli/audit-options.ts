// The audit command's flags, its help and the I/O it writes through (tests pass their own).
import * as path from 'node:path';

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

export function parseOptions(argv: string[], cwd: string): Options {
  let file: string | null = null;
  let workspace = cwd;
  const o: Options = { file: '', n: 20, follow: false, json: false, sinceMs: null, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new AuditUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--file':
        file = value();
        break;
      case '--workspace':
        workspace = value();
        break;
      case '-n':
      case '--lines': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new AuditUsageError(`${flag} takes a whole number, got "${v}"`);
        o.n = n;
        break;
      }
      case '-f':
      case '--follow':
        o.follow = true;
        break;
      case '--json':
        o.json = true;
        break;
      case '--since':
        o.sinceMs = parseDuration(value());
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new AuditUsageError(`unknown option ${a}`);
        o.positional.push(a);
    }
  }
  o.file = path.resolve(cwd, file ?? path.join(path.resolve(cwd, workspace), '.sandbox', 'audit.jsonl'));
  return o;
}
