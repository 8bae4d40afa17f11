// The sandbox profile compiled for both arches and run in the evaluator: what is denied, with which errno,
// and what stays allowed — including the argument checks a 64-bit comparison would get wrong.
import { strict as assert } from 'node:assert';
import {
  AUDIT_ARCH,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_LOG,
  SECCOMP_RET_USER_NOTIF,
  actionOf,
  buildProfileFilter,
  compileFilter,
  createEvaluator,
  deniedSyscallCatalog,
  isKnownSyscall,
  syscallTable,
  type SeccompArch,
  type SyscallFilterOptions,
} from '../../../native/linux/seccomp';
import { ARCHES, decideBySpec, type Call } from './reference';

const EPERM_RET = 0x00050001;
const ENOSYS_RET = 0x00050026;

const options = (arch: SeccompArch, over: Partial<SyscallFilterOptions> = {}): SyscallFilterOptions => ({
  arch,
  network: 'inet',
  allowPtrace: false,
  extraDeny: [],
  denyAction: { kind: 'errno', errno: 1 },
  ...over,
});

/** Denied whatever the arguments (written out here, independently of the profile's own lists). */
const ALWAYS_DENIED = [
  'ptrace', 'process_vm_readv', 'process_vm_writev',
  'mount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'open_tree_attr', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr',
  'chroot', 'setns', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'bpf', 'perf_event_open',
  'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'keyctl', 'add_key', 'request_key', 'reboot', 'swapon',
  'swapoff', 'acct', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'iopl', 'ioperm', 'syslog', 'quotactl',
  'quotactl_fd', 'open_by_handle_at', 'name_to_handle_at', 'uselib', 'lookup_dcookie', 'nfsservctl', 'kcmp', 'pidfd_getfd',
  'fanotify_init', 'process_madvise', 'sethostname', 'setdomainname', 'vhangup', 'memfd_secret',
];

/** Denied only with metadataLocked (the tier without a private mount namespace). */
const METADATA = [
  'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'fchown', 'lchown', 'fchownat',
  'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat', 'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
  'utime', 'utimes', 'futimesat', 'utimensat', 'file_setattr',
];

/** pid in arg 0: the caller itself (0) passes, any other pid is EPERM. */
const PID_CALLS = ['prlimit64', 'sched_setaffinity', 'sched_setscheduler', 'sched_setparam', 'sched_setattr', 'migrate_pages', 'move_pages'];
const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
const IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2, IOPRIO_WHO_USER = 3;

const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_PACKET = 17, AF_NETLINK = 16, AF_BLUETOOTH = 31, AF_VSOCK = 40;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_PACKET = 10, SOCK_NONBLOCK_CLOEXEC = 0x80800;

interface Case {
  name: string;
  syscall: string;
  args?: (number | bigint)[];
  /** Expected return for network 'inet' and network 'none' (when different). */
  inet: number;
  none?: number;
}

const CASES: Case[] = [
  { name: 'read', syscall: 'read', inet: SECCOMP_RET_ALLOW },
  { name: 'write', syscall: 'write', inet: SECCOMP_RET_ALLOW },
  { name: 'openat', syscall: 'openat', args: [-100, 0, 0o1101], inet: SECCOMP_RET_ALLOW },
  { name: 'execve', syscall: 'execve', inet: SECCOMP_RET_ALLOW },
  { name: 'clone(thread flags)', syscall: 'clone', args: [0x3d0f00], inet: SECCOMP_RET_ALLOW },
  { name: 'clone(SIGCHLD)', syscall: 'clone', args: [17], inet: SECCOMP_RET_ALLOW },
  { name: 'clone(NEWUSER|SIGCHLD)', syscall: 'clone', args: [0x10000000 | 17], inet: EPERM_RET },
  { name: 'clone(NEWNS)', syscall: 'clone', args: [0x20000], inet: EPERM_RET },
  { name: 'clone(NEWNET)', syscall: 'clone', args: [0x40000000], inet: EPERM_RET },
  { name: 'clone(NEWCGROUP) with high bits', syscall: 'clone', args: [0xffff000002000000n], inet: EPERM_RET },
  { name: 'clone(exit signal 0x80 is not NEWTIME)', syscall: 'clone', args: [0x80], inet: SECCOMP_RET_ALLOW },
  { name: 'clone3', syscall: 'clone3', args: [0, 88], inet: ENOSYS_RET },
  { name: 'unshare(CLONE_FILES)', syscall: 'unshare', args: [0x400], inet: SECCOMP_RET_ALLOW },
  { name: 'unshare(CLONE_FS|SYSVSEM)', syscall: 'unshare', args: [0x200 | 0x40000], inet: SECCOMP_RET_ALLOW },
  { name: 'unshare(NEWUSER)', syscall: 'unshare', args: [0x10000000], inet: EPERM_RET },
  { name: 'unshare(NEWTIME)', syscall: 'unshare', args: [0x80], inet: EPERM_RET },
  { name: 'unshare(NEWPID) with high bits', syscall: 'unshare', args: [0x1_2000_0000n], inet: EPERM_RET },
  { name: 'unshare(NEWIPC|NEWUTS)', syscall: 'unshare', args: [0x0c000000], inet: EPERM_RET },
  { name: 'personality(0)', syscall: 'personality', args: [0], inet: SECCOMP_RET_ALLOW },
  { name: 'personality(PER_LINUX32)', syscall: 'personality', args: [8], inet: SECCOMP_RET_ALLOW },
  { name: 'personality(query)', syscall: 'personality', args: [0xffffffff], inet: SECCOMP_RET_ALLOW },
  { name: 'personality(query, sign-extended)', syscall: 'personality', args: [-1], inet: SECCOMP_RET_ALLOW },
  { name: 'personality(ADDR_NO_RANDOMIZE)', syscall: 'personality', args: [0x0040000], inet: EPERM_RET },
  { name: 'personality(READ_IMPLIES_EXEC)', syscall: 'personality', args: [0x0400000], inet: EPERM_RET },
  { name: 'ioctl(TCGETS)', syscall: 'ioctl', args: [0, 0x5401], inet: SECCOMP_RET_ALLOW },
  { name: 'ioctl(FIONREAD)', syscall: 'ioctl', args: [0, 0x541b], inet: SECCOMP_RET_ALLOW },
  { name: 'ioctl(TIOCSTI)', syscall: 'ioctl', args: [0, 0x5412], inet: EPERM_RET },
  { name: 'ioctl(TIOCSTI | 1<<32): high bits ignored', syscall: 'ioctl', args: [0, 0x5412n | (1n << 32n)], inet: EPERM_RET },
  { name: 'ioctl(TIOCSTI | 0xffffffff<<32)', syscall: 'ioctl', args: [0, 0xffffffff00005412n], inet: EPERM_RET },
  { name: 'ioctl(TIOCLINUX)', syscall: 'ioctl', args: [0, 0x541c], inet: EPERM_RET },
  { name: 'socket(AF_UNIX, STREAM)', syscall: 'socket', args: [AF_UNIX, SOCK_STREAM, 0], inet: SECCOMP_RET_ALLOW },
  { name: 'socket(AF_UNIX, DGRAM|NONBLOCK|CLOEXEC)', syscall: 'socket', args: [AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK_CLOEXEC, 0], inet: SECCOMP_RET_ALLOW },
  { name: 'socket(AF_INET, STREAM)', syscall: 'socket', args: [AF_INET, SOCK_STREAM, 0], inet: SECCOMP_RET_ALLOW, none: EPERM_RET },
  { name: 'socket(AF_INET, DGRAM|CLOEXEC)', syscall: 'socket', args: [AF_INET, SOCK_DGRAM | 0x80000, 0], inet: SECCOMP_RET_ALLOW, none: EPERM_RET },
  { name: 'socket(AF_INET6, STREAM)', syscall: 'socket', args: [AF_INET6, SOCK_STREAM, 0], inet: SECCOMP_RET_ALLOW, none: EPERM_RET },
  { name: 'socket(AF_INET, RAW)', syscall: 'socket', args: [AF_INET, SOCK_RAW, 1], inet: EPERM_RET },
  { name: 'socket(AF_INET, RAW|CLOEXEC)', syscall: 'socket', args: [AF_INET, SOCK_RAW | 0x80000, 1], inet: EPERM_RET },
  { name: 'socket(AF_INET6, RAW)', syscall: 'socket', args: [AF_INET6, SOCK_RAW, 58], inet: EPERM_RET },
  { name: 'socket(AF_INET, SOCK_PACKET)', syscall: 'socket', args: [AF_INET, SOCK_PACKET, 0x300], inet: EPERM_RET },
  { name: 'socket(AF_INET6, SOCK_PACKET)', syscall: 'socket', args: [AF_INET6, SOCK_PACKET, 0], inet: EPERM_RET },
  { name: 'socket(AF_PACKET)', syscall: 'socket', args: [AF_PACKET, SOCK_RAW, 0x300], inet: EPERM_RET },
  { name: 'socket(AF_BLUETOOTH)', syscall: 'socket', args: [AF_BLUETOOTH, SOCK_STREAM, 0], inet: EPERM_RET },
  { name: 'socket(AF_VSOCK)', syscall: 'socket', args: [AF_VSOCK, SOCK_STREAM, 0], inet: EPERM_RET },
  { name: 'socket(AF_UNIX + 1<<32): family is an int', syscall: 'socket', args: [AF_UNIX + 2 ** 32, SOCK_STREAM, 0], inet: SECCOMP_RET_ALLOW },
  { name: 'socket(AF_PACKET + 1<<32)', syscall: 'socket', args: [AF_PACKET + 2 ** 32, SOCK_RAW, 0], inet: EPERM_RET },
  // With the network off, a netlink route socket would still show the host's interfaces and routes.
  { name: 'socket(AF_NETLINK, RAW, ROUTE)', syscall: 'socket', args: [AF_NETLINK, SOCK_RAW, 0], inet: SECCOMP_RET_ALLOW, none: EPERM_RET },
  { name: 'socket(AF_NETLINK, DGRAM|CLOEXEC, ROUTE)', syscall: 'socket', args: [AF_NETLINK, SOCK_DGRAM | 0x80000, 0], inet: SECCOMP_RET_ALLOW, none: EPERM_RET },
  { name: 'socket(AF_NETLINK + 1<<32, RAW, ROUTE)', syscall: 'socket', args: [AF_NETLINK + 2 ** 32, SOCK_RAW, 0], inet: SECCOMP_RET_ALLOW, none: EPERM_RET },
  { name: 'socket(AF_NETLINK, RAW, AUDIT)', syscall: 'socket', args: [AF_NETLINK, SOCK_RAW, 9], inet: EPERM_RET },
  { name: 'socket(AF_NETLINK, RAW, NETFILTER)', syscall: 'socket', args: [AF_NETLINK, SOCK_RAW, 12], inet: EPERM_RET },
  { name: 'socketpair(AF_UNIX)', syscall: 'socketpair', args: [AF_UNIX, SOCK_STREAM, 0, 0], inet: SECCOMP_RET_ALLOW },
  { name: 'socketpair(AF_INET)', syscall: 'socketpair', args: [AF_INET, SOCK_STREAM, 0, 0], inet: EPERM_RET },
  { name: 'connect', syscall: 'connect', inet: SECCOMP_RET_ALLOW },
  { name: 'seccomp', syscall: 'seccomp', inet: SECCOMP_RET_ALLOW },
  { name: 'prctl', syscall: 'prctl', inet: SECCOMP_RET_ALLOW },
  { name: 'open', syscall: 'open', inet: SECCOMP_RET_ALLOW },
  { name: 'fork', syscall: 'fork', inet: SECCOMP_RET_ALLOW },
  { name: 'landlock_restrict_self', syscall: 'landlock_restrict_self', inet: SECCOMP_RET_ALLOW },
  ...ALWAYS_DENIED.map((s) => ({ name: s, syscall: s, args: [0, 0, 0, 0, 0, 0], inet: EPERM_RET })),
  ...METADATA.map((s) => ({ name: `${s} (metadata not locked)`, syscall: s, args: [0x1000, 0o777, 0, 0], inet: SECCOMP_RET_ALLOW })),
  ...PID_CALLS.flatMap((s): Case[] => [
    { name: `${s}(pid 0)`, syscall: s, args: [0, 7, 0x1000, 0x2000], inet: SECCOMP_RET_ALLOW },
    { name: `${s}(pid 42)`, syscall: s, args: [42, 7, 0x1000, 0x2000], inet: EPERM_RET },
    { name: `${s}(pid 1)`, syscall: s, args: [1, 7, 0x1000, 0x2000], inet: EPERM_RET },
    { name: `${s}(pid -1)`, syscall: s, args: [-1, 7, 0x1000, 0x2000], inet: EPERM_RET },
    // pid_t is an int: high bits are ignored by the kernel, so they must be by the filter too.
    { name: `${s}(pid 1<<32: the kernel reads 0)`, syscall: s, args: [2 ** 32, 7, 0x1000, 0x2000], inet: SECCOMP_RET_ALLOW },
    { name: `${s}(pid 42 + 1<<32)`, syscall: s, args: [2 ** 32 + 42, 7, 0x1000, 0x2000], inet: EPERM_RET },
  ]),
  // Reading another process's limits (new_limit NULL) changes nothing; /proc/<pid>/limits shows them anyway.
  { name: 'prlimit64(pid 42, NOFILE, NULL, &old)', syscall: 'prlimit64', args: [42, 7, 0, 0x2000], inet: SECCOMP_RET_ALLOW },
  { name: 'prlimit64(pid 42, NOFILE, &new, NULL)', syscall: 'prlimit64', args: [42, 7, 0x1000, 0], inet: EPERM_RET },
  { name: 'setpriority(PRIO_PROCESS, 0)', syscall: 'setpriority', args: [PRIO_PROCESS, 0, 10], inet: SECCOMP_RET_ALLOW },
  { name: 'setpriority(PRIO_PROCESS, 42)', syscall: 'setpriority', args: [PRIO_PROCESS, 42, 10], inet: EPERM_RET },
  { name: 'setpriority(PRIO_PROCESS, 1<<32)', syscall: 'setpriority', args: [PRIO_PROCESS, 2 ** 32, 10], inet: SECCOMP_RET_ALLOW },
  { name: 'setpriority(PRIO_PGRP, 0)', syscall: 'setpriority', args: [PRIO_PGRP, 0, 10], inet: EPERM_RET },
  { name: 'setpriority(PRIO_USER, 0)', syscall: 'setpriority', args: [PRIO_USER, 0, 10], inet: EPERM_RET },
  { name: 'setpriority(PRIO_USER + 1<<32, 0)', syscall: 'setpriority', args: [PRIO_USER + 2 ** 32, 0, 10], inet: EPERM_RET },
  { name: 'ioprio_set(WHO_PROCESS, 0)', syscall: 'ioprio_set', args: [IOPRIO_WHO_PROCESS, 0, 0x4004], inet: SECCOMP_RET_ALLOW },
  { name: 'ioprio_set(WHO_PROCESS, 42)', syscall: 'ioprio_set', args: [IOPRIO_WHO_PROCESS, 42, 0x4004], inet: EPERM_RET },
  { name: 'ioprio_set(WHO_PGRP, 0)', syscall: 'ioprio_set', args: [IOPRIO_WHO_PGRP, 0, 0x4004], inet: EPERM_RET },
  { name: 'ioprio_set(WHO_USER, 0)', syscall: 'ioprio_set', args: [IOPRIO_WHO_USER, 0, 0x4004], inet: EPERM_RET },
  { name: 'getpriority(PRIO_USER, 0)', syscall: 'getpriority', args: [PRIO_USER, 0], inet: SECCOMP_RET_ALLOW },
  { name: 'sched_getaffinity(42)', syscall: 'sched_getaffinity', args: [42, 128, 0x1000], inet: SECCOMP_RET_ALLOW },
];

describe('seccomp profile', () => {
  it('the test list covers every name of the catalog, and every name is a real syscall', () => {
    const catalog = deniedSyscallCatalog();
    const covered = new Set([...CASES.map((c) => c.syscall), 'vm86', 'vm86old']);
    for (const e of catalog) {
      assert.ok(covered.has(e.syscall), `no test case for ${e.syscall}`);
      assert.ok(isKnownSyscall(e.syscall), e.syscall);
      assert.match(e.reason, new RegExp(`^${e.syscall}: \\S`), e.syscall);
    }
    assert.equal(new Set(catalog.map((e) => e.syscall)).size, catalog.length, 'one entry per syscall');
    catalog[0]!.reason = 'changed';
    assert.notEqual(deniedSyscallCatalog()[0]!.reason, 'changed', 'the catalog is not shared mutable state');
  });

  for (const arch of ARCHES) {
    describe(arch, () => {
      const t = syscallTable(arch);
      const me = AUDIT_ARCH[arch];
      const present = CASES.filter((c) => t[c.syscall] !== undefined);

      for (const network of ['inet', 'none'] as const) {
        it(`network ${network}: every case`, () => {
          const s = buildProfileFilter(options(arch, { network }));
          const run = createEvaluator(compileFilter(s));
          const wrong: string[] = [];
          for (const c of present) {
            const want = network === 'none' ? (c.none ?? c.inet) : c.inet;
            const call: Call = { nr: t[c.syscall]!, arch: me, args: c.args ?? [] };
            const got = run(call);
            if (got !== want) wrong.push(`${c.name}: 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
            assert.equal(decideBySpec(s, call), want, `spec meaning of ${c.name}`);
          }
          assert.deepEqual(wrong, []);
        });
      }

      it('x86-only calls are skipped on aarch64, not mistaken for other numbers', () => {
        const missing = CASES.filter((c) => t[c.syscall] === undefined).map((c) => c.syscall);
        if (arch === 'x86_64') assert.deepEqual(missing, []);
        else assert.deepEqual([...new Set(missing)].sort(), ['fork', 'iopl', 'ioperm', 'open', 'uselib', 'chmod', 'chown', 'lchown', 'utime', 'utimes', 'futimesat'].sort());
      });

      it('metadataLocked denies every metadata call (EPERM, path and fd forms), and only those', () => {
        const locked = createEvaluator(compileFilter(buildProfileFilter(options(arch, { metadataLocked: true }))));
        const open = createEvaluator(compileFilter(buildProfileFilter(options(arch, { metadataLocked: false }))));
        const here = METADATA.filter((s) => t[s] !== undefined);
        assert.ok(here.length >= (arch === 'x86_64' ? METADATA.length : METADATA.length - 6), here.join(','));
        for (const s of here) {
          assert.equal(locked({ nr: t[s]!, arch: me, args: [3, 0x1000, 0o777] }), EPERM_RET, s);
          assert.equal(open({ nr: t[s]!, arch: me, args: [3, 0x1000, 0o777] }), SECCOMP_RET_ALLOW, s);
        }
        // utimensat(fd, NULL, …) is futimens: denied too (a read-only fd still lets the owner change times).
        assert.equal(locked({ nr: t.utimensat!, arch: me, args: [3, 0, 0, 0] }), EPERM_RET);
        for (const s of ['read', 'write', 'openat', 'fstat', 'getxattr', 'fgetxattr', 'listxattr', 'fchdir', 'file_getattr']) {
          if (t[s] !== undefined) assert.equal(locked({ nr: t[s]!, arch: me, args: [3, 0x1000, 0] }), SECCOMP_RET_ALLOW, s);
        }
        const notify = createEvaluator(compileFilter(buildProfileFilter(options(arch, { metadataLocked: true, denyAction: { kind: 'notify' } }))));
        assert.equal(notify({ nr: t.fchmod!, arch: me, args: [3, 0o777] }), SECCOMP_RET_USER_NOTIF);
      });

      it('metadataPerformed (fallback tier with a listener, warn too): chmod/chown/utimes notify, xattrs stay refused (EOPNOTSUPP)', () => {
        const warn = createEvaluator(compileFilter(buildProfileFilter(options(arch, { metadataLocked: true, metadataAlwaysRefused: true, metadataPerformed: true, denyAction: { kind: 'notify' } }))));
        const noListener = createEvaluator(compileFilter(buildProfileFilter(options(arch, { metadataLocked: true, metadataAlwaysRefused: true, metadataPerformed: true, denyAction: { kind: 'log' } }))));
        for (const s of METADATA.filter((x) => t[x] !== undefined)) {
          const performed = !/xattr|file_setattr/.test(s);
          const refused = s.includes('xattr') ? 0x00050000 | 95 : EPERM_RET;
          assert.equal(warn({ nr: t[s]!, arch: me, args: [3, 0x1000, 0o777] }), performed ? SECCOMP_RET_USER_NOTIF : refused, s);
          assert.equal(noListener({ nr: t[s]!, arch: me, args: [3, 0x1000, 0o777] }), refused, `${s} without a listener`);
        }
      });

      it('wrong arch and x32 numbers kill', () => {
        const run = createEvaluator(compileFilter(buildProfileFilter(options(arch))));
        assert.equal(run({ nr: t.read!, arch: 0x40000003 }), SECCOMP_RET_KILL_PROCESS);
        assert.equal(run({ nr: t.read!, arch: arch === 'x86_64' ? AUDIT_ARCH.aarch64 : AUDIT_ARCH.x86_64 }), SECCOMP_RET_KILL_PROCESS);
        if (arch === 'x86_64') {
          assert.equal(run({ nr: 0x40000000 | 1, arch: me }), SECCOMP_RET_KILL_PROCESS);
          assert.equal(run({ nr: 0x40000000 | 101, arch: me }), SECCOMP_RET_KILL_PROCESS);
        }
      });

      it('warn mode (deny action log or notify): foreign-pid calls are still EPERM, the rest follows the mode', () => {
        // They protect the host (its limits, its scheduling), not a policy: warn mode must not let them through.
        for (const [denyAction, warned] of [[{ kind: 'log' }, SECCOMP_RET_LOG], [{ kind: 'notify' }, SECCOMP_RET_USER_NOTIF]] as const) {
          const run = createEvaluator(compileFilter(buildProfileFilter(options(arch, { denyAction }))));
          assert.equal(run({ nr: t.prlimit64!, arch: me, args: [42, 7, 0x1000, 0] }), EPERM_RET, `prlimit64(42) with ${denyAction.kind}`);
          assert.equal(run({ nr: t.prlimit64!, arch: me, args: [0, 7, 0x1000, 0] }), SECCOMP_RET_ALLOW, 'prlimit64(0)');
          assert.equal(run({ nr: t.prlimit64!, arch: me, args: [42, 7, 0, 0x2000] }), SECCOMP_RET_ALLOW, 'prlimit64(42) read only');
          for (const s of PID_CALLS) assert.equal(run({ nr: t[s]!, arch: me, args: [1, 7, 0x1000, 0x2000] }), EPERM_RET, s);
          assert.equal(run({ nr: t.setpriority!, arch: me, args: [PRIO_USER, 0, 10] }), EPERM_RET, 'setpriority(PRIO_USER)');
          assert.equal(run({ nr: t.ioprio_set!, arch: me, args: [IOPRIO_WHO_PROCESS, 42, 0x4004] }), EPERM_RET, 'ioprio_set(42)');
          assert.equal(run({ nr: t.mount!, arch: me }), warned, `mount with ${denyAction.kind}`);
        }
      });

      it('allowPtrace keeps the ptrace family, and only it', () => {
        const run = createEvaluator(compileFilter(buildProfileFilter(options(arch, { allowPtrace: true }))));
        for (const s of ['ptrace', 'process_vm_readv', 'process_vm_writev']) assert.equal(run({ nr: t[s]!, arch: me }), SECCOMP_RET_ALLOW, s);
        for (const s of ['kcmp', 'pidfd_getfd', 'mount']) assert.equal(run({ nr: t[s]!, arch: me }), EPERM_RET, s);
      });

      it('extraDeny of 200 syscalls: a long program that still dispatches every number correctly', () => {
        const keep = new Set(['read', 'write', 'openat', 'execve', 'exit', 'exit_group', 'clone', 'clone3', 'socket', 'ioctl', 'unshare', 'personality', 'rt_sigreturn']);
        const extra = Object.keys(t).filter((n) => !keep.has(n)).slice(0, 200);
        const s = buildProfileFilter(options(arch, { extraDeny: extra }));
        const prog = compileFilter(s);
        assert.ok(prog.length > 255, `${prog.length} instructions`);
        const run = createEvaluator(prog);
        for (const n of extra) assert.equal(run({ nr: t[n]!, arch: me }), n === 'clone3' ? ENOSYS_RET : EPERM_RET, n);
        for (const n of ['read', 'write', 'openat', 'execve', 'exit_group']) assert.equal(run({ nr: t[n]!, arch: me }), SECCOMP_RET_ALLOW, n);
        for (const c of present) {
          const call: Call = { nr: t[c.syscall]!, arch: me, args: c.args ?? [] };
          assert.equal(run(call), decideBySpec(s, call), c.name);
        }
        for (let nr = 0; nr < 600; nr++) {
          const call: Call = { nr, arch: me, args: [0x10000000, 0x5412, 9] };
          assert.equal(run(call), decideBySpec(s, call), `nr ${nr}`);
        }
      });

      it('extraDeny: unknown names are refused, clone3 keeps ENOSYS, duplicates are harmless', () => {
        assert.throws(() => buildProfileFilter(options(arch, { extraDeny: ['mkdri'] })), /unknown syscall "mkdri"/);
        const run = createEvaluator(compileFilter(buildProfileFilter(options(arch, { extraDeny: ['clone3', 'getpid', 'getpid', 'fork'] }))));
        assert.equal(run({ nr: t.clone3!, arch: me }), ENOSYS_RET);
        assert.equal(run({ nr: t.getpid!, arch: me }), EPERM_RET);
      });

      it('denyAction notify / log replaces EPERM everywhere but clone3', () => {
        for (const [kind, ret] of [['notify', SECCOMP_RET_USER_NOTIF], ['log', 0x7ffc0000]] as const) {
          const run = createEvaluator(compileFilter(buildProfileFilter(options(arch, { denyAction: { kind } }))));
          assert.equal(run({ nr: t.ptrace!, arch: me }), ret);
          assert.equal(run({ nr: t.ioctl!, arch: me, args: [0, 0x5412] }), ret);
          assert.equal(run({ nr: t.socket!, arch: me, args: [AF_PACKET, SOCK_RAW, 0] }), ret);
          assert.equal(run({ nr: t.clone3!, arch: me }), ENOSYS_RET);
          assert.equal(run({ nr: t.read!, arch: me }), SECCOMP_RET_ALLOW);
        }
      });

      it('monitor: network calls and path writes go to the supervisor', () => {
        const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_CLOEXEC = 0x80000;
        const openat = (flags: number | bigint): Call => ({ nr: t.openat!, arch: me, args: [-100, 0x1000, flags, 0] });
        const writes = createEvaluator(compileFilter(buildProfileFilter(options(arch, { monitor: { network: true, fileWrites: true, fileReads: false } }))));
        assert.equal(actionOf(writes(openat(O_RDONLY | O_CLOEXEC))).action, 'allow');
        assert.equal(actionOf(writes(openat(0x100000000n))).action, 'allow'); // flags are an int: high bits are not a write
        for (const f of [O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC]) assert.equal(writes(openat(f)), SECCOMP_RET_USER_NOTIF, `flags 0x${f.toString(16)}`);
        for (const s of ['openat2', 'unlinkat', 'mkdirat', 'renameat', 'renameat2', 'connect', 'bind', 'sendmsg', 'sendmmsg']) assert.equal(writes({ nr: t[s]!, arch: me }), SECCOMP_RET_USER_NOTIF, s);
        assert.equal(writes({ nr: t.sendto!, arch: me, args: [3, 0x1000, 10, 0, 0, 0] }), SECCOMP_RET_ALLOW, 'sendto without address');
        assert.equal(writes({ nr: t.sendto!, arch: me, args: [3, 0x1000, 10, 0, 0x7ffd00000000n, 16] }), SECCOMP_RET_USER_NOTIF, 'sendto with address');
        assert.equal(writes({ nr: t.read!, arch: me }), SECCOMP_RET_ALLOW);
        if (arch === 'x86_64') {
          assert.equal(writes({ nr: t.open!, arch: me, args: [0x1000, O_RDONLY] }), SECCOMP_RET_ALLOW);
          assert.equal(writes({ nr: t.open!, arch: me, args: [0x1000, O_WRONLY] }), SECCOMP_RET_USER_NOTIF);
          for (const s of ['creat', 'unlink', 'rmdir', 'mkdir', 'rename']) assert.equal(writes({ nr: t[s]!, arch: me }), SECCOMP_RET_USER_NOTIF, s);
        }
        const reads = createEvaluator(compileFilter(buildProfileFilter(options(arch, { monitor: { network: false, fileWrites: true, fileReads: true } }))));
        assert.equal(reads(openat(O_RDONLY)), SECCOMP_RET_USER_NOTIF);
        assert.equal(reads({ nr: t.connect!, arch: me }), SECCOMP_RET_ALLOW);
        // Denials keep their action; monitoring never loosens them.
        assert.equal(reads({ nr: t.mount!, arch: me }), EPERM_RET);
      });
    });
  }
});
