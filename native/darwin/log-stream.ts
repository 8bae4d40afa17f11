// Live Seatbelt denials from the unified log: `log stream --style ndjson` filtered to the Sandbox kernel
// extension, one JSON object per line (PLATFORMS.md §2.3). The parser is pure; the stream is a thin spawn.
// `log stream` needs an admin account ("Must be admin to run 'stream' command", exit 77): then live file and
// network violations are reported as unavailable, never silently missing.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Violation } from '../../src/policy/violation';

export const LOG_PATH = '/usr/bin/log';
export const LOG_PREDICATE = '(sender == "Sandbox") OR (subsystem == "com.apple.sandbox.reporting")';
export const LOG_ARGS: readonly string[] = Object.freeze(['stream', '--style', 'ndjson', '--level', 'info', '--predicate', LOG_PREDICATE]);

/** One denial as the kernel logged it. */
export interface SandboxDenial {
  /** The process name the kernel logged (truncated to MAXCOMLEN by the kernel). */
  process: string;
  pid: number;
  /** The SBPL operation: file-read-data, file-write-create, network-outbound, process-exec*, mach-lookup… */
  operation: string;
  /** What it was denied on: a path, "host:port", a mach service name; may be empty. */
  target: string;
  /** The `(with message …)` text of the rule, when the log line carries it (our run id tag). */
  tag: string | null;
  /** ISO 8601 UTC, from the entry's timestamp when it parses, else null. */
  time: string | null;
}

// "Sandbox: python3(4242) deny(1) file-read-data /Users/u/.ssh/id_ed25519" (Codex's pattern, openai/codex
// seatbelt_denials); the tag of `(with message …)` follows the target after a space when present.
const MESSAGE = /^Sandbox:\s*(.+?)\((\d+)\)\s+deny\(\d+\)\s+(\S+)(?:\s+(.*))?$/;
const TAG = /\s*(script-sandbox:[A-Za-z0-9._-]+)\s*$/;

/** The denial in one eventMessage, or null when it is none. */
export function parseDenialMessage(message: string): Omit<SandboxDenial, 'time'> | null {
  const m = MESSAGE.exec(message.trim());
  if (!m) return null;
  let target = m[4] ?? '';
  let tag: string | null = null;
  const t = TAG.exec(target);
  if (t) {
    tag = t[1];
    target = target.slice(0, t.index);
  }
  return { process: m[1], pid: Number(m[2]), operation: m[3], target: target.trim(), tag };
}

/** `2026-10-09 12:00:01.123456+0000` (log's timestamp) → ISO 8601 UTC with milliseconds. */
export function logTimestampToIso(ts: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([+-]\d{2}):?(\d{2})$/.exec(ts.trim());
  if (!m) return null;
  const ms = (m[3] ?? '0').padEnd(3, '0').slice(0, 3);
  const d = new Date(`${m[1]}T${m[2]}.${ms}${m[4]}:${m[5]}`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * One line of `log stream --style ndjson`: a denial, or null for anything else (the "Filtering the log data
 * using …" banner, other Sandbox messages, a torn or non-JSON line).
 */
export function parseLogLine(line: string): SandboxDenial | null {
  const s = line.trim();
  if (!s.startsWith('{')) return null;
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const rec = o as Record<string, unknown>;
  if (typeof rec.eventMessage !== 'string') return null;
  const d = parseDenialMessage(rec.eventMessage);
  if (!d) return null;
  return { ...d, time: typeof rec.timestamp === 'string' ? logTimestampToIso(rec.timestamp) : null };
}

/** Whether `log stream` printed its start banner (it is then listening). */
export function isReadyLine(line: string): boolean {
  return line.startsWith('Filtering the log data using ');
}

function splitTarget(target: string): { address?: string; port?: number } {
  const m = /^(.*):(\d{1,5})$/.exec(target);
  if (!m) return { address: target || undefined };
  return { address: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** The normalized violation of a denial in an enforce run (Seatbelt refused the call: blocked). */
export function denialToViolation(d: SandboxDenial, runId: string, now: () => Date = () => new Date()): Violation {
  const time = d.time ?? now().toISOString();
  const base = { runId, time, action: 'blocked' as const, pid: d.pid, rule: `seatbelt:${d.operation}` };
  if (d.operation.startsWith('network-')) {
    const { address, port } = splitTarget(d.target);
    return {
      ...base,
      kind: 'network',
      severity: 'error',
      ...(address ? { address } : {}),
      ...(port !== undefined ? { port } : {}),
      message: `Blocked ${d.operation} to ${d.target || 'an address'} (${d.process}, pid ${d.pid}) — Seatbelt: not allowed by the network policy`,
    };
  }
  if (d.operation.startsWith('file-') || d.operation.startsWith('process-exec')) {
    const write = d.operation.startsWith('file-write');
    return {
      ...base,
      kind: 'file',
      severity: write ? 'error' : 'warning',
      ...(d.target ? { path: d.target, resolvedPath: d.target } : {}),
      message: `Blocked ${d.operation} ${d.target} (${d.process}, pid ${d.pid}) — Seatbelt: outside what the policy grants`,
    };
  }
  return {
    ...base,
    kind: 'syscall',
    severity: 'info',
    syscall: d.operation,
    message: `Blocked ${d.operation}${d.target ? ' ' + d.target : ''} (${d.process}, pid ${d.pid}) — Seatbelt deny default`,
  };
}

/**
 * Streams denials. `belongs(pid, tag)` decides whether a denial is the run's (the tag is our run id when the
 * kernel logged it; otherwise the pid must be one of the run's tree). onUnavailable fires once with the
 * reason when `log` cannot be read (not admin, missing, exited).
 */
export function streamDenials(opts: {
  onDenial(d: SandboxDenial): void;
  onUnavailable(reason: string): void;
  spawnLog?: () => ChildProcess;
}): { stop(): void } {
  const child = (opts.spawnLog ?? (() => spawn(LOG_PATH, [...LOG_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] })))();
  let buf = '';
  let err = '';
  let stopped = false;
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const d = parseLogLine(line);
      if (d) opts.onDenial(d);
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (err += c).length);
  child.on('error', (e) => {
    if (!stopped) opts.onUnavailable(`${LOG_PATH} could not start: ${e.message}`);
    stopped = true;
  });
  child.on('exit', (code) => {
    if (stopped) return;
    stopped = true;
    const first = err.trim().split('\n')[0] ?? '';
    opts.onUnavailable(code === 77 || /must be admin/i.test(err) ? `log stream needs an admin account (${first || 'exit 77'})` : `log stream exited (${code}): ${first}`);
  });
  return {
    stop() {
      stopped = true;
      child.kill();
    },
  };
}

interface RoutedRun {
  belongs(pid: number): boolean;
  onDenial(d: SandboxDenial): void;
  onUnavailable(reason: string): void;
}

/**
 * One `log stream` per host, shared by its runs: a denial goes to the run whose tag it carries
 * (`script-sandbox:<runId>`, the profile's `(with message …)`), else to the run whose process tree has its
 * pid. Started on the first registration; when the log cannot be read, the run registered at that moment
 * hears why once, and later runs rely on the capability report (no per-run noise).
 */
export class DenialRouter {
  private readonly runs = new Map<string, RoutedRun>();
  private stream: { stop(): void } | null = null;
  private unavailable: string | null = null;

  constructor(private readonly start: (h: { onDenial(d: SandboxDenial): void; onUnavailable(reason: string): void }) => { stop(): void } = (h) => streamDenials(h)) {}

  /** Whether the log could not be read (the reason), or null while it can (or is not started yet). */
  get unavailableReason(): string | null {
    return this.unavailable;
  }

  register(runId: string, run: RoutedRun): () => void {
    this.runs.set(runId, run);
    if (!this.stream && this.unavailable === null) {
      this.stream = this.start({
        onDenial: (d) => this.route(d),
        onUnavailable: (reason) => {
          this.unavailable = reason;
          this.stream = null;
          for (const r of this.runs.values()) r.onUnavailable(reason);
        },
      });
    }
    return () => {
      this.runs.delete(runId);
    };
  }

  private route(d: SandboxDenial): void {
    const byTag = d.tag?.startsWith('script-sandbox:') ? this.runs.get(d.tag.slice('script-sandbox:'.length)) : undefined;
    const run = byTag ?? [...this.runs.values()].find((r) => r.belongs(d.pid));
    run?.onDenial(d);
  }

  dispose(): void {
    this.stream?.stop();
    this.stream = null;
    this.runs.clear();
  }
}
