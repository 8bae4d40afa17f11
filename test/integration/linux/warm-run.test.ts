// Performance regression guard (a wide bound): a warm run of /bin/true through the host's engine (pooled
// launchers, the extension's path) must stay within 5x a plain spawn of the same program measured in the
// same loop. It catches a lost pool, a timer or a polling loop in the exit path, a compile that lost its
// caches, or a refill that stalls the run it serves; not noise. A/B interleaved (each pair started with the
// pool full), a few pairs of warm-up, medians of many pairs: on a loaded 2-core machine single runs swing by
// several times, medians over 30 pairs do not.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, makeSandbox, type Sandbox } from './helpers';

const PAIRS = 30;
const WARM_UP = 4;
const BOUND = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('warm run cost (regression bound)', function () {
  this.timeout(600_000);
  let sb: Sandbox;
  before(() => {
    sb = makeSandbox();
  });
  after(() => sb.cleanup());

  it(`warm /bin/true p50 is at most ${BOUND}x a plain spawn p50`, async () => {
    const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
    const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
    const engine = createEngine({ pool: 2, launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'dist/supervisor.js') });
    try {
      const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: sb.workspace, home: sb.home });
      // A workspace made a moment ago is not settled enough for the compile caches (see carve-out-cache.ts):
      // the user's workspace is not new either.
      const settled = Date.now() + 1200;
      while (Date.now() < settled) await new Promise((r) => setTimeout(r, 100));
      const plain: number[] = [];
      const warm: number[] = [];
      const phases: string[] = [];
      for (let i = 0; i < WARM_UP + PAIRS; i++) {
        await engine.launchersSettled();
        let t0 = performance.now();
        await new Promise((r) => spawn('/bin/true', { stdio: 'ignore' }).once('exit', r));
        const p = performance.now() - t0;
        await engine.launchersSettled();
        t0 = performance.now();
        const r = await engine.runner.run({ command: ['/bin/true'], cwd: sb.workspace, policy, env: { PATH: '/usr/bin:/bin', HOME: sb.home } }).wait();
        const w = performance.now() - t0;
        assert.equal(r.exitCode, 0, JSON.stringify(r.setupError));
        if (i < WARM_UP) continue; // page cache, JIT, compile caches
        plain.push(p);
        warm.push(w);
        if (r.phases) phases.push(`${r.phases.execMs?.toFixed(0)}/${(r.phases.exitMs - (r.phases.execMs ?? 0)).toFixed(0)}/${(r.phases.resultMs - r.phases.exitMs).toFixed(0)}`);
      }
      const ratio = median(warm) / median(plain);
      const detail = `warm p50 ${median(warm).toFixed(1)} ms vs plain spawn p50 ${median(plain).toFixed(1)} ms (${ratio.toFixed(2)}x; load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cpus); phases request->exec/exec->exit/exit->result ms: ${phases.join(' ')}`;
      if (process.env.SCRIPT_SANDBOX_BENCH_LOG) fs.appendFileSync(process.env.SCRIPT_SANDBOX_BENCH_LOG, detail + '\n');
      assert.ok(ratio <= BOUND, `${detail} > ${BOUND}x`);
    } finally {
      engine.dispose();
    }
  });
});
