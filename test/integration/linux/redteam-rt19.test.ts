// Red team rt19, on ba2a9f8 (a launcher waiting in the pool is moved into a cgroup of its own ahead of the run,
// off the main thread: held-cgroups.ts). The engine is driven in this process with a pool, as the extension
// host does (attach-order.test.ts), and everything is observed from outside: /proc/<pid>/cgroup, the cgroup
// directories, the owner records.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, makeSandbox, type Sandbox } from './helpers';
import { TIERS } from './use-sandbox';

type Engine = ReturnType<typeof import('../../../src/host/engine').createEngine>;

interface HeldEntry {
  cg: { directories(): string[] };
  state: 'moving' | 'in' | 'failed';
}
interface PlatformView {
  held: { held: Map<number, HeldEntry> } | null;
}

const IS_ROOT = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeEngine(env: Record<string, string>, pool: number): Engine {
  const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
  const saved = process.env.SCRIPT_SANDBOX_NAMESPACES;
  if (env.SCRIPT_SANDBOX_NAMESPACES) process.env.SCRIPT_SANDBOX_NAMESPACES = env.SCRIPT_SANDBOX_NAMESPACES;
  else delete process.env.SCRIPT_SANDBOX_NAMESPACES;
  try {
    return createEngine({ pool, launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'dist/supervisor.js') });
  } finally {
    if (saved === undefined) delete process.env.SCRIPT_SANDBOX_NAMESPACES;
    else process.env.SCRIPT_SANDBOX_NAMESPACES = saved;
  }
}

function platformOf(engine: Engine): PlatformView {
  return (engine.runner as unknown as { platform: PlatformView }).platform;
}

function policyFor(sb: Sandbox, extra: Record<string, unknown> = {}) {
  const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
  return resolvePolicy({ run: { mode: 'enforce', profile: 'moderate', ...extra } }, { workspace: sb.workspace, home: sb.home }).policy;
}

/** The cgroup paths of a process by controller (v1 lines), or null when it is gone. */
function cgroupsOf(pid: number): Record<string, string> | null {
  try {
    const out: Record<string, string> = {};
    for (const l of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean)) {
      const [, ctl, p] = l.split(':');
      for (const c of (ctl ?? '').split(',')) out[c || 'unified'] = p ?? '';
    }
    return out;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Holds every thread of libuv's pool in this process (an open of a FIFO with no writer blocks in the pool), as
 * a host busy with slow file or name look-ups would (dns.lookup of a policy's hosts runs there too); returns
 * the release.
 */
function stallThreadPool(dir: string): () => Promise<void> {
  const n = Number(process.env.UV_THREADPOOL_SIZE ?? 4) + 2;
  const fifos: string[] = [];
  const opens: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    const f = path.join(dir, `stall-${i}`);
    execFileSync('mkfifo', [f]);
    fifos.push(f);
    opens.push(fs.promises.open(f, 'r').then((h) => h.close(), () => undefined));
  }
  // Opens queued behind the blocked ones start only once those end: write-open each FIFO until every reader
  // is through, or the pool stays blocked and the test process never exits.
  return async () => {
    let done = false;
    void Promise.all(opens).then(() => (done = true));
    for (let round = 0; round < 500 && !done; round++) {
      for (const f of fifos) {
        try {
          fs.closeSync(fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
        } catch {
          // no reader there (yet, or any more)
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
}

/** Forks a `sleep` whose host pid is `want` (ns_last_pid, root): what any process on the machine may get once a
 *  pid is free again. Returns the child, or null when another fork took the pid first. */
function spawnWithPid(want: number): ChildProcess | null {
  const py = `import os, sys, time
want = int(sys.argv[1])
for _ in range(50):
    with open('/proc/sys/kernel/ns_last_pid', 'w') as f: f.write(str(want - 1))
    pid = os.fork()
    if pid == 0:
        n = os.open('/dev/null', os.O_RDWR)
        for fd in (0, 1, 2): os.dup2(n, fd)
        os.execv('/bin/sleep', ['sleep', '120'])
    if pid == want:
        print(pid, flush=True); os._exit(0)
    os.kill(pid, 9); os.waitpid(pid, 0)
print(0, flush=True)
`;
  const r = spawnSync('python3', ['-c', py, String(want)], { encoding: 'utf8' });
  const got = Number(r.stdout.trim());
  if (got !== want) return null;
  return { pid: got } as ChildProcess;
}

describe('red team rt19: held cgroups of waiting launchers (real kernel, cgroups)', function () {
  this.timeout(180_000);
  let sb: Sandbox;
  let engine: Engine | null = null;
  const victims: number[] = [];
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => {
    engine?.dispose();
    engine = null;
    for (const v of victims.splice(0)) {
      try {
        process.kill(v, 'SIGKILL');
      } catch {
        // gone
      }
    }
    sb.cleanup();
  });

  for (const [tier, env] of TIERS) {
    it(`a pool launcher killed while its move waits in libuv's pool: the late write moves whatever process gets its pid next into the held cgroup, and the host SIGKILLs it (${tier})`, async function () {
      if (!IS_ROOT) this.skip(); // the test gives the freed pid to its process through ns_last_pid
      const release = stallThreadPool(sb.root);
      let released = false;
      try {
        engine = makeEngine(env, 1);
        const held = platformOf(engine).held;
        if (!held) this.skip(); // no cgroups here
        await engine.launchersSettled();
        const entries = [...held!.held.entries()];
        assert.equal(entries.length, 1, 'one held launcher expected');
        const [pid, h] = entries[0]!;
        // On ba2a9f8 the host's own write of this pid still waited in the stalled pool here (state 'moving');
        // since the launcher joins by itself, whatever the state, no write names the pid.
        void h.state;
        const dirs = h.cg.directories();
        // The launcher dies while it waits (OOM killer, a user's kill -9): its pid is free again.
        process.kill(pid, 'SIGKILL');
        for (let i = 0; i < 200 && fs.existsSync(`/proc/${pid}`); i++) await sleep(10);
        await sleep(50);
        // Any process started now may get that pid: here an unrelated `sleep 30` outside every sandbox.
        let victim: ChildProcess | null = null;
        for (let i = 0; i < 20 && !victim; i++) victim = spawnWithPid(pid);
        if (!victim) this.skip(); // the machine took the pid first
        victims.push(pid);
        const before = cgroupsOf(pid);
        await release();
        released = true;
        // Watched from outside while the late writes land.
        const seen = new Set<string>();
        for (let t = Date.now(); Date.now() - t < 1500; ) {
          const c = cgroupsOf(pid);
          if (c && alive(pid)) seen.add(`${c.pids} ${c.memory}`);
          await new Promise((r) => setImmediate(r));
        }
        const after = cgroupsOf(pid);
        const inHeld = after && Object.values(after).some((p) => dirs.some((d) => d.endsWith(p) && p.includes('script-sandbox')));
        assert.ok(alive(pid) && !inHeld, `an unrelated process (pid ${pid}, the dead launcher's) was ${alive(pid) ? 'moved into the held cgroup' : 'killed'} by the host: cgroups before ${JSON.stringify(before)}, seen alive in (pids memory): ${[...seen].join(' | ')}; after ${JSON.stringify(after)}`);
      } finally {
        if (!released) await release();
      }
    });

    it(`a run that takes a launcher whose join is still in flight runs in the launcher's cgroup (${tier})`, async function () {
      const eng = makeEngine(env, 1);
      engine = eng;
      const held = platformOf(eng).held;
      if (!held) this.skip(); // no cgroups here
      const ws = sb.workspace;
      // Fifteen tries: each waits for the pool's launcher to be held with its join unanswered, and runs at once.
      let raced = 0;
      for (let i = 0; i < 15; i++) {
        for (let t = Date.now(); Date.now() - t < 20_000; await new Promise((r) => setImmediate(r))) {
          if ([...held!.held.values()].some((h) => h.state === 'moving')) break;
        }
        if ([...held!.held.values()].some((h) => h.state === 'moving')) raced++;
        const run = eng.runner.run({ command: ['/bin/sh', '-c', 'cat /proc/self/cgroup'], cwd: ws, policy: policyFor(sb), env: { PATH: '/usr/bin:/bin', HOME: sb.home } });
        let out = '';
        run.on('stdout', (b: Buffer) => (out += b.toString()));
        const r = await run.wait();
        assert.equal(r.setupError, null, `try ${i}: ${JSON.stringify(r.setupError)}`);
        assert.equal(r.exitCode, 0, out);
        const lines = out.split('\n').filter((l) => /^\d+:(pids|memory):/.test(l));
        assert.ok(lines.length >= 2 && lines.every((l) => l.includes('/script-sandbox/')), `try ${i}: the script ran outside a run cgroup:\n${out}`);
      }
      if (!raced) this.skip(); // every join was answered before the run could take its launcher
    });
  }
});
