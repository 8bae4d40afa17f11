// The launcher killed during setup, at seeded moments: idle in the pool after `ready`, or while the run's
// plan is applied. The run must end (a setup error, or killed), nothing may run unsandboxed (any output the
// script produces shows seccomp on and the protected write refused), and the same host serves the next run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostProcess } from '../integration/linux/host-process';
import { faultSeed, prng, trialDirs } from './fault-support';

const TRIALS = Number(process.env.SS_FAULT_LAUNCHER_TRIALS ?? 8);

/** The host's launcher children (pooled idle ones and the one a run uses before it execs). */
function launchersOf(hostPid: number): number[] {
  const out: number[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === hostPid && fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').includes('launcher.js')) out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

describe('fault: the launcher killed mid-setup', function () {
  this.timeout(600_000);
  const seed = faultSeed() + 2;
  const rand = prng(seed);
  // Proves from inside that the sandbox is on: seccomp filter mode, and a protected write refused.
  const { root, ws, home, env } = trialDirs('ss-fault-launcher', { 'probe.sh': '#!/bin/sh\ngrep "^Seccomp:" /proc/self/status\n(echo x > "$HOME/.bashrc") 2>/dev/null && echo UNSANDBOXED-WRITE\necho done\n' });
  fs.writeFileSync(path.join(home, '.bashrc'), 'original\n');
  let host: HostProcess;
  const outcomes: Record<string, number> = {};
  const examples: Record<string, string> = {};
  let nextFailed = 0;

  before(async () => {
    host = new HostProcess({ HOME: home });
    await host.ready(60_000);
  });
  after(async () => {
    process.stdout.write(`      [fault] launcher kill: ${TRIALS} trials (seed ${seed}); outcomes ${JSON.stringify(outcomes)}; next run also killed before exec ${nextFailed}/${TRIALS} (then served); e.g. ${JSON.stringify(examples)}\n`);
    await host.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  for (let i = 0; i < TRIALS; i++) {
    it(`trial ${i + 1}/${TRIALS}: ${i % 2 ? 'during setup' : 'idle in the pool, right after ready'}`, async () => {
      // Let the pool refill so there is something to kill.
      await new Promise((r) => setTimeout(r, 1500));
      let killed = 0;
      const killAll = () => {
        for (const pid of launchersOf(host.pid)) {
          try {
            process.kill(pid, 'SIGKILL');
            killed++;
          } catch {
            // gone
          }
        }
      };
      if (i % 2 === 0) killAll();
      host.send({ type: 'run', requestId: `probe-${i}`, command: ['./probe.sh'], cwd: ws, workspace: ws, env, layers: { user: { limits: { timeoutSeconds: 60 } } } });
      if (i % 2 === 1) {
        await new Promise((r) => setTimeout(r, Math.round(rand() * 400)));
        killAll();
      }
      const ans = await host.waitFor((m) => m.requestId === `probe-${i}` && (m.type === 'accepted' || m.type === 'rejected'), 60_000, 'answer', true);
      assert.equal(ans.type, 'accepted', JSON.stringify(ans));
      const runId = String(ans.runId);
      const f = await host.finished(runId, 120_000);
      const out = host.output(runId);
      assert.ok(!out.includes('UNSANDBOXED-WRITE'), `the script ran without the sandbox: ${out}`);
      assert.ok(!/Seccomp:\s*0/.test(out), `the script ran without seccomp: ${out}`);
      assert.equal(fs.readFileSync(path.join(home, '.bashrc'), 'utf8'), 'original\n');
      const setupError = f.setupError as { code: string; message: string } | null;
      const kind = setupError ? `setupError ${setupError.code}` : f.exitCode === 0 && out.includes('done') ? 'ran sandboxed (a fresh launcher)' : `ended ${f.signal ?? `exit ${f.exitCode}`} without a setup error`;
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
      examples[kind] ??= setupError ? setupError.message : JSON.stringify({ exitCode: f.exitCode, signal: f.signal, killed });
      if (setupError) assert.ok(setupError.message.length > 0 && !/undefined|\n\s+at /.test(setupError.message), setupError.message);
      else if (!(f.exitCode === 0 && out.includes('done'))) {
        // A launcher that dies before exec is a setup error (LAUNCHER_CRASHED, "exited before the script
        // started"), not a started script killed by SIGKILL. The only other way to end: the kill landed after
        // the launcher's 'exec' message (the script had started), so the run was started and then killed.
        const started = host.messages.some((m) => m.type === 'started' && m.runId === runId);
        assert.ok(started && f.signal === 'SIGKILL', `a run that never started ended without a setup error: ${JSON.stringify(f)}`);
      }
      if (setupError) {
        // A clear setup error: no 'started' event, exit 125 (not 137). LAUNCHER_CRASHED when the control
        // channel closed without 'exec'; a kill that lands while the host is mid-exchange (writing the plan,
        // taking the listener fd) surfaces as that call's SETUP_FAILED (e.g. ESRCH).
        if (setupError.code === 'LAUNCHER_CRASHED') assert.match(setupError.message, /launcher/);
        else assert.equal(setupError.code, 'SETUP_FAILED', setupError.message);
        assert.ok(!host.messages.some((m) => m.type === 'started' && m.runId === runId), 'a setup error after a started event');
        assert.equal(f.exitCode, 125, JSON.stringify(f));
      }

      // The same host serves the next run. FINDING (reported, since fixed: the runner now replaces a launcher
      // found dead before it answered the plan, see the pooled-launcher test below): right after a kill during
      // setup, the next run sometimes died before exec too (a launcher killed in the same sweep still handed
      // out); it is counted (0 expected now), and a run after it must succeed. The pool holds two launchers and one sweep can kill
      // both, so up to two runs may meet a dead one before a freshly started launcher serves the third.
      assert.ok(host.alive, 'the host died');
      let okId = '';
      let okF: Record<string, unknown> = {};
      for (let attempt = 0; attempt < 3; attempt++) {
        okId = await host.run({ requestId: `next-${i}-${attempt}`, command: ['./probe.sh'], cwd: ws, workspace: ws, env });
        okF = await host.finished(okId, 120_000);
        if (okF.exitCode === 0) break;
        nextFailed++;
        // Killed before exec: a setup error now (was reported as SIGKILL); after 'exec', a killed script.
        const e = okF.setupError as { code: string } | null;
        assert.ok(e ? ['LAUNCHER_CRASHED', 'SETUP_FAILED'].includes(e.code) : okF.signal === 'SIGKILL', JSON.stringify(okF));
      }
      assert.equal(okF.exitCode, 0, `${JSON.stringify(okF)} output ${host.output(okId)}`);
      assert.match(host.output(okId), /Seccomp:\s*2[\s\S]*done/);
    });
  }
});

describe('fault: the pooled launchers killed while idle', function () {
  this.timeout(300_000);
  const ROUNDS = 3;
  const { root, ws, home, env } = trialDirs('ss-fault-pool', { 'probe.sh': '#!/bin/sh\ngrep "^Seccomp:" /proc/self/status\necho done\n' });

  for (const tier of ['namespace', 'fallback'] as const) {
    it(`${tier} tier: with every pooled launcher killed just before, the next run still succeeds on its first try (${ROUNDS} rounds)`, async () => {
      const host = new HostProcess({ HOME: home, ...(tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0' } : {}) });
      try {
        await host.ready(60_000);
        for (let round = 0; round < ROUNDS; round++) {
          // The pool is full and idle: every launcher child of the host is a pooled one.
          let pooled: number[] = [];
          await waitUntilAsync(() => (pooled = launchersOf(host.pid)).length >= 2, 30_000);
          assert.ok(pooled.length >= 2, `pool not refilled: ${pooled.join(',')}`);
          for (const pid of pooled) process.kill(pid, 'SIGKILL');
          // At once: the host hears of the deaths (if at all) while it handles the run.
          const runId = await host.run({ requestId: `pool-${tier}-${round}`, command: ['./probe.sh'], cwd: ws, workspace: ws, env });
          const f = await host.finished(runId, 120_000);
          assert.equal(f.setupError, null, `round ${round}: ${JSON.stringify(f.setupError)}`);
          assert.equal(f.exitCode, 0, `round ${round}: ${JSON.stringify(f)}`);
          assert.match(host.output(runId), /Seccomp:\s*2[\s\S]*done/);
        }
      } finally {
        await host.stop();
      }
    });
  }

  after(() => fs.rmSync(root, { recursive: true, force: true }));
});

async function waitUntilAsync(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
}
