import { strict as assert } from 'node:assert';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64, hostArch, isKnownSyscall, syscallNumber, syscallTable } from '../../../native/linux/seccomp';
import { SYSCALL_NUMBERS } from '../../../native/linux/syscall-numbers';

describe('seccomp syscall tables', () => {
  it('x86_64: well-known numbers', () => {
    const t = syscallTable('x86_64');
    const expected: Record<string, number> = {
      read: 0,
      write: 1,
      open: 2,
      socket: 41,
      connect: 42,
      clone: 56,
      fork: 57,
      execve: 59,
      ptrace: 101,
      personality: 135,
      mount: 165,
      reboot: 169,
      openat: 257,
      unshare: 272,
      bpf: 321,
      io_uring_setup: 425,
      clone3: 435,
      landlock_restrict_self: 446,
      set_mempolicy_home_node: 450,
      cachestat: 451,
      mseal: 462,
      open_tree_attr: 467,
      listns: 470,
    };
    for (const [name, nr] of Object.entries(expected)) assert.equal(t[name], nr, name);
  });

  it('aarch64: well-known numbers, and no legacy calls', () => {
    const t = syscallTable('aarch64');
    const expected: Record<string, number> = {
      io_setup: 0,
      ioctl: 29,
      mount: 40,
      openat: 56,
      read: 63,
      write: 64,
      newfstatat: 79,
      fstat: 80,
      personality: 92,
      unshare: 97,
      ptrace: 117,
      socket: 198,
      connect: 203,
      clone: 220,
      execve: 221,
      mmap: 222,
      bpf: 280,
      clone3: 435,
      memfd_secret: 447,
      mseal: 462,
      listns: 470,
    };
    for (const [name, nr] of Object.entries(expected)) assert.equal(t[name], nr, name);
    for (const legacy of ['open', 'fork', 'vfork', 'stat', 'dup2', 'pipe', 'poll', 'select', 'iopl', 'ioperm', 'arch_specific_syscall']) {
      assert.equal(syscallNumber('aarch64', legacy), undefined, legacy);
    }
  });

  it('tables are complete and one-to-one', () => {
    for (const [arch, t, count, max] of [
      ['x86_64', SYSCALLS_X86_64, 384, 470],
      ['aarch64', SYSCALLS_AARCH64, 326, 470],
    ] as const) {
      const nrs = Object.values(t);
      assert.equal(nrs.length, count, `${arch} entry count`);
      assert.equal(new Set(nrs).size, nrs.length, `${arch} numbers are unique`);
      assert.equal(Math.max(...nrs), max, `${arch} highest number`);
      for (const nr of nrs) assert.ok(Number.isInteger(nr) && nr >= 0 && nr < 512, `${arch} ${nr}`);
      // x86_64 0..336 and 424..470 are contiguous; aarch64 0..294 minus the arch-private 244..259, and 424..470.
      const expectContiguous = arch === 'x86_64' ? [[0, 336], [424, 470]] : [[0, 243], [260, 294], [424, 470]];
      for (const [lo, hi] of expectContiguous) for (let n = lo!; n <= hi!; n++) assert.ok(nrs.includes(n), `${arch} has ${n}`);
    }
  });

  it('tables do not answer inherited property names', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(syscallNumber('x86_64', name), undefined);
      assert.equal(syscallTable('aarch64')[name], undefined);
      assert.equal(isKnownSyscall(name), false);
    }
  });

  it('isKnownSyscall: either arch, or a foreign-ABI-only name; typos are unknown', () => {
    assert.equal(isKnownSyscall('open'), true); // x86_64 only
    assert.equal(isKnownSyscall('renameat'), true);
    assert.equal(isKnownSyscall('vm86'), true); // i386 only
    assert.equal(isKnownSyscall('opne'), false);
  });

  it('hostArch maps process.arch values', () => {
    assert.equal(hostArch('x64'), 'x86_64');
    assert.equal(hostArch('arm64'), 'aarch64');
    assert.equal(hostArch('ia32'), null);
    assert.equal(hostArch('riscv64'), null);
  });

  it('the libc bindings take their raw syscall numbers from these tables', () => {
    const common = { landlock_create_ruleset: 444, landlock_add_rule: 445, landlock_restrict_self: 446, pidfd_open: 434, pidfd_getfd: 438, pidfd_send_signal: 424, close_range: 436, open_tree: 428, move_mount: 429, mount_setattr: 442, openat2: 437 };
    assert.deepEqual({ ...SYSCALL_NUMBERS.x64 }, { seccomp: 317, ...common });
    assert.deepEqual({ ...SYSCALL_NUMBERS.arm64 }, { seccomp: 277, ...common });
  });
});
