// Memory a hostile script parks where no process holds it, so neither RSS nor a scan of open fds sees it:
// files written to /dev/shm and closed (a tmpfs keeps them), and memfds sent over a unix socket to itself and
// closed (they live on in the socket's queue). A cgroup charges both to the run; without one (the watchdog)
// the namespace tier gives the run a private /dev/shm sized to its memory limit and counts what is stored
// there, and the kernel bounds the fds in flight (RLIMIT_NOFILE per user, each file at most RLIMIT_FSIZE).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { probeNamespaceStage } from '../../../native/linux/namespace-stage';
import { limitEvents, makeSandbox, runIn, writeScript, type CliResult, type Sandbox } from './helpers';

const PY = '/usr/bin/python3';
const SHM_PREFIX = 'ss-parked-';

// 240 MiB in /dev/shm files of 16 MiB, each closed right after it is written: nobody holds them.
const SHM_LEFT = `import os, time
chunk = b"\\x01" * (1 << 20)
stored = 0
try:
    for i in range(15):
        p = "/dev/shm/${SHM_PREFIX}%d-%d" % (os.getpid(), i)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for _ in range(16):
                os.write(fd, chunk)
                stored += 1
        finally:
            os.close(fd)
except OSError as e:
    print("stopped:", e, flush=True)
print("stored", stored, flush=True)
time.sleep(3)
print("survived", flush=True)
`;

// memfds of 2 MiB sent to itself over a unix socket and closed, until the kernel refuses (or 200 of them: 400 MiB).
const MEMFD_PARKED = (type: 'SOCK_STREAM' | 'SOCK_DGRAM') => `import array, os, socket, time
a, b = socket.socketpair(socket.AF_UNIX, socket.${type})
chunk = b"\\x01" * (1 << 20)
n = 0
try:
    while n < 200:
        fd = os.memfd_create("parked")
        for _ in range(2):
            os.write(fd, chunk)
        a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        os.close(fd)
        n += 1
except OSError as e:
    print("stopped:", e, flush=True)
print("parked", n, flush=True)
time.sleep(3)
print("survived", flush=True)
`;

// A file left in /dev/shm, to see where it ends up.
const SHM_MARK = `import os
p = "/dev/shm/${SHM_PREFIX}mark-%d" % os.getpid()
with open(p, "w") as f:
    f.write("x")
print("mark", p, flush=True)
`;

/** Whether runs get the namespace tier here (the suite may be forced to the fallback tier). */
function namespaceTier(): boolean {
  return process.env.SCRIPT_SANDBOX_NAMESPACES !== '0' && probeNamespaceStage().available;
}

function stored(r: CliResult, word: string): number {
  return Number(new RegExp(`${word} (\\d+)`).exec(r.stdout)?.[1] ?? -1);
}

/**
 * With a cgroup: the memory cgroup charges the memfds' pages to the run wherever their fds are, so the run is
 * killed at the limit, unless the kernel's in-flight bound (per user: other processes of the same user hold
 * some too) stopped the parking first, below the limit.
 */
function cgroupHolds(r: CliResult, tree: string): void {
  const parked = stored(r, 'parked');
  if (/survived/.test(r.stdout)) {
    assert.match(r.stdout, /stopped:.*(Too many references|Errno 109)/, `tree ${tree}, parked ${parked} and survived: ${r.stderr}`);
    assert.ok(parked * 2 < 64, `tree ${tree}: ${parked} memfds of 2 MiB survived --memory 64`);
    return;
  }
  assert.deepEqual(limitEvents(r), ['memory']);
}

function removeLeftovers(): void {
  for (const f of fs.readdirSync('/dev/shm')) if (f.startsWith(SHM_PREFIX)) fs.rmSync(`/dev/shm/${f}`, { force: true });
}

describe('hostile limits: memory parked where no process holds it', function () {
  this.timeout(90000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => {
    sb.cleanup();
    removeLeftovers();
  });

  it('240 MiB written to /dev/shm files that are then closed is killed at --memory 64 (namespace tier or cgroup)', async function () {
    writeScript(sb.workspace, 'left.py', SHM_LEFT);
    const r = await runIn(sb, ['--memory', '64', '--allow-write', '/dev/shm'], [PY, 'left.py']);
    const started = r.events[0] ?? {};
    if (started.treeLimits === 'watchdog' && !namespaceTier()) this.skip(); // the host's /dev/shm, no cgroup: stated approximate in `check`
    if (/Permission denied|PermissionError/.test(r.stderr) && stored(r, 'stored') <= 0) this.skip(); // no write grant for /dev/shm here
    assert.doesNotMatch(r.stdout, /survived/, `tree ${String(started.treeLimits)}, stored ${stored(r, 'stored')} MiB: ${r.stderr}`);
    assert.equal(r.code, 128 + 9, r.stderr);
    assert.deepEqual(limitEvents(r), ['memory']);
  });

  it('a file the script leaves in /dev/shm does not outlive the run on the host (private /dev/shm, namespace tier)', async function () {
    writeScript(sb.workspace, 'mark.py', SHM_MARK);
    const r = await runIn(sb, ['--allow-write', '/dev/shm'], [PY, 'mark.py']);
    if (!namespaceTier()) this.skip(); // no mount namespace: the host's /dev/shm is the run's
    const mark = /mark (\S+)/.exec(r.stdout)?.[1];
    assert.ok(mark, r.stdout + r.stderr);
    assert.equal(fs.existsSync(mark!), false, `${mark} is still in the host's /dev/shm`);
  });

  it('memfds parked in a unix stream socket: killed by a cgroup, else bounded by the kernel at RLIMIT_NOFILE files in flight', async () => {
    writeScript(sb.workspace, 'parked.py', MEMFD_PARKED('SOCK_STREAM'));
    const r = await runIn(sb, ['--memory', '64', '--open-files', '32', '--max-file-size', '2'], [PY, 'parked.py']);
    const started = r.events[0] ?? {};
    if (started.treeLimits !== 'watchdog') return cgroupHolds(r, String(started.treeLimits));
    // No cgroup: nothing the host can read shows fds in flight (stated in `check`). The kernel refuses the
    // send past RLIMIT_NOFILE fds in flight for the user (ETOOMANYREFS), each memfd at most RLIMIT_FSIZE.
    assert.match(r.stdout, /stopped:.*(Too many references|Errno 109)/, r.stdout + r.stderr);
    assert.ok(stored(r, 'parked') <= 33, `parked ${stored(r, 'parked')} memfds of 2 MiB with --open-files 32`);
  });

  it('memfds parked in a unix datagram socket: killed by a cgroup (without one: a stated gap)', async function () {
    writeScript(sb.workspace, 'parked.py', MEMFD_PARKED('SOCK_DGRAM'));
    const r = await runIn(sb, ['--memory', '64', '--open-files', '32', '--max-file-size', '2'], [PY, 'parked.py']);
    const started = r.events[0] ?? {};
    // Known gap, stated in `check` and README "Limits": the supervisor performs a datagram sendmsg itself (from
    // its own copy of the message), so the kernel holds the fds in flight against the host's RLIMIT_NOFILE,
    // not the script's; 400 MiB parked this way passes the watchdog.
    if (started.treeLimits === 'watchdog') this.skip();
    cgroupHolds(r, String(started.treeLimits));
  });
});
