// Performance regression guard (a wide bound): a warm run of /bin/true through the host's engine (pooled
// launchers, the extension's path) must stay within 5x a plain spawn of the same program measured in the
// same loop. It catches a lost pool, a timer or a polling loop in the exit path, or a refill that stalls
// the run it serves; not noise. Medians over alternating runs, each started with the pool settled.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, makeSandbox, type Sandbox } from './helpers';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('warm run cost (regression bound)', function () {
  this.timeout(300_000);
  let sb: Sandbox;
  before(() => {
    sb = makeSandbox();
  });
  after(() => sb.cleanup());

  it('warm /bin/true p50 is at most 5x a plain spawn p50', async () => {
    const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
    const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
    const engine = createEngine({ pool: 2, launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'dist/supervisor.js') });
    try {
      const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: sb.workspace, home: sb.home });
      const plain: number[] = [];
      const warm: number[] = [];
      const phases: string[] = [];
      for (let i = 0; i < 16; i++) {
        await engine.launchersSettled();
        let t0 = performance.now();
        await new Promise((r) => spawn('/bin/true', { stdio: 'ignore' }).once('exit', r));
        const p = performance.now() - t0;
        await engine.launchersSettled();
        t0 = performance.now();
        const r = await engine.runner.run({ command: ['/bin/true'], cwd: sb.workspace, policy, env: { PATH: '/usr/bin:/bin', HOME: os.homedir() } }).wait();
        const w = performance.now() - t0;
        assert.equal(r.exitCode, 0, JSON.stringify(r.setupError));
        if (i === 0) continue; // page cache and JIT warm-up
        plain.push(p);
        warm.push(w);
        if (r.phases) phases.push(`${r.phases.execMs?.toFixed(1)}/${(r.phases.exitMs - (r.phases.execMs ?? 0)).toFixed(1)}/${(r.phases.resultMs - r.phases.exitMs).toFixed(1)}`);
      }
      const ratio = median(warm) / median(plain);
      assert.ok(
        ratio <= 5,
        `warm p50 ${median(warm).toFixed(1)} ms vs plain spawn p50 ${median(plain).toFixed(1)} ms (${ratio.toFixed(1)}x > 5x); phases exec/run/result ms: ${phases.join(' ')}`,
      );
    } finally {
      engine.dispose();
    }
  });
});
