// The script against the host's processes and the machine's privileges, under the real kernel: no
// capabilities left after exec (root included), no resource or scheduling changes on foreign pids, no netlink
// under --net none, no memfd_secret, no reading the host's environment. Each case is an attack a script made
// on an earlier version; the checks observe from outside where they can (the run finishes, lo keeps its
// addresses, the file stays mutable).
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runIn, writeScript, finished, PYTHON, IS_ROOT, type Sandbox } from './helpers';

const have = (cmd: string): boolean => spawnSync('/bin/sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Last line of stdout as JSON (python prints one object at the end). */
function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

const ATTACK_PY = `import ctypes, errno, json, os, resource, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ppid = os.getppid()
out = {'ppid': ppid}
def attempt(name, fn):
    try:
        fn()
        out[name] = 'ok'
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
def sys_call(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a & 0xffffffffffffffff) for a in args])
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r
for a in sys.argv[1:]:
    if a == 'prlimit':
        # Harmless on a host that lets it through (core size 0), then the ones that broke hosts before.
        attempt('prlimit_core', lambda: resource.prlimit(ppid, resource.RLIMIT_CORE, (0, 0)))
        attempt('prlimit_nofile', lambda: resource.prlimit(ppid, resource.RLIMIT_NOFILE, (20, 20)))
        attempt('prlimit_cpu', lambda: resource.prlimit(ppid, resource.RLIMIT_CPU, (1, 1)))
        attempt('prlimit_self', lambda: resource.prlimit(0, resource.RLIMIT_CORE, (0, 0)))
        # Reading another process's limits (new_limit NULL) stays allowed: the parent's limits after the attempts.
        out['parent_nofile'] = list(resource.prlimit(ppid, resource.RLIMIT_NOFILE))
        out['parent_cpu'] = list(resource.prlimit(ppid, resource.RLIMIT_CPU))
    elif a == 'setpriority':
        attempt('setpriority_parent', lambda: os.setpriority(os.PRIO_PROCESS, ppid, 10))
        attempt('setpriority_user', lambda: os.setpriority(os.PRIO_USER, 0, 10))
        attempt('setpriority_self', lambda: os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + 1)))
    elif a == 'affinity':
        attempt('affinity_parent', lambda: os.sched_setaffinity(ppid, os.sched_getaffinity(ppid)))
        attempt('affinity_self', lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))
    elif a == 'netlink':
        def nl():
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
            s.close()
        attempt('netlink_route', nl)
    elif a == 'memfd_secret':
        nr = {'x86_64': 447, 'aarch64': 447}[os.uname().machine]
        attempt('memfd_secret', lambda: os.close(sys_call(nr, 0)))
    elif a == 'environ':
        def env():
            with open('/proc/%d/environ' % ppid, 'rb') as f:
                return len(f.read())
        attempt('environ_parent', env)
print(json.dumps(out))
`;

describe('processes and privileges', function () {
  this.timeout(60000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
    writeScript(sb.workspace, 'attack.py', ATTACK_PY);
  });
  afterEach(() => sb.cleanup());

  it('the script holds no capabilities (root: none in any set, the bounding set included)', async () => {
    const r = await runIn(sb, [], ['/bin/sh', '-c', "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status"]);
    assert.equal(r.code, 0, r.stderr);
    const caps = Object.fromEntries([...r.stdout.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map((m) => [m[1], BigInt('0x' + m[2])]));
    for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.equal(caps[k], 0n, `${k} in ${r.stdout}`);
    // An unprivileged launcher cannot change its bounding set (no CAP_SETPCAP); no_new_privs and an empty
    // permitted set make it irrelevant there. Root can and must empty it.
    if (IS_ROOT) assert.equal(caps.CapBnd, 0n, `CapBnd in ${r.stdout}`);
  });

  it('root gets nothing back from exec: securebits NOROOT and NO_SETUID_FIXUP set and locked', async function () {
    if (!IS_ROOT) this.skip();
    const py = 'import ctypes\nprint(ctypes.CDLL(None).prctl(27, 0, 0, 0, 0))\n'; // PR_GET_SECUREBITS
    const r = await runIn(sb, [], [PYTHON, '-c', py]);
    assert.equal(r.code, 0, r.stderr);
    // NOROOT|NOROOT_LOCKED|NO_SETUID_FIXUP|NO_SETUID_FIXUP_LOCKED|KEEP_CAPS_LOCKED|NO_CAP_AMBIENT_RAISE(_LOCKED)
    assert.equal(Number(r.stdout.trim()) & 0xef, 0xef, r.stdout);
  });

  it('root cannot add an address to the host\'s loopback interface', async function () {
    if (!IS_ROOT || !have('ip')) this.skip();
    const ADDR = '192.0.2.1/32';
    try {
      const r = await runIn(sb, [], ['/bin/sh', '-c', `ip addr add ${ADDR} dev lo && echo ADDED || echo refused`]);
      assert.match(r.stdout, /refused/, r.stdout + r.stderr);
      assert.doesNotMatch(execFileSync('ip', ['addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }), /192\.0\.2\.1\//);
    } finally {
      spawnSync('ip', ['addr', 'del', ADDR, 'dev', 'lo']);
    }
  });

  it('root cannot make a workspace file immutable (chattr +i)', async function () {
    if (!IS_ROOT || !have('chattr')) this.skip();
    const f = path.join(sb.workspace, 'victim.txt');
    fs.writeFileSync(f, 'data\n');
    // Probe: the filesystem must support the flag at all (tmpfs before 6.0 did not).
    const probe = path.join(sb.outside, 'probe.txt');
    fs.writeFileSync(probe, '');
    const ok = spawnSync('chattr', ['+i', probe]).status === 0;
    spawnSync('chattr', ['-i', probe]);
    if (!ok) this.skip();
    try {
      const r = await runIn(sb, [], ['/bin/sh', '-c', 'chattr +i victim.txt && echo SET || echo refused']);
      assert.match(r.stdout, /refused/, r.stdout + r.stderr);
      fs.appendFileSync(f, 'still mutable\n');
    } finally {
      spawnSync('chattr', ['-i', f]);
    }
  });

  it('prlimit64 on the parent fails with EPERM and the host runs on; the script may still set its own limits', async () => {
    const r = await runIn(sb, [], [PYTHON, 'attack.py', 'prlimit']);
    assert.equal(r.code, 0, r.stderr);
    finished(r);
    const o = lastJson(r.stdout);
    for (const k of ['prlimit_core', 'prlimit_nofile', 'prlimit_cpu']) assert.equal(o[k], 'EPERM', `${k}: ${JSON.stringify(o)}`);
    assert.equal(o.prlimit_self, 'ok');
  });

  it('warn mode, tier without a PID namespace: prlimit64 on the parent still fails and its limits stay as they were', async () => {
    // Warn mode lets policy denials through; these protect the host (the parent is a pid the script can name
    // here), so they are EPERM in every mode. The parent's limits are read back after the attempts (a read,
    // new_limit NULL, stays allowed), and the run still finishes normally.
    const r = await runIn(sb, ['--mode', 'warn'], [PYTHON, 'attack.py', 'prlimit'], { SCRIPT_SANDBOX_NAMESPACES: '0' });
    assert.equal(r.code, 0, r.stderr);
    finished(r);
    const o = lastJson(r.stdout);
    assert.ok(Number(o.ppid) > 1, `the parent is visible (no PID namespace): ${JSON.stringify(o)}`);
    for (const k of ['prlimit_core', 'prlimit_nofile', 'prlimit_cpu']) assert.equal(o[k], 'EPERM', `${k}: ${JSON.stringify(o)}`);
    assert.equal(o.prlimit_self, 'ok');
    assert.notDeepEqual(o.parent_nofile, [20, 20], JSON.stringify(o));
    assert.notDeepEqual(o.parent_cpu, [1, 1], JSON.stringify(o));
  });

  it('setpriority and sched_setaffinity on the parent (or all of the user) fail; on itself they work', async () => {
    const r = await runIn(sb, [], [PYTHON, 'attack.py', 'setpriority', 'affinity']);
    assert.equal(r.code, 0, r.stderr);
    const o = lastJson(r.stdout);
    assert.equal(o.setpriority_parent, 'EPERM', JSON.stringify(o));
    assert.equal(o.setpriority_user, 'EPERM', JSON.stringify(o));
    assert.equal(o.affinity_parent, 'EPERM', JSON.stringify(o));
    assert.equal(o.setpriority_self, 'ok', JSON.stringify(o));
    assert.equal(o.affinity_self, 'ok', JSON.stringify(o));
  });

  it('--net none: no netlink route socket (the host\'s interfaces and routes stay hidden)', async () => {
    const none = await runIn(sb, ['--net', 'none'], [PYTHON, 'attack.py', 'netlink']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(lastJson(none.stdout).netlink_route, 'EPERM', none.stdout);
    const inet = await runIn(sb, [], [PYTHON, 'attack.py', 'netlink']);
    assert.equal(lastJson(inet.stdout).netlink_route, 'ok', inet.stdout);
  });

  it('memfd_secret fails with EPERM', async function () {
    if (process.arch !== 'x64' && process.arch !== 'arm64') this.skip();
    const r = await runIn(sb, [], [PYTHON, 'attack.py', 'memfd_secret']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson(r.stdout).memfd_secret, 'EPERM', r.stdout);
  });

  it("the host's /proc/<pid>/environ cannot be read", async () => {
    const r = await runIn(sb, [], [PYTHON, 'attack.py', 'environ'], { SS_SECRET_MARK: 'x' });
    assert.equal(r.code, 0, r.stderr);
    const o = lastJson(r.stdout);
    assert.notEqual(o.environ_parent, 'ok', JSON.stringify(o));
  });
});
