// Limits a hostile script tries to slip past when there is no cgroup (the watchdog holds them): memory kept
// in memfds it never maps, and CPU burnt by orphans that someone other than the run's root reaps. As root on
// a cgroup machine the kernel may hold the memory limit instead; the run must end at the limit either way.
import { strict as assert } from 'node:assert';
import { finished, limitEvents, makeSandbox, runIn, writeScript, type Sandbox } from './helpers';

// Python from /usr/bin: the unprivileged suite cannot read a pyenv under /root.
const PY = '/usr/bin/python3';

// Ten memfds of 32 MiB (320 MiB), each written with write() and never mapped: no page of them is in any RSS.
const MEMFD_HOARD = `import os, time
fds = []
chunk = b"\\x01" * (1 << 20)
for i in range(10):
    fd = os.memfd_create("hoard%d" % i)
    for _ in range(32):
        os.write(fd, chunk)
    fds.append(fd)
print("held", flush=True)
time.sleep(3)
print("survived", flush=True)
`;

// The same through a file on a tmpfs (/dev/shm), opened and unlinked: its pages stay charged while it is open.
// In the namespace tier /dev/shm is the run's own tmpfs, sized to the memory limit: the writes past it fail
// (ENOSPC) and the script holds what it got, which the watchdog must still count and kill.
const SHM_HOARD = `import os, time
fds = []
chunk = b"\\x01" * (1 << 20)
try:
    for i in range(6):
        p = "/dev/shm/ss-hoard-%d-%d" % (os.getpid(), i)
        fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(p)
        fds.append(fd)
        for _ in range(32):
            os.write(fd, chunk)
except OSError as e:
    print("stopped:", e, flush=True)
print("held", flush=True)
time.sleep(3)
print("survived", flush=True)
`;

// Three orphans (double fork: re-parented away from the script) that each burn 1.3 s of CPU, one after the
// other, so no moment has more than one alive: each stays under RLIMIT_CPU 2, together they use 3.9 s. A pipe
// (not a file) says when each is done: only CPU accounting is under test.
const ORPHAN_BURN = `import os, sys, time
def burn(w):
    t = time.process_time()
    while time.process_time() - t < 1.3:
        pass
    os.write(w, b"x")
    os._exit(0)
for i in range(3):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            burn(w)
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    os.read(r, 1)
    os.close(r)
    time.sleep(0.3)
print("survived", flush=True)
`;

// 40 MiB in a memfd that stays open and mapped (every page touched): RSS has it already, so the tree is at
// about 40 MiB + the interpreter, under 64. Counted twice (held + mapped) it would cross.
const MEMFD_MAPPED = `import mmap, os, time
fd = os.memfd_create("mapped")
os.ftruncate(fd, 40 << 20)
m = mmap.mmap(fd, 40 << 20)
for off in range(0, 40 << 20, 4096):
    m[off] = 1
print("mapped", flush=True)
time.sleep(2)
print("survived", flush=True)
`;

describe('hostile limits: memory and CPU the watchdog must not lose', function () {
  this.timeout(90000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.cleanup());

  for (const [what, prog, flags] of [
    ['memfds written and never mapped', MEMFD_HOARD, []],
    ['unlinked /dev/shm files held open', SHM_HOARD, ['--allow-write', '/dev/shm']],
  ] as const) {
    it(`memory held in ${what} is killed at --memory 64 (enforce)`, async function () {
      writeScript(sb.workspace, 'hoard.py', prog);
      const r = await runIn(sb, ['--memory', '64', ...flags], [PY, 'hoard.py']);
      if ((/Permission denied|EACCES|PermissionError/.test(r.stderr) && !/held/.test(r.stdout)) || /stopped:.*Permission denied/.test(r.stdout)) this.skip(); // no write grant for /dev/shm here
      assert.doesNotMatch(r.stdout, /survived/, `tree ${String(r.events[0]?.treeLimits)}: ${r.stderr}`);
      assert.equal(r.code, 128 + 9, r.stderr);
      assert.deepEqual(limitEvents(r), ['memory']);
    });
  }

  it('a memfd both held open and mapped counts once: 40 MiB stays under --memory 64', async () => {
    writeScript(sb.workspace, 'mapped.py', MEMFD_MAPPED);
    const r = await runIn(sb, ['--memory', '64'], [PY, 'mapped.py']);
    assert.match(r.stdout, /survived/, `tree ${String(r.events[0]?.treeLimits)}: ${r.stderr} ${JSON.stringify(r.events)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(limitEvents(r), []);
  });

  it('memory held in memfds is reported at --memory 64 in warn mode (watchdog)', async function () {
    writeScript(sb.workspace, 'hoard.py', MEMFD_HOARD);
    const r = await runIn(sb, ['--mode', 'warn', '--memory', '64'], [PY, 'hoard.py']);
    if (String(r.events[0]?.treeLimits) !== 'watchdog') this.skip(); // a cgroup holds memory in the kernel (OOM kill in every mode)
    assert.match(r.stdout, /survived/, r.stderr);
    const ev = r.events.find((e) => e.type === 'limit_exceeded' && e.limit === 'memory');
    assert.ok(ev, JSON.stringify(r.events));
    assert.equal(ev!.action, 'reported');
    assert.ok(Number(ev!.observed) >= 64, JSON.stringify(ev));
  });

  for (const tier of ['namespace', 'fallback'] as const) {
    it(`CPU of three sequential 1.3 s orphans is charged to the run: --cpu 2 kills it (${tier} tier)`, async () => {
      writeScript(sb.workspace, 'orphans.py', ORPHAN_BURN);
      const env: Record<string, string> = tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0' } : {};
      const r = await runIn(sb, ['--cpu', '2', '--timeout', '40'], [PY, 'orphans.py'], env);
      assert.doesNotMatch(r.stdout, /survived/, `tree ${String(r.events[0]?.treeLimits)}: ${JSON.stringify(finished(r))}`);
      assert.ok(limitEvents(r).includes('cpu'), JSON.stringify(r.events));
      assert.ok(!limitEvents(r).includes('timeout'), JSON.stringify(r.events));
    });
  }
});
