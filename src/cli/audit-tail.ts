// script-sandbox audit tail [-f]: the last records of the audit log, one line each, and new ones as they are
// written (following rotation).
import * as fs from 'node:fs';
import { auditChainFiles } from '../audit';
import { parseAuditLine, type AuditRecord } from '../protocol/audit';
import { AuditUsageError, type AuditCliIo, type Options } from './audit-options';

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

export async function cmdTail(o: Options, io: AuditCliIo): Promise<number> {
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

export function fmtMs(ms: number | null): string {
  if (ms == null) return '?';
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function counts(m: Partial<Record<string, number>>): string {
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
