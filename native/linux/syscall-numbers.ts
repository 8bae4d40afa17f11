// Numbers of the syscalls glibc has no wrapper for (or only a recent one), per architecture, taken from the
// seccomp syscall tables so that the filter and the bindings cannot disagree on a number.
import { SandboxError } from '../../src/errors';
import { SYSCALLS_AARCH64 } from './seccomp/syscalls-aarch64';
import { SYSCALLS_X86_64 } from './seccomp/syscalls-x86_64';

const NAMES = [
  'seccomp',
  'landlock_create_ruleset',
  'landlock_add_rule',
  'landlock_restrict_self',
  'pidfd_open',
  'pidfd_getfd',
  'pidfd_send_signal',
  'close_range',
  'open_tree',
  'move_mount',
  'mount_setattr',
  'openat2',
] as const;

/** Syscalls glibc has no wrapper for (or only a recent one), per architecture. Keyed by process.arch. */
export type SyscallNumbers = Record<(typeof NAMES)[number], number>;

function pick(table: Readonly<Record<string, number>>, arch: string): Readonly<SyscallNumbers> {
  const out = {} as SyscallNumbers;
  for (const name of NAMES) {
    const nr = table[name];
    if (nr === undefined) throw new Error(`internal: the ${arch} syscall table has no ${name}`);
    out[name] = nr;
  }
  return Object.freeze(out);
}

export const SYSCALL_NUMBERS: Readonly<Record<'x64' | 'arm64', Readonly<SyscallNumbers>>> = {
  x64: pick(SYSCALLS_X86_64, 'x86_64'),
  arm64: pick(SYSCALLS_AARCH64, 'aarch64'),
};

export function syscallNumbers(arch: string = process.arch): Readonly<SyscallNumbers> {
  if (arch === 'x64' || arch === 'arm64') return SYSCALL_NUMBERS[arch];
  throw new SandboxError('PLATFORM_UNSUPPORTED', `no syscall table for architecture ${arch}`);
}
