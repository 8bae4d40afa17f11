// An exclusive, non-blocking lock on a file shared by several processes (the audit log's writers), and the
// process identity used to tell whether a lock holder or a log writer is still alive.
//
// Mechanism: flock(2) on a dedicated lock file, through koffi. The kernel drops the lock when the holder's
// last fd closes, which includes death by SIGKILL, so a killed writer never leaves the log locked. Only
// LOCK_EX|LOCK_NB is used: the caller polls with short sleeps and a timeout, so the event loop never sits
// in a blocking flock. The flock declaration lives here rather than in libc.ts because the audit log runs in
// the host and the CLI, which should not bind the launcher's whole libc surface to take a lock.
//
// Fallback, only when flock cannot be used (libc not loadable through koffi, or a file system answering
// ENOLCK/EINVAL/EOPNOTSUPP): an O_CREAT|O_EXCL lock file holding the owner's identity. A holder that died
// leaves the file behind, so a waiter removes it when the identity it names is provably dead (pid gone, or
// the pid now belongs to a process with another start time). Breaking a stale lock has a tiny race (two
// waiters judging the same stale file); it is re-checked after the rename, and it is a fallback only.
import * as fs from 'node:fs';
import * as os from 'node:os';
import koffi from 'koffi';
import { openLibc } from './libc-open';
import { readProc, CLOCK_TICKS_PER_SECOND } from './procfs';
import { SandboxError } from '../../src/errors';

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const { EWOULDBLOCK, EAGAIN, EINTR, ENOLCK, EINVAL, EOPNOTSUPP, ENOTSUP, ENOSYS, ESRCH, EPERM } = os.constants.errno;
const FLOCK_UNSUPPORTED = new Set([ENOLCK, EINVAL, EOPNOTSUPP, ENOTSUP, ENOSYS]);

/** Who a process is, precisely enough to survive pid reuse: pid + boot + start time in ticks. */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** ISO 8601 UTC, milliseconds. */
  startedAt: string;
  bootId?: string;
  startTicks?: number;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

function readBootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function bootTimeSeconds(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The identity of a running process (this one by default). */
export function processIdentity(pid: number = process.pid): ProcessIdentity {
  const host = os.hostname();
  const info = readProc(pid);
  const btime = bootTimeSeconds();
  if (info && Number.isFinite(info.startTime) && btime != null) {
    const ms = btime * 1000 + Math.round((info.startTime * 1000) / CLOCK_TICKS_PER_SECOND);
    return { pid, host, startedAt: new Date(ms).toISOString(), bootId: readBootId(), startTicks: info.startTime };
  }
  // No /proc (not Linux): pid + start time as Node knows it; liveness then falls back to kill(pid, 0).
  const started = pid === process.pid ? Date.now() - process.uptime() * 1000 : Date.now();
  return { pid, host, startedAt: new Date(Math.floor(started)).toISOString() };
}

/**
 * Whether the process an identity names still runs. 'unknown' when it cannot be judged from here (another
 * host); callers must treat 'unknown' as alive. A zombie counts as dead: it will never write again.
 */
export function processLiveness(id: ProcessIdentity): Liveness {
  if (id.host !== os.hostname()) return 'unknown';
  const bootNow = readBootId();
  if (id.bootId && bootNow && id.bootId !== bootNow) return 'dead';
  if (id.startTicks != null && readProc(process.pid)) {
    const p = readProc(id.pid);
    if (!p) return 'dead';
    if (p.state === 'Z' || p.state === 'X') return 'dead';
    return p.startTime === id.startTicks ? 'alive' : 'dead';
  }
  try {
    process.kill(id.pid, 0);
    return 'alive'; // without a start time a reused pid looks alive: the safe mistake
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || errno === -ESRCH) return 'dead';
    if (code === 'EPERM' || errno === -EPERM) return 'alive';
    return 'unknown';
  }
}

export interface FileLock {
  readonly mechanism: 'flock' | 'lockfile';
  /** Takes the lock if it is free; never blocks. */
  tryAcquire(): boolean;
  release(): void;
  close(): void;
}

type FlockFn = (fd: number, op: number) => number;

function bindFlock(): FlockFn | null {
  try {
    return openLibc().func('int flock(int fd, int operation)') as FlockFn;
  } catch {
    return null;
  }
}

/** Opens (creating) the lock file `lockPath`; `owner` is written into fallback lock files. */
export function openFileLock(lockPath: string, owner: ProcessIdentity = processIdentity()): FileLock {
  const flock = bindFlock();
  if (flock) {
    // libuv opens every fd close-on-exec, so no script or launcher inherits the lock.
    const fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    // Probe once: a file system without flock support answers at the first call, not later.
    const probe = tryFlock(flock, fd, LOCK_EX | LOCK_NB);
    if (probe !== 'unsupported') {
      if (probe === 'taken') tryFlock(flock, fd, LOCK_UN);
      return flockLock(flock, fd, lockPath);
    }
    fs.closeSync(fd);
  }
  return exclusiveFileLock(`${lockPath}.excl`, owner);
}

function tryFlock(flock: FlockFn, fd: number, op: number): 'taken' | 'busy' | 'unsupported' {
  for (;;) {
    if (flock(fd, op) === 0) return 'taken';
    const errno = koffi.errno();
    if (errno === EINTR) continue;
    if (errno === EWOULDBLOCK || errno === EAGAIN) return 'busy';
    if (FLOCK_UNSUPPORTED.has(errno)) return 'unsupported';
    throw new SandboxError('IO_FAILED', `flock failed: errno ${errno}`, { call: 'flock', errno });
  }
}

function flockLock(flock: FlockFn, fd: number, lockPath: string): FileLock {
  let held = false;
  let open = true;
  return {
    mechanism: 'flock',
    tryAcquire() {
      if (!open) throw new SandboxError('IO_FAILED', `lock ${lockPath} is closed`);
      if (held) return true;
      const r = tryFlock(flock, fd, LOCK_EX | LOCK_NB);
      if (r === 'unsupported') throw new SandboxError('IO_FAILED', `flock on ${lockPath} stopped working`, { call: 'flock' });
      held = r === 'taken';
      return held;
    },
    release() {
      if (!held) return;
      held = false;
      tryFlock(flock, fd, LOCK_UN);
    },
    close() {
      if (!open) return;
      open = false;
      held = false;
      fs.closeSync(fd); // closing the last fd also drops the lock
    },
  };
}

/** The O_EXCL fallback (exported for tests; openFileLock picks it only when flock is unusable). */
export function exclusiveFileLock(file: string, owner: ProcessIdentity): FileLock {
  let held = false;
  const content = JSON.stringify(owner);
  const breakIfStale = (): void => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return; // gone meanwhile
    }
    let holder: ProcessIdentity;
    try {
      holder = JSON.parse(text) as ProcessIdentity;
    } catch {
      // Torn by a holder killed between create and write: stale once it is old enough to not be in progress.
      try {
        if (Date.now() - fs.statSync(file).mtimeMs < 2000) return;
      } catch {
        return;
      }
      holder = { pid: -1, host: os.hostname(), startedAt: '' };
    }
    if (holder.pid !== -1 && processLiveness(holder) !== 'dead') return;
    const aside = `${file}.stale.${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      return;
    }
    // Another waiter may have broken the stale lock and taken a fresh one between our read and rename.
    if (fs.readFileSync(aside, 'utf8') !== text) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // someone holds the lock again; theirs wins
      }
    }
    fs.rmSync(aside, { force: true });
  };
  return {
    mechanism: 'lockfile',
    tryAcquire() {
      if (held) return true;
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
          try {
            fs.writeSync(fd, content);
          } finally {
            fs.closeSync(fd);
          }
          held = true;
          return true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          if (attempt === 0) breakIfStale();
        }
      }
      return false;
    },
    release() {
      if (!held) return;
      held = false;
      fs.rmSync(file, { force: true });
    },
    close() {
      this.release();
    },
  };
}
