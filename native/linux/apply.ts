// The one-way sequence, in DESIGN.md §4 order, run by the launcher just before exec. Each step is a short
// function that throws the first failure as a SandboxError; after the first restriction nothing is undone,
// so on failure the launcher reports and exits without running the script.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { ApplyHooks } from '../backend';
import type { LinuxPlan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { dropCapabilities, type CapsDropResult } from './caps';
import { applyLandlock, landlockAbi, type LandlockApplyResult } from './landlock';
import { scopeContextOf, scopeRefusal, unkeptScopes } from './landlock-scopes';
import {
  CLOSE_RANGE_CLOEXEC,
  FD_CLOEXEC,
  F_GETFD,
  F_SETFD,
  NSIG,
  PR_SET_NO_NEW_PRIVS,
  PR_SET_PDEATHSIG,
  SIGKILL,
  SIG_DFL,
  SIG_IGN,
  type Libc,
} from './libc';
import { applyNamespaces, mountPrivateDevpts } from './namespaces';
import { applyRlimits } from './rlimit';
import { loadPtyCalls } from './pty';
import { decodeProgram, installFilter } from './seccomp-load';

const E = os.constants.errno;

export interface LinuxApplyHooks extends ApplyHooks {
  /** Called after the Landlock step with what was applied (null when the plan or the kernel has none). */
  onLandlock?(result: LandlockApplyResult | null): void;
  /**
   * The pid this process must still be the child of once PR_SET_PDEATHSIG is armed; default: getppid() read
   * just before arming. Pass the host's pid when known, to also catch a host that died earlier.
   */
  parentPid?: number;
}

export function applyAndExec(plan: LinuxPlan, libc: Libc, hooks: LinuxApplyHooks = {}): never {
  const argv = cStrings('argv', plan.argv);
  const envp = cStrings('env', Object.entries(plan.env).map(([k, v]) => `${k}=${v}`));
  // Namespace stage first (before Landlock, before any capability drop): it needs CAP_SYS_ADMIN over the
  // launcher's own namespaces, and the chdir must land on the mounts it makes, not on the ones it covers.
  namespaceStep(libc, plan);
  changeDirectory(plan.cwd);
  applyRlimits(libc, plan.rlimits);
  // Landlock and unprivileged seccomp both require no_new_privs; a plan that asks for either gets it.
  if (plan.noNewPrivs || plan.landlock || plan.seccomp) setNoNewPrivs(libc);
  dieWithParent(libc, hooks.parentPid);
  ownSession(libc);
  terminalStep(plan);
  // After the terminal is attached (by its path in the host's devpts, which the private instance then
  // covers) and while CAP_SYS_ADMIN over the launcher's namespaces is still held.
  plan = devptsStep(libc, plan);
  // After every step that may need a capability, before the restrictions (which need none, only no_new_privs).
  capabilityStep(libc, plan);
  // Not `hooks.onLandlock?.(landlockStep(…))`: an absent hook would skip evaluating the step itself.
  const landlock = landlockStep(libc, plan);
  hooks.onLandlock?.(landlock);
  seccompStep(libc, plan, hooks);
  // From here on only calls every seccomp profile allows: fcntl, close_range, write, getrusage, rt_sigaction, rt_sigprocmask, execve.
  prepareFds(libc);
  // Last words to the host (the launcher's own CPU time) before the signal reset, which must come last.
  hooks.beforeExec?.();
  resetSignals(libc);
  return libc.execve(plan.file, argv, envp);
}

/** Strings for execve; a NUL would silently cut an argument short. */
function cStrings(what: string, xs: string[]): string[] {
  for (const x of xs) {
    if (x.includes('\0')) throw new SandboxError('EXEC_FAILED', `${what} entry contains a NUL byte: ${JSON.stringify(x.slice(0, 40))}`);
  }
  return xs;
}

export function changeDirectory(cwd: string): void {
  try {
    process.chdir(cwd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const errno = (E as Record<string, number | undefined>)[code];
    throw new SandboxError('SETUP_FAILED', `chdir ${cwd} failed: ${code || (e as Error).message}`, { call: 'chdir', errno });
  }
}

export function setNoNewPrivs(libc: Libc): void {
  libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/**
 * SIGKILL when the parent dies, so the tree does not outlive the host. The signal is armed only for a parent
 * alive at the time of the call: if getppid() changed meanwhile, the parent is already gone, and we stop.
 */
export function dieWithParent(libc: Libc, parentPid?: number): void {
  const parent = parentPid ?? libc.getppid();
  libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (libc.getppid() !== parent) {
    throw new SandboxError('SETUP_FAILED', `parent ${parent} exited before the parent-death signal was armed`, { call: 'getppid' });
  }
}

/** Own session and process group: no controlling terminal (no TIOCSTI into the user's shell), one kill for the tree. */
export function ownSession(libc: Libc): void {
  try {
    libc.setsid();
  } catch (e) {
    // EPERM: already a process-group leader; fine if it already leads its own session (spawned detached).
    if (e instanceof SandboxError && e.errno === E.EPERM && libc.getsid(0) === libc.getpid()) return;
    throw e;
  }
}

/**
 * The host's pty slave as the script's terminal, in the session ownSession made: before the restrictions, so
 * the open and TIOCSCTTY need no grant and no filter exception.
 */
export function terminalStep(plan: LinuxPlan): void {
  if (plan.terminal) loadPtyCalls().attach(plan.terminal.path);
}

/**
 * The namespace tier's private devpts (namespaces.ts mountPrivateDevpts). The Landlock rule on /dev/pts as a
 * whole (fs-model terminalGrants) is only safe over that private instance: without the namespace stage, or
 * when the mount is refused, the rule is dropped and the exact-path grants (multiplexers, the run's own
 * terminal) are all that is left, as in the fallback tier. Never the host's instance as a whole.
 */
/** policy/terminal-grants' DEVPTS_DIR (not imported: the launcher stays free of the policy modules; a unit test pins it). */
export const DEVPTS_RULE_PATH = '/dev/pts';

export function devptsStep(libc: Libc, plan: LinuxPlan, mount: (libc: Libc) => void = mountPrivateDevpts): LinuxPlan {
  if (plan.namespaces) {
    try {
      mount(libc);
      return plan;
    } catch (e) {
      if (!(e instanceof SandboxError)) throw e;
    }
  }
  if (!plan.landlock || !plan.landlock.rules.some((r) => r.path === DEVPTS_RULE_PATH)) return plan;
  return { ...plan, landlock: { ...plan.landlock, rules: plan.landlock.rules.filter((r) => r.path !== DEVPTS_RULE_PATH) } };
}

/**
 * Every sandboxed run (warn included) gives up every capability: a capability is no policy decision the
 * supervisor could report and let through, and a warn run with root's powers would hide what the enforce run
 * then breaks. Dropping needs no privilege, so failure means an unexpected kernel state: refuse in every mode.
 */
export function capabilityStep(libc: Libc, plan: LinuxPlan): CapsDropResult | null {
  if (!(plan.noNewPrivs || plan.landlock || plan.seccomp)) return null;
  return dropCapabilities(libc);
}

export function namespaceStep(libc: Libc, plan: LinuxPlan): void {
  if (plan.namespaces) applyNamespaces(libc, plan.namespaces);
}

export function landlockStep(libc: Libc, plan: LinuxPlan): LandlockApplyResult | null {
  if (!plan.landlock) return null;
  const abi = landlockAbi(libc);
  if (abi === null) {
    if (plan.requireLandlock) {
      throw new SandboxError('MECHANISM_UNAVAILABLE', 'this kernel has no Landlock (not built in, or disabled at boot: add "landlock" to lsm=)', {
        call: 'landlock_create_ruleset',
      });
    }
    return null;
  }
  // An ABI without scoping drops it silently: refuse in enforce unless another mechanism keeps each scope.
  const unkept = plan.requireLandlock ? unkeptScopes(plan.landlock.scopes, scopeContextOf(plan, abi)) : [];
  if (unkept.length) throw new SandboxError('MECHANISM_UNAVAILABLE', scopeRefusal(unkept, abi), { call: 'landlock_create_ruleset' });
  return applyLandlock(libc, plan.landlock, abi);
}

export function seccompStep(libc: Libc, plan: LinuxPlan, hooks: ApplyHooks): void {
  if (!plan.seccomp) return;
  const fd = installFilter(libc, decodeProgram(plan.seccomp.program), { listener: plan.seccomp.listener });
  if (fd !== null) hooks.onListener?.(fd);
}

/**
 * Every fd >= 3 close-on-exec (the control pipe, the listener, anything inherited), and close-on-exec
 * cleared on 0-2, which Node sets and which would otherwise leave the script without stdio.
 */
export function prepareFds(libc: Libc): void {
  try {
    libc.closeRange(3, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  } catch (e) {
    // ENOSYS: before 5.9; EINVAL: 5.9/5.10 without CLOSE_RANGE_CLOEXEC. Such kernels have no Landlock either,
    // so /proc/self/fd is still readable here.
    if (!(e instanceof SandboxError && (e.errno === E.ENOSYS || e.errno === E.EINVAL))) throw e;
    markCloexecByScan(libc);
  }
  for (let fd = 0; fd <= 2; fd++) {
    let flags: number;
    try {
      flags = libc.fcntl(fd, F_GETFD);
    } catch (e) {
      if (e instanceof SandboxError && e.errno === E.EBADF) continue; // not open: nothing to keep
      throw e;
    }
    if (flags & FD_CLOEXEC) libc.fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
}

function markCloexecByScan(libc: Libc): void {
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd < 3) continue;
    try {
      libc.fcntl(fd, F_SETFD, FD_CLOEXEC);
    } catch (e) {
      if (!(e instanceof SandboxError && e.errno === E.EBADF)) throw e; // the readdir fd itself, now closed
    }
  }
}

/**
 * An ignored signal stays ignored across execve (Node ignores SIGPIPE and SIGXFSZ), and so does the signal
 * mask: give the script the dispositions a shell would.
 */
export function resetSignals(libc: Libc): void {
  for (let sig = 1; sig < NSIG; sig++) {
    let old: bigint;
    try {
      old = libc.sigaction(sig, null);
    } catch (e) {
      if (e instanceof SandboxError && e.errno === E.EINVAL) continue; // glibc-reserved (32, 33)
      throw e;
    }
    if (old === SIG_IGN) libc.sigaction(sig, SIG_DFL);
  }
  libc.setSignalMask([]);
}

/**
 * resetSignals' reads, changing nothing (sigaction with no new action): a pooled launcher does them while it
 * waits for its plan, so the pass just before exec is not also the first run of that code and binding.
 */
export function warmSignalReads(libc: Libc, passes = 4): void {
  for (let i = 0; i < passes; i++) {
    for (let sig = 1; sig < NSIG; sig++) {
      try {
        libc.sigaction(sig, null);
      } catch {
        // glibc-reserved signals (EINVAL), as in resetSignals
      }
    }
  }
}
