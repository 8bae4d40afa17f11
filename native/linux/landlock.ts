// Landlock: kernel-enforced path rules for this process and everything it execs. The kernel resolves the
// paths, so "..", symlinks and encoded names cannot be used to step around a rule.
import * as os from 'node:os';
import koffi from 'koffi';
import { SandboxError } from '../../src/errors';
import type { LandlockAccess, LandlockPlan } from '../../src/protocol/plan';
import { diskFs, expandCarveOuts, type CarveOutFs } from './carve-outs';
import { O_CLOEXEC, O_PATH, sysError, type Libc } from './libc';

export { expandCarveOuts, expandCarveOutsOnDisk, diskFs, type CarveOutFs } from './carve-outs';

// ---- uapi (include/uapi/linux/landlock.h) ----

export const LANDLOCK_CREATE_RULESET_VERSION = 1 << 0;
export const LANDLOCK_RULE_PATH_BENEATH = 1;
export const LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0;
export const LANDLOCK_SCOPE_SIGNAL = 1 << 1;

export const LANDLOCK_ACCESS_FS: Readonly<Record<LandlockAccess, number>> = {
  execute: 1 << 0,
  write_file: 1 << 1,
  read_file: 1 << 2,
  read_dir: 1 << 3,
  remove_dir: 1 << 4,
  remove_file: 1 << 5,
  make_char: 1 << 6,
  make_dir: 1 << 7,
  make_reg: 1 << 8,
  make_sock: 1 << 9,
  make_fifo: 1 << 10,
  make_block: 1 << 11,
  make_sym: 1 << 12,
  refer: 1 << 13, // ABI 2
  truncate: 1 << 14, // ABI 3
  ioctl_dev: 1 << 15, // ABI 5
};

/** The only rights a rule on a non-directory may carry; anything else gives EINVAL. */
export const LANDLOCK_FILE_ACCESS =
  LANDLOCK_ACCESS_FS.execute |
  LANDLOCK_ACCESS_FS.write_file |
  LANDLOCK_ACCESS_FS.read_file |
  LANDLOCK_ACCESS_FS.truncate |
  LANDLOCK_ACCESS_FS.ioctl_dev;

/** struct landlock_ruleset_attr; the size passed to the kernel grows with the ABI (see rulesetAttrSize). */
export const RulesetAttrStruct = koffi.struct({
  handled_access_fs: 'uint64_t',
  handled_access_net: 'uint64_t', // ABI 4
  scoped: 'uint64_t', // ABI 6
});

/** struct landlock_path_beneath_attr is __attribute__((packed)): 12 bytes. */
export const PathBeneathAttrStruct = koffi.pack({
  allowed_access: 'uint64_t',
  parent_fd: 'int32_t',
});

/** Filesystem rights the kernel knows at a given ABI. */
export function fsRightsForAbi(abi: number): number {
  if (abi < 1) return 0;
  let bits = (1 << 13) - 1; // ABI 1: EXECUTE .. MAKE_SYM
  if (abi >= 2) bits |= LANDLOCK_ACCESS_FS.refer;
  if (abi >= 3) bits |= LANDLOCK_ACCESS_FS.truncate;
  if (abi >= 5) bits |= LANDLOCK_ACCESS_FS.ioctl_dev;
  return bits;
}

/** Bytes of landlock_ruleset_attr this ABI reads: a newer field must not be passed to an older kernel. */
export function rulesetAttrSize(abi: number): number {
  if (abi >= 6) return 24;
  if (abi >= 4) return 16;
  return 8;
}

export function accessBits(names: readonly string[]): number {
  let bits = 0;
  for (const n of names) {
    const b = (LANDLOCK_ACCESS_FS as Record<string, number | undefined>)[n];
    if (b === undefined) throw new SandboxError('PROTOCOL_INVALID', `unknown Landlock access right "${n}"`);
    bits |= b;
  }
  return bits;
}

export function scopeBits(scopes: LandlockPlan['scopes'], abi: number): number {
  if (abi < 6) return 0;
  let bits = 0;
  for (const s of scopes) bits |= s === 'signal' ? LANDLOCK_SCOPE_SIGNAL : LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
  return bits;
}

export function encodeRulesetAttr(abi: number, handledFs: number, scoped: number): Buffer {
  const buf = Buffer.alloc(koffi.sizeof(RulesetAttrStruct));
  koffi.encode(buf, 0, RulesetAttrStruct, { handled_access_fs: BigInt(handledFs), handled_access_net: 0n, scoped: BigInt(scoped) });
  return buf.subarray(0, rulesetAttrSize(abi));
}

export function encodePathBeneath(allowed: number, parentFd: number, into?: Buffer): Buffer {
  const buf = into ?? Buffer.alloc(koffi.sizeof(PathBeneathAttrStruct));
  // Field by field at the packed offsets (u64 rights at 0, s32 fd at 8; little-endian on every architecture
  // with a syscall table here): koffi.encode of the struct was a third of each rule's cost in the launcher.
  buf.writeBigUInt64LE(BigInt(allowed), 0);
  buf.writeInt32LE(parentFd, 8);
  return buf;
}

/** The Landlock ABI version, or null when the kernel lacks Landlock (ENOSYS) or it is disabled (EOPNOTSUPP). */
export function landlockAbi(libc: Libc): number | null {
  try {
    return libc.landlockCreateRuleset(null, 0, LANDLOCK_CREATE_RULESET_VERSION);
  } catch (e) {
    if (e instanceof SandboxError && (e.errno === os.constants.errno.ENOSYS || e.errno === os.constants.errno.EOPNOTSUPP)) return null;
    throw e;
  }
}

export function createRuleset(libc: Libc, abi: number, handledFs: number, scoped: number): number {
  const attr = encodeRulesetAttr(abi, handledFs, scoped);
  return libc.landlockCreateRuleset(attr, attr.length, 0);
}

const AT_FDCWD = -100;
const RESOLVE_NO_SYMLINKS = 0x04;

/** struct open_how: flags u64, mode u64, resolve u64. */
function openHow(flags: number, resolve: number): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64LE(BigInt(flags), 0);
  b.writeBigUInt64LE(BigInt(resolve), 16);
  return b;
}

export type RuleOutcome = { added: true; access: number } | { added: false; reason: string };

/**
 * Adds path-beneath rules to one ruleset. A path that does not exist (or cannot be reached by this process) is
 * not an error: skipping a rule grants less, never more. Rights are cut to `handled`, and to the file rights
 * for a non-directory. The launcher adds every rule of the plan (a thousand under a busy
 * /tmp) between the plan's arrival and exec, so the per-rule work is three calls (open, add_rule, close) on
 * buffers made once. No fstat to tell a file from a directory: the kernel refuses a directory right on a
 * non-directory with EINVAL, and with the rights cut to the handled ones and flags 0 that is its only EINVAL,
 * so the refusal is answered by adding the file rights alone (what a fstat would have chosen; grants no more).
 */
export function pathRuleAdder(libc: Libc, rulesetFd: number, handled: number): (path: string, access: number, exact?: boolean) => RuleOutcome {
  const how = openHow(O_PATH | O_CLOEXEC, RESOLVE_NO_SYMLINKS);
  const attr = Buffer.alloc(koffi.sizeof(PathBeneathAttrStruct));
  const add = (allowed: number, fd: number): number => {
    encodePathBeneath(allowed, fd, attr);
    return libc.landlockAddRuleErrno(rulesetFd, LANDLOCK_RULE_PATH_BENEATH, attr, 0);
  };
  return (path, access, exact = false) => {
    let fd: number;
    try {
      // O_PATH: no read permission needed on the target, and nothing is opened for I/O. An exact path (one the
      // expansion saw canonical) is opened without following any symlink on the way (ELOOP: no rule), so a
      // name flipped to a link after the expansion cannot carry the rule to the link's target.
      fd = exact ? libc.openat2(AT_FDCWD, path, how) : libc.open(path, O_PATH | O_CLOEXEC);
    } catch (e) {
      const E = os.constants.errno;
      if (e instanceof SandboxError && (e.errno === E.ENOENT || e.errno === E.ENOTDIR || e.errno === E.EACCES || e.errno === E.ELOOP || e.errno === E.EAGAIN || e.errno === E.EXDEV)) {
        return { added: false, reason: e.message };
      }
      throw e;
    }
    try {
      let allowed = access & handled;
      // A rule with no rights is ENOMSG; it would grant nothing anyway.
      if (allowed === 0) return { added: false, reason: 'no handled right applies to this path' };
      let errno = add(allowed, fd);
      if (errno === os.constants.errno.EINVAL && (allowed & ~LANDLOCK_FILE_ACCESS) !== 0) {
        allowed &= LANDLOCK_FILE_ACCESS;
        if (allowed === 0) return { added: false, reason: 'no handled right applies to this path' };
        errno = add(allowed, fd);
      }
      if (errno !== 0) throw sysError('landlock_add_rule', errno);
      return { added: true, access: allowed };
    } finally {
      libc.close(fd);
    }
  };
}

const WARM_RULES: LandlockPlan['rules'] = ['/', '/dev/null', '/proc/self', '/nonexistent/warm-up', '/etc/hosts'].map((path) => ({ path, access: ['read_file'] }));

/**
 * Runs the rule adder on throwaway rulesets that are never applied (closed, nothing restricted): a pooled
 * launcher waiting for its plan does this so the run's first pass over its rules is not also the first
 * run of this code (koffi's call paths, V8's first compiles: the cold pass took about twice the CPU).
 * Directories, a file (given directory rights: the EINVAL retry), a missing path and a symlink (ELOOP when
 * exact), so the error paths are warm too; and the launch-time resolution of rules the compile left as named.
 */
export function warmRulePath(libc: Libc, passes = 8): void {
  const abi = landlockAbi(libc);
  if (abi === null) return;
  const handled = fsRightsForAbi(abi);
  for (let i = 0; i < passes; i++) {
    // The plan's rules the compile left unresolved are resolved here at the launch (applyLandlock): warm that too.
    expandCarveOuts(WARM_RULES, [], diskFs.readdir, diskFs.isDir, diskFs.realpath);
    const fd = createRuleset(libc, abi, handled, 0);
    try {
      const add = pathRuleAdder(libc, fd, handled);
      for (const p of ['/', '/etc/hosts', '/nonexistent/warm-up', '/proc/self']) for (const exact of [true, false]) add(p, handled, exact);
    } finally {
      libc.close(fd);
    }
  }
}

/** Requires no_new_privs (or CAP_SYS_ADMIN) on this thread; applies to this thread and what it execs. */
export function restrictSelf(libc: Libc, rulesetFd: number): void {
  libc.landlockRestrictSelf(rulesetFd, 0);
}

export interface LandlockApplyResult {
  abi: number;
  handledFs: number;
  scoped: number;
  rulesAdded: number;
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * Builds the ruleset from the plan (carve-outs expanded over `fsView`), and restricts this thread. `abi`
 * comes from landlockAbi(); the caller decides what a missing Landlock means.
 */
export function applyLandlock(libc: Libc, plan: LandlockPlan, abi: number, fsView: CarveOutFs = diskFs): LandlockApplyResult {
  const handledFs = accessBits(plan.handled) & fsRightsForAbi(abi);
  const scoped = scopeBits(plan.scopes, abi);
  const result: LandlockApplyResult = { abi, handledFs, scoped, rulesAdded: 0, skipped: [] };
  if (handledFs === 0 && scoped === 0) return result; // nothing to restrict; an empty ruleset is ENOMSG
  const rules = expandCarveOuts(plan.rules, plan.carveOuts, fsView.readdir, fsView.isDir, fsView.realpath);
  const rulesetFd = createRuleset(libc, abi, handledFs, scoped);
  try {
    const add = pathRuleAdder(libc, rulesetFd, handledFs);
    for (const rule of rules) {
      const r = add(rule.path, accessBits(rule.access), rule.exact === true);
      if (r.added) result.rulesAdded++;
      else result.skipped.push({ path: rule.path, reason: r.reason });
    }
    restrictSelf(libc, rulesetFd);
  } finally {
    libc.close(rulesetFd);
  }
  return result;
}
