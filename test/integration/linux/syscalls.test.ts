// The syscall filter against the real kernel: each denied family fails with EPERM (arguments chosen so
// that, without the filter, the kernel would answer something else), the process status shows the
// filter, foreign-architecture and x32 calls kill, and the TypeScript evaluator agrees with the kernel.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { buildProfileFilter, compileFilter, evaluateFilter, syscallTable, AUDIT_ARCH } from '../../../native/linux/seccomp';
import { makeSandbox, runIn, writeScript, PYTHON, IS_ROOT, type Sandbox } from './helpers';

interface Case {
  name: string;
  syscall: string;
  args: Array<number | bigint>;
  /** errno the filter must produce: 1 = EPERM, 38 = ENOSYS; 0 = allowed (the kernel's own answer is not EPERM). */
  expect: number;
  profile?: 'strict' | 'moderate';
}

const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;
const CASES: Case[] = [
  { name: 'ptrace', syscall: 'ptrace', args: [0x7fff, 999999999, 0, 0], expect: 1 },
  { name: 'process_vm_readv', syscall: 'process_vm_readv', args: [999999999, 0, 0, 0, 0, 0], expect: 1 },
  { name: 'process_vm_writev', syscall: 'process_vm_writev', args: [999999999, 0, 0, 0, 0, 0], expect: 1 },
  { name: 'mount', syscall: 'mount', args: [0, 0, 0, 0, 0], expect: 1 },
  { name: 'umount2', syscall: 'umount2', args: [0, 0], expect: 1 },
  { name: 'pivot_root', syscall: 'pivot_root', args: [0, 0], expect: 1 },
  { name: 'move_mount', syscall: 'move_mount', args: [-1, 0, -1, 0, 0], expect: 1 },
  { name: 'open_tree', syscall: 'open_tree', args: [-1, 0, 0], expect: 1 },
  { name: 'fsopen', syscall: 'fsopen', args: [0, 0], expect: 1 },
  { name: 'fsconfig', syscall: 'fsconfig', args: [-1, 0, 0, 0, 0], expect: 1 },
  { name: 'fsmount', syscall: 'fsmount', args: [-1, 0, 0], expect: 1 },
  { name: 'fspick', syscall: 'fspick', args: [-1, 0, 0], expect: 1 },
  { name: 'chroot', syscall: 'chroot', args: [0], expect: 1 },
  { name: 'setns', syscall: 'setns', args: [-1, 0], expect: 1 },
  { name: 'unshare(NEWUSER)', syscall: 'unshare', args: [CLONE_NEWUSER], expect: 1 },
  { name: 'unshare(FILES)', syscall: 'unshare', args: [0x400], expect: 0 },
  { name: 'clone(NEWUSER)', syscall: 'clone', args: [CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0], expect: 1 },
  { name: 'clone3', syscall: 'clone3', args: [0, 0], expect: 38 },
  { name: 'kexec_load', syscall: 'kexec_load', args: [0, 0, 0, 0xdead0000], expect: 1 },
  { name: 'kexec_file_load', syscall: 'kexec_file_load', args: [-1, -1, 0, 0, 0xdead], expect: 1 },
  { name: 'init_module', syscall: 'init_module', args: [0, 0, 0], expect: 1 },
  { name: 'finit_module', syscall: 'finit_module', args: [-1, 0, 0], expect: 1 },
  { name: 'delete_module', syscall: 'delete_module', args: [0, 0], expect: 1 },
  { name: 'bpf', syscall: 'bpf', args: [5, 0, 0], expect: 1 },
  { name: 'perf_event_open', syscall: 'perf_event_open', args: [0, 0, -1, -1, 0], expect: 1 },
  { name: 'userfaultfd', syscall: 'userfaultfd', args: [0xdead0000], expect: 1 },
  { name: 'io_uring_setup', syscall: 'io_uring_setup', args: [0, 0], expect: 1 },
  { name: 'io_uring_enter', syscall: 'io_uring_enter', args: [-1, 0, 0, 0, 0, 0], expect: 1 },
  { name: 'io_uring_register', syscall: 'io_uring_register', args: [-1, 0, 0, 0], expect: 1 },
  { name: 'keyctl', syscall: 'keyctl', args: [0x7fff, 0, 0, 0, 0], expect: 1 },
  { name: 'add_key', syscall: 'add_key', args: [0, 0, 0, 0, 0], expect: 1 },
  { name: 'request_key', syscall: 'request_key', args: [0, 0, 0, 0], expect: 1 },
  { name: 'reboot', syscall: 'reboot', args: [0, 0, 0, 0], expect: 1 },
  { name: 'swapon', syscall: 'swapon', args: [0, 0], expect: 1 },
  { name: 'swapoff', syscall: 'swapoff', args: [0], expect: 1 },
  { name: 'acct', syscall: 'acct', args: [0], expect: 1 },
  { name: 'settimeofday', syscall: 'settimeofday', args: [0, 0], expect: 1 },
  { name: 'clock_settime', syscall: 'clock_settime', args: [0x7fff, 0], expect: 1 },
  { name: 'clock_adjtime', syscall: 'clock_adjtime', args: [0x7fff, 0], expect: 1 },
  { name: 'adjtimex', syscall: 'adjtimex', args: [0], expect: 1 },
  { name: 'iopl', syscall: 'iopl', args: [4], expect: 1 },
  { name: 'ioperm', syscall: 'ioperm', args: [0xffffffff, 1, 1], expect: 1 },
  { name: 'syslog', syscall: 'syslog', args: [0x7fff, 0, 0], expect: 1 },
  { name: 'quotactl', syscall: 'quotactl', args: [0, 0, 0, 0], expect: 1 },
  { name: 'open_by_handle_at', syscall: 'open_by_handle_at', args: [-1, 0, 0], expect: 1 },
  { name: 'name_to_handle_at', syscall: 'name_to_handle_at', args: [-1, 0, 0, 0, 0], expect: 1 },
  { name: 'personality(ADDR_NO_RANDOMIZE)', syscall: 'personality', args: [0x0040000], expect: 1 },
  { name: 'personality(query)', syscall: 'personality', args: [0xffffffff], expect: 0 },
  { name: 'ioctl(TIOCSTI)', syscall: 'ioctl', args: [0, 0x5412, 0], expect: 1 },
  { name: 'ioctl(TIOCSTI | high bits)', syscall: 'ioctl', args: [0, 0x100005412n, 0], expect: 1 },
  { name: 'ioctl(TIOCLINUX)', syscall: 'ioctl', args: [0, 0x541c, 0], expect: 1 },
  { name: 'ioctl(TCGETS)', syscall: 'ioctl', args: [0, 0x5401, 0], expect: 0 },
  { name: 'socket(AF_PACKET)', syscall: 'socket', args: [17, 3, 0], expect: 1 },
  { name: 'socket(AF_NETLINK, AUDIT)', syscall: 'socket', args: [16, 3, 9], expect: 1 },
  { name: 'socket(AF_NETLINK, ROUTE)', syscall: 'socket', args: [16, 3, 0], expect: 0 },
  { name: 'socket(AF_INET, SOCK_RAW)', syscall: 'socket', args: [2, 3, 1], expect: 1 },
  { name: 'socket(AF_INET, STREAM) moderate', syscall: 'socket', args: [2, 1, 0], expect: 0 },
  { name: 'socket(AF_INET, STREAM) strict', syscall: 'socket', args: [2, 1, 0], expect: 1, profile: 'strict' },
  { name: 'socket(AF_INET6, DGRAM) strict', syscall: 'socket', args: [10, 2, 0], expect: 1, profile: 'strict' },
  { name: 'socket(AF_UNIX) strict', syscall: 'socket', args: [1, 1, 0], expect: 0, profile: 'strict' },
  { name: 'socket(AF_NETLINK, ROUTE) strict', syscall: 'socket', args: [16, 3, 0], expect: 1, profile: 'strict' },
  { name: 'memfd_secret', syscall: 'memfd_secret', args: [0x7fffffff], expect: 1 },
  // Foreign pids: a pid that does not exist, so that without the filter the kernel would say ESRCH.
  { name: 'prlimit64(foreign pid, CORE, &new)', syscall: 'prlimit64', args: [999999999, 4, 1, 0], expect: 1 },
  { name: 'prlimit64(0, CORE, NULL, NULL)', syscall: 'prlimit64', args: [0, 4, 0, 0], expect: 0 },
  { name: 'setpriority(PRIO_PROCESS, foreign pid)', syscall: 'setpriority', args: [0, 999999999, 0], expect: 1 },
  { name: 'setpriority(PRIO_PGRP, 0)', syscall: 'setpriority', args: [1, 0, 0], expect: 1 },
  { name: 'setpriority(PRIO_PROCESS, 0)', syscall: 'setpriority', args: [0, 0, 0], expect: 0 },
  { name: 'sched_setaffinity(foreign pid)', syscall: 'sched_setaffinity', args: [999999999, 8, 0], expect: 1 },
  { name: 'sched_setscheduler(foreign pid)', syscall: 'sched_setscheduler', args: [999999999, 0, 0], expect: 1 },
  { name: 'sched_setparam(foreign pid)', syscall: 'sched_setparam', args: [999999999, 0], expect: 1 },
  { name: 'sched_setattr(foreign pid)', syscall: 'sched_setattr', args: [999999999, 0, 0], expect: 1 },
  { name: 'migrate_pages(foreign pid)', syscall: 'migrate_pages', args: [999999999, 0, 0, 0], expect: 1 },
  { name: 'move_pages(foreign pid)', syscall: 'move_pages', args: [999999999, 0, 0, 0, 0, 0], expect: 1 },
  { name: 'ioprio_set(WHO_PROCESS, foreign pid)', syscall: 'ioprio_set', args: [1, 999999999, 0], expect: 1 },
  { name: 'ioprio_set(WHO_PGRP, 0)', syscall: 'ioprio_set', args: [2, 0, 0], expect: 1 },
];

const PROBE_PY = `import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = []
for c in json.loads(sys.argv[1]):
    args = [ctypes.c_ulong(int(a) & 0xffffffffffffffff) for a in c['args']]
    ctypes.set_errno(0)
    sys.stdout.flush()
    r = libc.syscall(ctypes.c_long(c['nr']), *args)
    if r == 0 and c['name'].startswith('clone'):
        os._exit(0)  # we are the child of a clone the filter let through
    e = ctypes.get_errno() if r == -1 else 0
    if r > 0 and c['name'].startswith('socket'):
        os.close(r)
    out.append([c['name'], e])
print(json.dumps(out))
`;

describe('syscall filter against the kernel', function () {
  this.timeout(60000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
    writeScript(sb.workspace, 'probe.py', PROBE_PY);
  });
  afterEach(() => sb.cleanup());

  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : null;

  for (const profile of ['moderate', 'strict'] as const) {
    it(`${profile}: each denied call fails with the filter's errno, allowed ones do not`, async function () {
      if (!arch) this.skip();
      const table = syscallTable(arch!);
      const cases = CASES.filter((c) => (c.profile ?? 'moderate') === profile || (!c.profile && profile === 'moderate')).filter((c) => table[c.syscall] !== undefined);
      const payload = cases.map((c) => ({ name: c.name, nr: table[c.syscall], args: c.args.map(String) }));
      const r = await runIn(sb, ['--profile', profile], [PYTHON, 'probe.py', JSON.stringify(payload)]);
      assert.equal(r.code, 0, r.stderr);
      const got = new Map<string, number>(JSON.parse(r.stdout.trim().split('\n').pop()!));
      const wrong: string[] = [];
      for (const c of cases) {
        const e = got.get(c.name);
        if (c.expect === 0 ? e === 1 : e !== c.expect) wrong.push(`${c.name}: errno ${e}, expected ${c.expect === 0 ? 'not EPERM' : c.expect}`);
      }
      assert.deepEqual(wrong, []);
    });
  }

  it('the TypeScript evaluator agrees with the kernel on every case', async function () {
    if (!arch) this.skip();
    const table = syscallTable(arch!);
    const cases = CASES.filter((c) => !c.profile && table[c.syscall] !== undefined);
    const payload = cases.map((c) => ({ name: c.name, nr: table[c.syscall], args: c.args.map(String) }));
    // Without a supervisor the filter answers with errno itself; that is the program we evaluate.
    const prog = compileFilter(buildProfileFilter({ arch: arch!, network: 'inet', allowPtrace: false, extraDeny: [], denyAction: { kind: 'errno', errno: 1 }, monitor: null }));
    const r = await runIn(sb, [], [PYTHON, 'probe.py', JSON.stringify(payload)]);
    const kernel = new Map<string, number>(JSON.parse(r.stdout.trim().split('\n').pop()!));
    for (const c of cases) {
      const ret = evaluateFilter(prog, { nr: table[c.syscall]!, arch: AUDIT_ARCH[arch!], args: c.args.map((a) => BigInt.asUintN(64, BigInt(a))) });
      const action = ret & 0xffff0000;
      const evaluatorErrno = action === 0x00050000 ? ret & 0xffff : 0;
      const kernelErrno = kernel.get(c.name)!;
      if (evaluatorErrno) assert.equal(kernelErrno, evaluatorErrno, `${c.name}: evaluator says errno ${evaluatorErrno}, kernel gave ${kernelErrno}`);
      else assert.notEqual(kernelErrno, 1, `${c.name}: evaluator allows, kernel gave EPERM`);
    }
  });

  it('NoNewPrivs: 1 and Seccomp: 2 in /proc/self/status', async () => {
    const r = await runIn(sb, [], ['/bin/sh', '-c', "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status"]);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.match(r.stdout, /Seccomp:\s+2/);
  });

  it('an x32 syscall kills the process', async function () {
    if (process.arch !== 'x64') this.skip();
    writeScript(sb.workspace, 'x32.py', 'import ctypes\nlibc = ctypes.CDLL(None)\nprint("before", flush=True)\nlibc.syscall(0x40000000 | 39)\nprint("survived")\n');
    const r = await runIn(sb, [], [PYTHON, 'x32.py']);
    assert.match(r.stdout, /before/);
    assert.doesNotMatch(r.stdout, /survived/);
    assert.equal(r.code, 128 + 31); // SIGSYS
  });

  it('a foreign-architecture syscall (i386 int 0x80) kills the process', async function () {
    if (process.arch !== 'x64') this.skip();
    // mov eax, 20 (getpid on i386); int 0x80; ret — run from an executable page.
    const py = `import ctypes, mmap
code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(code)
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
f = ctypes.CFUNCTYPE(ctypes.c_int)(addr)
print("before", flush=True)
print("result", f(), flush=True)
`;
    const script = writeScript(sb.workspace, 'i386.py', py);
    // Probe: without IA32 emulation (CONFIG_IA32_EMULATION off, or ia32_emulation=0 at boot) int 0x80 faults
    // before any filter sees it, so the sandbox's answer cannot be told from the kernel's.
    const probe = spawnSync(PYTHON, [script], { encoding: 'utf8', timeout: 20000 });
    if (probe.status !== 0 || !/result/.test(probe.stdout)) {
      this.skip(); // no IA32 emulation in this kernel (int 0x80 faults without the sandbox too)
    }
    const r = await runIn(sb, [], [PYTHON, 'i386.py']);
    assert.match(r.stdout, /before/);
    assert.doesNotMatch(r.stdout, /result/);
    assert.equal(r.code, 128 + 31);
  });

  it('root inside the sandbox gains nothing: the filter and Landlock hold for uid 0 too', async function () {
    if (!IS_ROOT) this.skip();
    const r = await runIn(sb, [], ['/bin/sh', '-c', 'echo 1 > /proc/sys/kernel/sysrq 2>/dev/null && echo WROTE || echo denied; unshare -m true 2>/dev/null && echo ESCAPED || echo denied']);
    assert.equal(r.stdout.trim(), 'denied\ndenied');
  });
});
