// kill -9 of the CLI in the middle of a run, at a seeded random moment: afterwards the audit log verifies,
// every line written before the kill is still there, no process of the run is alive, and the next start
// leaves no temp folder or cgroup of the killed run behind.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI } from '../integration/linux/helpers';
import { auditRunIds, auditVerify, BUSY_SCRIPT, cleanUpTrial, completeLines, faultSeed, prng, processesWith, runCgroupDirs, runTempDirs, trialDirs, waitUntil } from './fault-support';

const TRIALS = Number(process.env.SS_FAULT_TRIALS ?? 20);


interface Trial {
  i: number;
  killAfterMs: number;
  linesBefore: number;
  linesLost: number;
  leftProcs: number;
  leftTmp: number;
  leftCg: number;
  verified: boolean;
}

describe('fault: the CLI killed with SIGKILL mid-run', function () {
  this.timeout(900_000);
  const seed = faultSeed();
  const rand = prng(seed);
  const results: Trial[] = [];
  after(() => {
    const lost = results.reduce((a, t) => a + t.linesLost, 0);
    const lines = results.reduce((a, t) => a + t.linesBefore, 0);
    process.stdout.write(
      `      [fault] CLI kill -9: ${results.length} trials (seed ${seed}, replay SS_FAULT_SEED=${seed}), kill at ${results.map((t) => t.killAfterMs).join('/')} ms; ` +
        `${lines} audit lines before the kills, ${lost} lost; processes left ${results.reduce((a, t) => a + t.leftProcs, 0)}, temp folders left ${results.reduce((a, t) => a + t.leftTmp, 0)}, cgroups left ${results.reduce((a, t) => a + t.leftCg, 0)}; verify passed ${results.filter((t) => t.verified).length}/${results.length}\n`,
    );
  });

  for (let i = 0; i < TRIALS; i++) {
    it(`trial ${i + 1}/${TRIALS}`, async () => {
      const killAfterMs = Math.round(i % 2 === 0 ? rand() * 2500 : 400 + rand() * 3600);
      const marker = `ss-fault-cli-${seed}-${i}-${process.pid}`;
      const { root, ws, home, audit, env } = trialDirs('ss-fault-cli', { 'busy.sh': BUSY_SCRIPT });
      const events = path.join(root, 'events.jsonl');
      try {
        const cli = spawn(process.execPath, [CLI, 'run', '--workspace', ws, '--events', events, '--timeout', '60', '--', './busy.sh', marker], { cwd: ws, env, stdio: ['ignore', 'pipe', 'pipe'] });
        cli.stdout.on('data', () => undefined);
        cli.stderr.on('data', () => undefined);
        const exited = new Promise((r) => cli.once('exit', r));
        // Odd trials: a random moment from the spawn (often during setup). Even ones: a random moment after the
        // script started (events file), while it writes output and violation records.
        if (i % 2 === 0) await waitUntil(() => fs.existsSync(events) && fs.readFileSync(events, 'utf8').includes('"run_started"'), 60_000, 50);
        await new Promise((r) => setTimeout(r, killAfterMs));
        // The copy just before the kill: every complete line in it must survive.
        const before = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '';
        cli.kill('SIGKILL');
        await exited;

        // The host is gone; its reaper takes the run's tree down.
        const gone = await waitUntil(() => processesWith(marker).length === 0, 15_000);
        const leftProcs = gone ? 0 : processesWith(marker).length;

        // The next start in the same workspace: closes the dead run in the log and must leave nothing of it.
        const next = spawnSync(process.execPath, [CLI, 'run', '--workspace', ws, '--', '/bin/true'], { cwd: ws, env, encoding: 'utf8', timeout: 120_000 });
        assert.equal(next.status, 0, `the next run failed: ${next.stderr}`);

        const afterText = fs.readFileSync(audit, 'utf8');
        const afterLines = new Set(completeLines(afterText));
        const beforeLines = completeLines(before);
        const linesLost = beforeLines.filter((l) => !afterLines.has(l)).length;
        const v = auditVerify(audit, home);
        const killedRuns = auditRunIds(audit).slice(0, -1); // the last run_started is the next run's
        const leftTmp = killedRuns.flatMap(runTempDirs);
        const leftCg = killedRuns.flatMap(runCgroupDirs);
        results.push({ i, killAfterMs, linesBefore: beforeLines.length, linesLost, leftProcs, leftTmp: leftTmp.length, leftCg: leftCg.length, verified: v.ok });

        assert.equal(leftProcs, 0, `processes of the killed run still alive: ${JSON.stringify(processesWith(marker))}`);
        assert.ok(v.ok, `audit verify failed after a kill at ${killAfterMs} ms: ${v.output}`);
        assert.equal(linesLost, 0, `${linesLost} audit lines written before the kill are gone`);
        assert.deepEqual({ tmp: leftTmp, cgroups: leftCg }, { tmp: [], cgroups: [] }, 'the killed run left its temp folder or cgroup behind');
      } finally {
        cleanUpTrial(marker, root);
      }
    });
  }
});
