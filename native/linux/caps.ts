// Capabilities: the launcher gives up every one before exec, so a script run as root (or by a launcher that
// holds capabilities over its own user namespace) is as powerless as any other uid, and stays so across exec.
//
// Order matters: the bounding set and the securebits need CAP_SETPCAP, so they go first; capset to zero last.
// Without CAP_SETPCAP (an ordinary unprivileged launcher) the bounding set and the securebits cannot change.
// That is safe only because of two facts this module checks instead of assuming: the permitted set ends
// empty, and no_new_privs is set. With no_new_privs, execve never grants a capability outside the old
// permitted set (the kernel intersects with it: cap_bprm_creds_from_file), whatever the bounding set says,
// whatever setuid bit or file capability the binary carries, and for uid 0 too.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { SandboxError } from '../../src/errors';
import { PR_GET_NO_NEW_PRIVS, type Libc } from './libc';

const E = os.constants.errno;

export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_GET_SECUREBITS = 27;
export const PR_SET_SECUREBITS = 28;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;
export const CAP_SETPCAP = 8;

export const SECBIT_NOROOT = 1 << 0;
export const SECBIT_NOROOT_LOCKED = 1 << 1;
export const SECBIT_NO_SETUID_FIXUP = 1 << 2;
export const SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << 3;
export const SECBIT_KEEP_CAPS_LOCKED = 1 << 5;
export const SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 6;
export const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 7;
/**
 * uid 0 gets no capabilities at exec (NOROOT), a setuid to or from 0 does not touch the sets (NO_SETUID_FIXUP),
 * keep-caps stays off, no ambient raise; all locked so the script cannot unset them.
 */
export const SECUREBITS_LOCKED =
  SECBIT_NOROOT |
  SECBIT_NOROOT_LOCKED |
  SECBIT_NO_SETUID_FIXUP |
  SECBIT_NO_SETUID_FIXUP_LOCKED |
  SECBIT_KEEP_CAPS_LOCKED |
  SECBIT_NO_CAP_AMBIENT_RAISE |
  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

/** Highest capability number the kernel knows (40 on 5.9+). */
export function capLastCap(libc: Libc, read: () => string = () => fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')): number {
  try {
    const n = Number(read().trim());
    if (Number.isInteger(n) && n >= 0 && n < 64) return n;
  } catch {
    // /proc not mounted: ask the kernel capability by capability below.
  }
  let n = 0;
  for (;;) {
    try {
      libc.prctl(PR_CAPBSET_READ, n + 1);
    } catch (e) {
      if (e instanceof SandboxError && e.errno === E.EINVAL) return n;
      throw e;
    }
    if (++n >= 63) return n;
  }
}

export interface CapsDropResult {
  /** The bounding set was emptied (false: no CAP_SETPCAP, see the module comment). */
  boundingCleared: boolean;
  /** SECUREBITS_LOCKED are all set. */
  securebitsLocked: boolean;
}

const bit = (cap: number): bigint => 1n << BigInt(cap);

/** Drops every capability of the calling thread. Throws a SandboxError when the result cannot be guaranteed. */
export function dropCapabilities(libc: Libc, lastCap: number = capLastCap(libc)): CapsDropResult {
  let sets = libc.capget();
  // A permitted CAP_SETPCAP that is not effective (e.g. after a setuid fixup) is raised so it can be used.
  if (sets.permitted & bit(CAP_SETPCAP) && !(sets.effective & bit(CAP_SETPCAP))) {
    libc.capset({ ...sets, effective: sets.effective | bit(CAP_SETPCAP) });
    sets = libc.capget();
  }
  const setpcap = (sets.effective & bit(CAP_SETPCAP)) !== 0n;

  let boundingCleared = setpcap;
  if (setpcap) {
    for (let cap = 0; cap <= lastCap; cap++) {
      try {
        libc.prctl(PR_CAPBSET_DROP, cap);
      } catch (e) {
        throw capsError(e, `prctl(PR_CAPBSET_DROP, ${cap})`);
      }
    }
  } else {
    boundingCleared = boundingEmpty(libc, lastCap);
  }

  try {
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  } catch (e) {
    // EINVAL: a kernel before 4.3, which has no ambient set to clear.
    if (!(e instanceof SandboxError && e.errno === E.EINVAL)) throw capsError(e, 'prctl(PR_CAP_AMBIENT_CLEAR_ALL)');
  }

  let securebitsLocked = false;
  const current = libc.prctl(PR_GET_SECUREBITS);
  if ((current & SECUREBITS_LOCKED) === SECUREBITS_LOCKED) securebitsLocked = true;
  else if (setpcap) {
    try {
      libc.prctl(PR_SET_SECUREBITS, current | SECUREBITS_LOCKED);
      securebitsLocked = true;
    } catch (e) {
      // EPERM: a bit we want is locked the other way by whoever started us. The empty permitted set and
      // no_new_privs below still hold; anything else is unexpected.
      if (!(e instanceof SandboxError && e.errno === E.EPERM)) throw capsError(e, 'prctl(PR_SET_SECUREBITS)');
    }
  }

  try {
    libc.capset({ effective: 0n, permitted: 0n, inheritable: 0n });
  } catch (e) {
    throw capsError(e, 'capset');
  }

  const after = libc.capget();
  if (after.effective || after.permitted || after.inheritable) {
    throw new SandboxError('SETUP_FAILED', `capabilities remain after capset: effective ${hex(after.effective)}, permitted ${hex(after.permitted)}`, { call: 'capget' });
  }
  // Without an empty bounding set (or locked NOROOT), only no_new_privs keeps exec from granting capabilities.
  if ((!boundingCleared || !securebitsLocked) && libc.prctl(PR_GET_NO_NEW_PRIVS) !== 1) {
    throw new SandboxError('SETUP_FAILED', 'capabilities could be regained at exec: the bounding set is not empty and no_new_privs is off', { call: 'prctl' });
  }
  return { boundingCleared, securebitsLocked };
}

function boundingEmpty(libc: Libc, lastCap: number): boolean {
  for (let cap = 0; cap <= lastCap; cap++) if (libc.prctl(PR_CAPBSET_READ, cap) === 1) return false;
  return true;
}

function capsError(e: unknown, call: string): SandboxError {
  if (e instanceof SandboxError) return new SandboxError('SETUP_FAILED', `dropping capabilities: ${call} failed: ${e.message}`, { call: e.call ?? call, errno: e.errno });
  return new SandboxError('SETUP_FAILED', `dropping capabilities: ${call} failed: ${(e as Error).message}`, { call });
}

const hex = (v: bigint): string => v.toString(16).padStart(16, '0');
