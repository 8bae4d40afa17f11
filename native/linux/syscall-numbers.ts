// Numbers of the syscalls glibc has no wrapper for (or only a recent one), per architecture.
import { SandboxError } from '../../src/errors';

/** Syscalls glibc has no wrapper for (or only a recent one), per architecture. Keyed by process.arch. */
export interface SyscallNumbers {
  seccomp: number;
  landlock_create_ruleset: number;
  landlock_add_rule: number;
  landlock_restrict_self: number;
  pidfd_open: number;
  pidfd_getfd: number;
  pidfd_send_signal: number;
  close_range: number;
  open_tree: number;
  move_mount: number;
  mount_setattr: number;
}

export const SYSCALL_NUMBERS: Readonly<Record<'x64' | 'arm64', Readonly<SyscallNumbers>>> = {
  // arch/x86/entry/syscalls/syscall_64.tbl
  x64: {
    seccomp: 317,
    landlock_create_ruleset: 444,
    landlock_add_rule: 445,
    landlock_restrict_self: 446,
    pidfd_open: 434,
    pidfd_getfd: 438,
    pidfd_send_signal: 424,
    close_range: 436,
    open_tree: 428,
    move_mount: 429,
    mount_setattr: 442,
  },
  // include/uapi/asm-generic/unistd.h (aarch64 uses the generic table)
  arm64: {
    seccomp: 277,
    landlock_create_ruleset: 444,
    landlock_add_rule: 445,
    landlock_restrict_self: 446,
    pidfd_open: 434,
    pidfd_getfd: 438,
    pidfd_send_signal: 424,
    close_range: 436,
    open_tree: 428,
    move_mount: 429,
    mount_setattr: 442,
  },
};

export function syscallNumbers(arch: string = process.arch): Readonly<SyscallNumbers> {
  if (arch === 'x64' || arch === 'arm64') return SYSCALL_NUMBERS[arch];
  throw new SandboxError('PLATFORM_UNSUPPORTED', `no syscall table for architecture ${arch}`);
}
