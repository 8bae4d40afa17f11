// The launcher's one-way step on macOS. The Seatbelt profile is applied by /usr/bin/sandbox-exec (fixed path,
// never PATH), which the launcher execs in place of itself: sandbox-exec compiles the profile, applies it to
// itself and execs the script, which inherits it with the rlimits set here. Why not sandbox_init through
// koffi: see README "macOS"; in short, sandbox_init with SBPL text is a deprecated call whose useful variants
// are private, and the launcher (Node, its threads, the control fd) would have to keep working inside the
// profile it just applied, irreversibly; sandbox-exec is the documented tool Codex and srt use.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import type { ApplyHooks } from '../backend';
import { SandboxError } from '../../src/errors';
import type { DarwinPlan } from './plan';
import { applyDarwinRlimits } from './rlimit';
import { DARWIN_NSIG, FD_CLOEXEC, F_GETFD, F_SETFD, type LibSystem } from './libsystem';

export const SANDBOX_EXEC = '/usr/bin/sandbox-exec';

/** The argv that runs the script under the profile. `--` ends sandbox-exec's options; the script's argv[0]
 *  becomes its path (sandbox-exec execs argv[optind] with the rest). */
export function sandboxExecArgv(plan: DarwinPlan): { file: string; argv: string[] } {
  if (plan.seatbelt === null) return { file: plan.file, argv: plan.argv };
  return { file: SANDBOX_EXEC, argv: [SANDBOX_EXEC, '-p', plan.seatbelt, '--', plan.file, ...plan.argv.slice(1)] };
}

/**
 * Compiles and applies the profile to a throw-away /usr/bin/true first, so a profile the OS rejects (exit 65,
 * syntax) or a launcher already inside a sandbox (exit 71, "forbidden-sandbox-reinit") is a typed setup error
 * before the script exists, not an odd exit code of the script.
 */
export function checkProfile(profile: string, run: typeof spawnSync = spawnSync): void {
  const r = run(SANDBOX_EXEC, ['-p', profile, '--', '/usr/bin/true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new SandboxError('MECHANISM_UNAVAILABLE', `${SANDBOX_EXEC} could not run: ${r.error.message}`, { call: 'sandbox-exec' });
  if (r.status !== 0) {
    const why = String(r.stderr ?? '').trim().split('\n')[0] ?? '';
    throw new SandboxError('SETUP_FAILED', `Seatbelt refused the profile (sandbox-exec exit ${r.status ?? r.signal}): ${why}`, { call: 'sandbox_init' });
  }
}

function changeDirectory(cwd: string): void {
  try {
    process.chdir(cwd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new SandboxError('SETUP_FAILED', `chdir ${cwd} failed: ${code || (e as Error).message}`, { call: 'chdir', errno: (os.constants.errno as Record<string, number>)[code] });
  }
}

/** Every fd >= 3 close-on-exec (Darwin has no close_range), close-on-exec cleared on 0-2 (Node sets it). */
export function prepareFds(libc: LibSystem): void {
  for (const name of fs.readdirSync('/dev/fd')) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 3) continue;
    try {
      libc.fcntl(fd, F_SETFD, FD_CLOEXEC);
    } catch (e) {
      if (!(e instanceof SandboxError && e.errno === os.constants.errno.EBADF)) throw e; // the listing's own fd
    }
  }
  for (let fd = 0; fd <= 2; fd++) {
    let flags: number;
    try {
      flags = libc.fcntl(fd, F_GETFD);
    } catch (e) {
      if (e instanceof SandboxError && e.errno === os.constants.errno.EBADF) continue;
      throw e;
    }
    if (flags & FD_CLOEXEC) libc.fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
}

export function applyDarwinAndExec(plan: DarwinPlan, libc: LibSystem, hooks: ApplyHooks = {}, check = checkProfile): never {
  for (const x of [...plan.argv, ...Object.entries(plan.env).map(([k, v]) => `${k}=${v}`)]) {
    if (x.includes('\0')) throw new SandboxError('EXEC_FAILED', `argv/env entry contains a NUL byte: ${JSON.stringify(x.slice(0, 40))}`);
  }
  if (plan.seatbelt !== null) check(plan.seatbelt);
  changeDirectory(plan.cwd);
  applyDarwinRlimits(libc, plan.rlimits);
  // Own session and process group: no controlling terminal (TIOCSTI needs one), one kill for the tree.
  try {
    libc.setsid();
  } catch (e) {
    if (!(e instanceof SandboxError && e.errno === os.constants.errno.EPERM)) throw e; // already a group leader
  }
  prepareFds(libc);
  hooks.beforeExec?.();
  for (let sig = 1; sig < DARWIN_NSIG; sig++) libc.defaultSignal(sig);
  libc.clearSignalMask();
  const { file, argv } = sandboxExecArgv(plan);
  return libc.execve(file, argv, Object.entries(plan.env).map(([k, v]) => `${k}=${v}`));
}
