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
  /** Threads in the process (each has its own children list, see childrenOf). */
  threads?: number;
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
    threads: n(20),
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

/**
 * The processes below the given ones, from their children lists (/proc/<pid>/task/<tid>/children, one per
 * thread: a child is on the list of the thread that forked it, an adopted orphan on the one the kernel picked),
 * plus `seeds` (pids to read directly whatever their parent now: a process re-parented between the read of
 * its old parent's list and its new one's is not missed) and their descendants. Not the roots themselves. A
 * walk of a few trees instead of every process on the machine: the watchdog's poll. Processes born or
 * re-parented during the walk may be missed until the next one, as with a readdir of /proc.
 */
export function listTree(roots: readonly number[], seeds: readonly number[] = []): ProcInfo[] {
  const out: ProcInfo[] = [];
  const seen = new Set<number>(roots);
  const queue: number[] = [];
  for (const r of roots) queue.push(...childrenOf(r, null));
  queue.push(...seeds);
  for (let i = 0; i < queue.length; i++) {
    const pid = queue[i]!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const p = readProc(pid);
    if (!p) continue;
    out.push(p);
    // A zombie has no children list worth reading (its children went to a reaper when it exited).
    if (p.state !== 'Z') queue.push(...childrenOf(pid, p.threads ?? null));
  }
  return out;
}

/** Whether this kernel has /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN), which listTree needs. */
export function hasChildrenLists(): boolean {
  return fs.existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
}

/** Children of every thread of a process (threads: its thread count if known; 1 saves listing task/). */
function childrenOf(pid: number, threads: number | null): number[] {
  let tids: string[];
  try {
    tids = threads === 1 ? [String(pid)] : fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue; // the thread or process ended
    }
    for (const w of text.split(' ')) if (w) out.push(Number(w));
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

/** A shared-memory object (memfd, tmpfs/hugetlbfs file) a process holds open: (dev, ino) and its allocated size. */
export interface ShmemObject {
  /** `major:minor:ino`, the same spelling /proc/<pid>/maps uses (after decoding), to deduplicate across fds and processes. */
  key: string;
  bytes: number;
}

const TMPFS_MAGIC = 0x01021994;
const HUGETLBFS_MAGIC = 0x958458f6;
const RAMFS_MAGIC = 0x858458f6;

/**
 * Shared-memory objects a process holds through its fds: memfds and regular files on a tmpfs, hugetlbfs or
 * ramfs (/dev/shm, a tmpfs /tmp). Their pages are memory whether or not any process maps them, and an
 * unmapped one is in nobody's RSS. Looked at through /proc/<pid>/fd/N (the open file itself, so an unlinked
 * file counts too). Examines the fds numbered fromFd and up, at most maxFds of them; nextFd is where to go on
 * (null: the table was examined to its end).
 */
export function heldShmem(pid: number, fromFd: number, maxFds: number): { objects: Array<ShmemObject & { fd: number }>; scanned: number; nextFd: number | null } {
  let fds: number[];
  try {
    fds = fs
      .readdirSync(`/proc/${pid}/fd`)
      .map(Number)
      .filter((fd) => fd >= fromFd)
      .sort((a, b) => a - b);
  } catch {
    return { objects: [], scanned: 0, nextFd: null };
  }
  const take = fds.slice(0, Math.max(1, maxFds));
  const objects: Array<ShmemObject & { fd: number }> = [];
  for (const fd of take) {
    const link = `/proc/${pid}/fd/${fd}`;
    try {
      // Sockets, pipes and anon inodes read as "socket:[..]" etc.; only paths can be files on a memory fs.
      if (!fs.readlinkSync(link).startsWith('/')) continue;
      const st = fs.statSync(link, { bigint: true });
      if (!st.isFile() || st.blocks === 0n) continue;
      const type = Number(fs.statfsSync(link).type);
      if (type !== TMPFS_MAGIC && type !== HUGETLBFS_MAGIC && type !== RAMFS_MAGIC) continue;
      objects.push({ fd, key: devInoKey(st.dev, st.ino), bytes: Number(st.blocks) * 512 });
    } catch {
      // closed meanwhile, or the process is gone
    }
  }
  return { objects, scanned: take.length, nextFd: take.length < fds.length ? take[take.length - 1]! + 1 : null };
}

/**
 * What a run's private /dev/shm (namespace tier, see native/linux/namespaces.ts) holds: one statfs through
 * /proc/<pid>/root, which resolves in the process's own mount namespace. null when the process sees the
 * host's /dev/shm (fallback tier: the same device as ours) or it cannot be read. The key is `major:minor:*`
 * (the whole filesystem), so the watchdog drops the files on it it found held open (counted here already) and
 * smaps mappings of any file on it count once.
 */
export function privateShmUse(pid: number, dir = '/dev/shm'): ShmemObject | null {
  try {
    const theirs = `/proc/${pid}/root${dir}`;
    const st = fs.statSync(theirs, { bigint: true });
    if (st.dev === fs.statSync(dir, { bigint: true }).dev) return null;
    const sf = fs.statfsSync(theirs, { bigint: true });
    if (Number(sf.type) !== TMPFS_MAGIC) return null;
    const key = devInoKey(st.dev, 0n).replace(/:0$/, ':*');
    return { key, bytes: Number((sf.blocks - sf.bfree) * sf.bsize) };
  } catch {
    return null;
  }
}

/** Whether a maps key (`major:minor:ino`) is among `keys`, by itself or as a file of a whole-filesystem key (`major:minor:*`). */
export function keyAmong(keys: ReadonlySet<string>, key: string | null): boolean {
  if (key === null) return false;
  return keys.has(key) || keys.has(key.replace(/:\d+$/, ':*'));
}

/** glibc's makedev encoding (what Node's stat returns) back to major:minor, plus the inode. */
export function devInoKey(dev: bigint, ino: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}:${ino}`;
}

/** The key of a /proc/<pid>/maps line (dev as hex "MM:mm", inode decimal), or null for an anonymous mapping. */
export function mapsLineKey(line: string): string | null {
  const f = line.split(/\s+/, 6);
  const dev = f[3];
  const ino = f[4];
  if (!dev || !ino || ino === '0') return null;
  const [maj, min] = dev.split(':');
  return `${parseInt(maj ?? '', 16)}:${parseInt(min ?? '', 16)}:${ino}`;
}

/**
 * Resident bytes of a process's mappings of the given objects (the part of them its RSS counts), with its
 * whole RSS, both from one read of /proc/<pid>/smaps, so the two agree even while it maps or unmaps (the RSS
 * in /proc/<pid>/stat is read at another moment). null when smaps cannot be read.
 */
export function mappedBytesOf(pid: number, keys: ReadonlySet<string>): { mappedBytes: number; rssBytes: number } | null {
  let smaps: string;
  try {
    smaps = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  let mappedBytes = 0;
  let rssBytes = 0;
  let inside = false;
  for (const l of smaps.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) inside = keyAmong(keys, mapsLineKey(l));
    else if (l.startsWith('Rss:')) {
      const b = Number(/(\d+) kB/.exec(l)?.[1] ?? 0) * 1024;
      rssBytes += b;
      if (inside) mappedBytes += b;
    }
  }
  return { mappedBytes, rssBytes };
}
