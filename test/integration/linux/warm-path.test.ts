// The warm path stays warm (issue 11's regression test): /bin/true through the host's engine with its pool
// ready, against a plain spawn of /bin/true, interleaved. The bound is wide on purpose (it catches a lost
// pool, a launcher started per run, or a timer in the exit path, not noise): warm p50 <= plain p50 + 50 ms.
// Here (2-core VM, runs back to back with only the pool's settling between) warm was 20-21 ms over plain, and
// 80-100 ms over it with a launcher started per run, which the second case checks against the same bound, so
// this check can fail. (Issue 11 asked for 5x plain; the floor of this design is above it: see README,
// Performance.) Speed figures themselves come from `npm run bench`.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, makeSandbox, type Sandbox } from './helpers';

type Engine = ReturnType<typeof import('../../../src/host/engine').createEngine>;

const BOUND_MS = 50;
const RUNS = 15;

function plainSpawn(cwd: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/true', [], { cwd, stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', () => resolve(performance.now() - t0));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the warm path (regression bound, real kernel)', function () {
  this.timeout(120_000);
  let sb: Sandbox;
  let engine: Engine | null = null;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => {
    engine?.dispose();
    engine = null;
    sb.cleanup();
  });

  /** Plain and sandboxed p50 over RUNS interleaved runs, after three untimed sandboxed ones. */
  async function measure(pool: number): Promise<{ plain: number; sandboxed: number }> {
    const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
    const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
    engine = createEngine({ pool, launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'dist/supervisor.js') });
    // The real home, as the bench's: a home inside a writable grant (the suite's fake homes are under /tmp)
    // turns every entry of that folder into a Landlock rule of its own, a cost this bound is not about.
    const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: sb.workspace, home: os.homedir() });
    const run = async () => {
      await engine!.launchersSettled();
      const t0 = performance.now();
      const r = await engine!.runner.run({ command: ['/bin/true'], cwd: sb.workspace, policy, env: { PATH: '/usr/bin:/bin', HOME: os.homedir() } }).wait();
      assert.equal(r.setupError, null, JSON.stringify(r.setupError));
      assert.equal(r.exitCode, 0);
      return performance.now() - t0;
    };
    for (let i = 0; i < 3; i++) await run();
    const plain: number[] = [];
    const sandboxed: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await engine.launchersSettled();
      plain.push(await plainSpawn(sb.workspace));
      sandboxed.push(await run());
    }
    return { plain: median(plain), sandboxed: median(sandboxed) };
  }

  it(`a warm run of /bin/true stays within ${BOUND_MS} ms of a plain spawn (p50)`, async () => {
    const m = await measure(2);
    process.stdout.write(`      plain ${m.plain.toFixed(1)} ms, warm ${m.sandboxed.toFixed(1)} ms (p50 of ${RUNS})\n`);
    assert.ok(m.sandboxed <= m.plain + BOUND_MS, `warm p50 ${m.sandboxed.toFixed(1)} ms > plain ${m.plain.toFixed(1)} + ${BOUND_MS} ms`);
  });

  it('without the pool (a launcher started per run) the same bound is crossed: the check above can fail', async () => {
    const m = await measure(0);
    process.stdout.write(`      plain ${m.plain.toFixed(1)} ms, cold launcher ${m.sandboxed.toFixed(1)} ms (p50 of ${RUNS})\n`);
    assert.ok(m.sandboxed > m.plain + BOUND_MS, `a run with its own launcher start took only ${m.sandboxed.toFixed(1)} ms (plain ${m.plain.toFixed(1)})`);
  });
});
