// Architecture facts the filter depends on: audit arch tokens, seccomp return values, the seccomp_data layout,
// and the per-arch syscall tables. Pure data; nothing here touches the OS.
import { SYSCALLS_AARCH64 } from './syscalls-aarch64';
import { SYSCALLS_X86_64 } from './syscalls-x86_64';

export type SeccompArch = 'x86_64' | 'aarch64';

export const SECCOMP_ARCHES: readonly SeccompArch[] = Object.freeze(['x86_64', 'aarch64'] as const);

/** AUDIT_ARCH_* from include/uapi/linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = Object.freeze({
  x86_64: AUDIT_ARCH_X86_64,
  aarch64: AUDIT_ARCH_AARCH64,
});

/**
 * x32 syscalls run under AUDIT_ARCH_X86_64 with this bit set in nr, so the arch check alone does not catch
 * them; the x86_64 program kills any nr at or above it.
 */
export const X32_SYSCALL_BIT = 0x40000000;

/** SECCOMP_RET_* (include/uapi/linux/seccomp.h). The action is the high 16 bits, data the low 16. */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** The kernel clamps SECCOMP_RET_ERRNO data to MAX_ERRNO. */
export const MAX_ERRNO = 4095;

/**
 * struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; } — 64 bytes. Both
 * supported arches are little-endian, so the low 32-bit word of a 64-bit field is at the lower offset.
 */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SECCOMP_DATA_ARGS = 16;
export const SECCOMP_DATA_SIZE = 64;

/** Offset of the low 32-bit word of args[i]. */
export function argLoOffset(i: number): number {
  return SECCOMP_DATA_ARGS + 8 * i;
}

/** Offset of the high 32-bit word of args[i]. */
export function argHiOffset(i: number): number {
  return SECCOMP_DATA_ARGS + 8 * i + 4;
}

/** The seccomp arch for a Node `process.arch` value (passed in: this module never reads process state). */
export function hostArch(nodeArch: string): SeccompArch | null {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'aarch64';
  return null;
}

/** Syscall name → number for `arch`. */
export function syscallTable(arch: SeccompArch): Readonly<Record<string, number>> {
  switch (arch) {
    case 'x86_64':
      return SYSCALLS_X86_64;
    case 'aarch64':
      return SYSCALLS_AARCH64;
    default:
      throw new Error(`no syscall table for arch ${String(arch)}`);
  }
}

/** The number of `name` on `arch`, or undefined when the arch does not have that syscall. */
export function syscallNumber(arch: SeccompArch, name: string): number | undefined {
  const table = syscallTable(arch);
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

/**
 * Syscalls the kernel runs without consulting seccomp filters at all: on x86_64, uretprobe (since 6.14) and
 * uprobe (since 6.17) only work when called from the kernel's uprobe trampoline, and get SIGILL anywhere else.
 * Rules naming them compile but have no effect on those kernels.
 */
export const SECCOMP_PASSTHROUGH: Readonly<Record<SeccompArch, readonly string[]>> = Object.freeze({
  x86_64: Object.freeze(['uretprobe', 'uprobe']),
  aarch64: Object.freeze([]),
});

/**
 * Syscalls that exist only on ABIs the filter kills outright (i386: vm86, vm86old). Naming them in a rule is
 * not a typo, so they are accepted and skipped on every supported arch.
 */
const FOREIGN_ONLY_SYSCALLS: readonly string[] = Object.freeze(['vm86', 'vm86old']);

/** True when `name` is a syscall on at least one supported arch (or a known foreign-ABI-only one). */
export function isKnownSyscall(name: string): boolean {
  return FOREIGN_ONLY_SYSCALLS.includes(name) || SECCOMP_ARCHES.some((a) => syscallNumber(a, name) !== undefined);
}
