// The few libc calls the host process itself makes (not the launcher): become a child subreaper so
// daemonised descendants of a run are re-parented to us instead of init, reap them, and read children's
// resource usage.
import koffi from 'koffi';
import { openLibc } from './libc-open';

const PR_SET_CHILD_SUBREAPER = 36;
const RUSAGE_CHILDREN = -1;
const WNOHANG = 1;

export interface ChildUsage {
  userMs: number;
  systemMs: number;
  maxRssKiB: number;
}

export interface HostCalls {
  setChildSubreaper(): boolean;
  childrenUsage(): ChildUsage;
  /**
   * Reaps one specific zombie without touching libuv's own children (never waitpid(-1)). Returns the CPU it
   * and the children it waited for used (wait4's rusage), or null when nothing was reaped: a reaped orphan's
   * CPU is in no process's /proc figures any more, so the watchdog charges this to its run.
   */
  reap(pid: number): { cpuMs: number } | null;
}

export function loadHostCalls(): HostCalls {
  const lib = openLibc();
  const Timeval = koffi.struct({ tv_sec: 'long', tv_usec: 'long' });
  const Rusage = koffi.struct({
    ru_utime: Timeval,
    ru_stime: Timeval,
    ru_maxrss: 'long',
    ru_ixrss: 'long',
    ru_idrss: 'long',
    ru_isrss: 'long',
    ru_minflt: 'long',
    ru_majflt: 'long',
    ru_nswap: 'long',
    ru_inblock: 'long',
    ru_oublock: 'long',
    ru_msgsnd: 'long',
    ru_msgrcv: 'long',
    ru_nsignals: 'long',
    ru_nvcsw: 'long',
    ru_nivcsw: 'long',
  });
  const prctl = lib.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
  const getrusage = lib.func('getrusage', 'int', ['int', koffi.out(koffi.pointer(Rusage))]);
  const wait4 = lib.func('wait4', 'int', ['int', koffi.out(koffi.pointer('int')), 'int', koffi.out(koffi.pointer(Rusage))]);
  type Tv = { tv_sec: number; tv_usec: number };
  const ms = (t: Tv) => t.tv_sec * 1000 + t.tv_usec / 1000;
  return {
    setChildSubreaper: () => prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0,
    childrenUsage() {
      const r: { ru_utime: Tv; ru_stime: Tv; ru_maxrss: number } = { ru_utime: { tv_sec: 0, tv_usec: 0 }, ru_stime: { tv_sec: 0, tv_usec: 0 }, ru_maxrss: 0 };
      getrusage(RUSAGE_CHILDREN, r);
      return { userMs: ms(r.ru_utime), systemMs: ms(r.ru_stime), maxRssKiB: r.ru_maxrss };
    },
    reap(pid: number) {
      const status = [0];
      const r: { ru_utime: Tv; ru_stime: Tv } = { ru_utime: { tv_sec: 0, tv_usec: 0 }, ru_stime: { tv_sec: 0, tv_usec: 0 } };
      if (wait4(pid, status, WNOHANG, r) !== pid) return null;
      return { cpuMs: ms(r.ru_utime) + ms(r.ru_stime) };
    },
  };
}
