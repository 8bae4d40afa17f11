// What this kernel offers, found without changing anything about the calling process (the host calls it).
import * as fs from 'node:fs';
import { SandboxError } from '../../src/errors';
import { landlockAbi } from './landlock';
import { PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP, loadLibc, type Libc } from './libc';
import { SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF, actionAvailable, notifSizes } from './seccomp-load';

export interface LinuxProbe {
  /** null: no Landlock (not built in, or not in the active LSM list). */
  landlockAbi: number | null;
  /** seccomp filter mode with the ERRNO and KILL_PROCESS actions. */
  seccomp: boolean;
  seccompUserNotif: boolean;
  /** PR_SET_NO_NEW_PRIVS exists (Linux 3.5+). Probed with PR_GET_*, never set here. */
  noNewPrivs: boolean;
  userNamespaces: { available: boolean; detail: string };
  /** uname release, e.g. "6.18.44". */
  kernel: string;
}

function readTrimmed(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Runs `f`; a SandboxError (a failed call) becomes false. */
function succeeds(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof SandboxError) return false;
    throw e;
  }
}

export function probeSeccomp(libc: Libc, status: string | null): boolean {
  // The "Seccomp:" line exists only with CONFIG_SECCOMP; PR_GET_SECCOMP fails with EINVAL without it.
  if (!status || !/^Seccomp:/m.test(status)) return false;
  if (!succeeds(() => libc.prctl(PR_GET_SECCOMP))) return false;
  return actionAvailable(libc, SECCOMP_RET_ERRNO) && actionAvailable(libc, SECCOMP_RET_KILL_PROCESS);
}

export function probeSeccompUserNotif(libc: Libc): boolean {
  return succeeds(() => notifSizes(libc)) && actionAvailable(libc, SECCOMP_RET_USER_NOTIF);
}

/** Unprivileged user namespaces: not used for enforcement, reported because other sandboxes depend on them. */
export function probeUserNamespaces(read: (path: string) => string | null = readTrimmed): { available: boolean; detail: string } {
  const max = read('/proc/sys/user/max_user_namespaces');
  if (max === null) return { available: false, detail: 'not compiled into this kernel (no /proc/sys/user/max_user_namespaces)' };
  if (Number(max) <= 0) return { available: false, detail: 'disabled: user.max_user_namespaces = 0' };
  const debian = read('/proc/sys/kernel/unprivileged_userns_clone');
  if (debian !== null && debian !== '1') return { available: false, detail: 'disabled for unprivileged users: kernel.unprivileged_userns_clone = 0' };
  const apparmor = read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  if (apparmor !== null && apparmor !== '0') {
    return { available: false, detail: 'restricted by AppArmor: kernel.apparmor_restrict_unprivileged_userns = 1' };
  }
  return { available: true, detail: `max_user_namespaces = ${max}` };
}

export function probeLinux(libc: Libc = loadLibc()): LinuxProbe {
  const status = readTrimmed('/proc/self/status');
  return {
    landlockAbi: landlockAbi(libc),
    seccomp: probeSeccomp(libc, status),
    seccompUserNotif: probeSeccompUserNotif(libc),
    noNewPrivs: succeeds(() => libc.prctl(PR_GET_NO_NEW_PRIVS)),
    userNamespaces: probeUserNamespaces(),
    kernel: libc.uname().release,
  };
}
