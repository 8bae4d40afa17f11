// Reads the process table from /proc: the host watchdog's view of a run's tree. No koffi needed.
import * as fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  state: string;
  /** utime + stime of the process itself, in clock ticks. */
  cpuTicks: number;
  /** cutime + cstime: children it has waited for. */
  childCpuTicks: number;
  rssPages: number;
  startTime: number;
}

/** Parses /proc/<pid>/stat; the comm field may contain spaces and parentheses, so split at the last ')'. */
export function parseStat(text: string): ProcInfo | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state) of proc(5).
  const n = (i: number) => Number(f[i - 3]);
  return {
    pid,
    state: f[0] ?? '?',
    ppid: n(4),
    pgid: n(5),
    sid: n(6),
    cpuTicks: n(14) + n(15),
    childCpuTicks: n(16) + n(17),
    startTime: n(22),
    rssPages: n(24),
  };
}

export function readProc(pid: number): ProcInfo | null {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone
  }
}

export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

export function countFds(pid: number): number | null {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Peak resident set (VmHWM) in KiB, from /proc/<pid>/status. */
export function peakRssKiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ is 100 on every Linux ABI Node supports
export const PAGE_SIZE = 4096;
