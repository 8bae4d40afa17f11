// koffi bindings to libSystem (macOS's C library): the only place that declares C functions for
// native/darwin. Loaded only on macOS, by the launcher. Every failing call throws a SandboxError with the call
// name and errno.
//
// Apple's arm64 ABI passes variadic arguments on the stack, not in registers as on Linux, so fcntl (variadic
// in C) is declared variadic here; a fixed three-argument declaration would pass garbage as its argument.
import * as os from 'node:os';
import koffi from 'koffi';
import { SandboxError, type SandboxErrorCode } from '../../src/errors';
import type { DarwinRlimit } from './rlimit';

/** struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; }: two u64 on Darwin too (resource.h). */
export const DarwinRlimitStruct = koffi.struct('darwin_rlimit', { rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });

/**
 * struct rusage on Darwin (bsd/sys/resource.h): two struct timeval (time_t tv_sec 8 bytes, suseconds_t
 * tv_usec a 32-bit int, padded to 16), then 14 longs. ru_maxrss is in bytes on macOS (KiB on Linux).
 */
export const DarwinRusageStruct = koffi.struct('darwin_rusage', {
  ru_utime_sec: 'int64_t',
  ru_utime_usec: 'int32_t',
  ru_stime_sec: 'int64_t',
  ru_stime_usec: 'int32_t',
  ru_maxrss: 'int64_t',
  ru_ixrss: 'int64_t',
  ru_idrss: 'int64_t',
  ru_isrss: 'int64_t',
  ru_minflt: 'int64_t',
  ru_majflt: 'int64_t',
  ru_nswap: 'int64_t',
  ru_inblock: 'int64_t',
  ru_oublock: 'int64_t',
  ru_msgsnd: 'int64_t',
  ru_msgrcv: 'int64_t',
  ru_nsignals: 'int64_t',
  ru_nvcsw: 'int64_t',
  ru_nivcsw: 'int64_t',
});
export const RUSAGE_CHILDREN = -1;

export interface ChildrenUsage {
  userMs: number;
  systemMs: number;
  maxRssKiB: number;
}

/** Host side: CPU and peak RSS of the reaped children (getrusage(RUSAGE_CHILDREN)), for the run's figures. */
export function loadChildrenUsage(): () => ChildrenUsage {
  const lib = koffi.load(LIBSYSTEM_PATH);
  const c_getrusage = lib.func('getrusage', 'int', ['int', koffi.out(koffi.pointer(DarwinRusageStruct))]);
  return () => {
    const r: Record<string, number | bigint> = {};
    check('getrusage', c_getrusage(RUSAGE_CHILDREN, r));
    const n = (k: string) => Number(r[k] ?? 0);
    return {
      userMs: n('ru_utime_sec') * 1000 + n('ru_utime_usec') / 1000,
      systemMs: n('ru_stime_sec') * 1000 + n('ru_stime_usec') / 1000,
      maxRssKiB: Math.round(n('ru_maxrss') / 1024),
    };
  };
}

export const LIBSYSTEM_PATH = '/usr/lib/libSystem.B.dylib';
export const F_GETFD = 1;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
/** Darwin signals are 1..31 (NSIG 32). */
export const DARWIN_NSIG = 32;
export const SIG_SETMASK = 3;

export interface LibSystem {
  getrlimit(resource: number): DarwinRlimit;
  setrlimit(resource: number, limit: DarwinRlimit): void;
  fcntl(fd: number, cmd: number, arg?: number): number;
  setsid(): number;
  getpid(): number;
  /** SIG_DFL for a signal (the disposition a shell gives); returns false for SIGKILL/SIGSTOP (EINVAL). */
  defaultSignal(sig: number): boolean;
  clearSignalMask(): void;
  execve(file: string, argv: string[], envp: string[]): never;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([n, v]) => [v as number, n]));

function sysError(call: string, errno: number, code: SandboxErrorCode = 'SETUP_FAILED', what?: string): SandboxError {
  return new SandboxError(code, `${what ?? call} failed: ${ERRNO_NAMES.get(errno) ?? `errno ${errno}`} (${errno})`, { call, errno });
}

function check(call: string, ret: number | bigint): number {
  const r = Number(ret);
  if (r < 0) throw sysError(call, koffi.errno());
  return r;
}

export function loadLibSystem(): LibSystem {
  const lib = koffi.load(LIBSYSTEM_PATH);
  const c_getrlimit = lib.func('getrlimit', 'int', ['int', koffi.out(koffi.pointer(DarwinRlimitStruct))]);
  const c_setrlimit = lib.func('setrlimit', 'int', ['int', koffi.pointer(DarwinRlimitStruct)]);
  const c_fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
  const c_setsid = lib.func('setsid', 'int', []);
  const c_getpid = lib.func('getpid', 'int', []);
  // void (*signal(int, void (*)(int)))(int): handlers as plain integers (SIG_DFL 0, SIG_IGN 1).
  const c_signal = lib.func('signal', 'intptr_t', ['int', 'intptr_t']);
  const c_sigprocmask = lib.func('sigprocmask', 'int', ['int', koffi.pointer('uint32_t'), 'void *']);
  const c_execve = lib.func('execve', 'int', ['str', koffi.pointer('str'), koffi.pointer('str')]);
  return {
    getrlimit(resource) {
      const out: { rlim_cur?: number | bigint; rlim_max?: number | bigint } = {};
      check('getrlimit', c_getrlimit(resource, out));
      return { soft: BigInt(out.rlim_cur ?? 0), hard: BigInt(out.rlim_max ?? 0) };
    },
    setrlimit(resource, limit) {
      check('setrlimit', c_setrlimit(resource, { rlim_cur: limit.soft, rlim_max: limit.hard }));
    },
    fcntl: (fd, cmd, arg = 0) => check('fcntl', c_fcntl(fd, cmd, 'int', arg)),
    setsid: () => check('setsid', c_setsid()),
    getpid: () => c_getpid() as number,
    defaultSignal(sig) {
      return BigInt(c_signal(sig, 0)) !== -1n; // SIG_ERR is (void (*)(int))-1
    },
    clearSignalMask() {
      check('sigprocmask', c_sigprocmask(SIG_SETMASK, [0], null));
    },
    execve(file, argv, envp) {
      c_execve(file, [...argv, null], [...envp, null]);
      const errno = koffi.errno();
      const E = os.constants.errno;
      const code: SandboxErrorCode =
        errno === E.ENOENT || errno === E.ENOTDIR ? 'SCRIPT_NOT_FOUND' : errno === E.EACCES || errno === E.ENOEXEC ? 'SCRIPT_NOT_EXECUTABLE' : 'EXEC_FAILED';
      throw sysError('execve', errno, code, `execve ${file}`);
    },
  };
}
