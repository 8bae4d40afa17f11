// kill -9 of the extension's host process (dist/host.js forked with an IPC channel, as HostClient forks it)
// in the middle of a run: the run's processes die with it (its reaper), the audit log verifies with every
// line written before the kill, and the next host start removes the run's temp folder and cgroup and serves.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { HostProcess } from '../integration/linux/host-process';
import { auditRunIds, auditVerify, BUSY_SCRIPT, cleanUpTrial, completeLines, faultSeed, prng, processesWith, runCgroupDirs, runTempDirs, trialDirs, waitUntil } from './fault-support';

const TRIALS = Number(process.env.SS_FAULT_HOST_TRIALS ?? 20);

describe('fault: the host process killed with SIGKILL mid-run', function () {
  this.timeout(600_000);
  const seed = faultSeed() + 1;
  const rand = prng(seed);
  const tally = { trials: 0, linesBefore: 0, linesLost: 0, leftProcs: 0, leftTmp: 0, leftCg: 0, verified: 0 };
  after(() => process.stdout.write(`      [fault] host kill -9: ${tally.trials} trials (seed ${seed}); ${tally.linesBefore} audit lines before the kills, ${tally.linesLost} lost; processes left ${tally.leftProcs}, temp folders left ${tally.leftTmp}, cgroups left ${tally.leftCg}; verify passed ${tally.verified}/${tally.trials}\n`));

  for (let i = 0; i < TRIALS; i++) {
    it(`trial ${i + 1}/${TRIALS}`, async () => {
      const marker = `ss-fault-host-${seed}-${i}-${process.pid}`;
      const { root, ws, home, audit, env } = trialDirs('ss-fault-host', { 'busy.sh': BUSY_SCRIPT });
      const host = new HostProcess({ HOME: home });
      let next: HostProcess | null = null;
      try {
        await host.ready(60_000);
        const runId = await host.run({ requestId: 'busy', command: ['./busy.sh', marker], cwd: ws, workspace: ws, env, auditPath: audit, layers: { user: { limits: { timeoutSeconds: 60 } } } });
        // A random moment: odd trials during setup (after the run was accepted), even ones while it writes.
        if (i % 2 === 0) await host.waitFor((m) => m.type === 'started' && m.runId === runId, 60_000, 'started', true);
        await new Promise((r) => setTimeout(r, Math.round(rand() * (i % 2 === 0 ? 3000 : 1500))));
        const before = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '';
        host.child.kill('SIGKILL');
        await host.exited;
        tally.trials++;

        const gone = await waitUntil(() => processesWith(marker).length === 0, 15_000);
        const leftProcs = gone ? 0 : processesWith(marker).length;
        tally.leftProcs += leftProcs;

        // The next start: a new host (as the extension restarts it) that must serve a run.
        next = new HostProcess({ HOME: home });
        await next.ready(60_000);
        const after = await next.run({ requestId: 'after', command: ['/bin/echo', 'served'], cwd: ws, workspace: ws, env, auditPath: audit });
        const f = await next.finished(after, 120_000);
        assert.equal(f.exitCode, 0, JSON.stringify(f));
        await next.stop();

        const beforeLines = completeLines(before);
        const afterLines = new Set(completeLines(fs.readFileSync(audit, 'utf8')));
        const lost = beforeLines.filter((l) => !afterLines.has(l)).length;
        tally.linesBefore += beforeLines.length;
        tally.linesLost += lost;
        const v = auditVerify(audit, home);
        if (v.ok) tally.verified++;
        const leftTmp = runTempDirs(runId);
        const leftCg = runCgroupDirs(runId);
        tally.leftTmp += leftTmp.length;
        tally.leftCg += leftCg.length;
        assert.ok(auditRunIds(audit).length >= 1);
        assert.equal(leftProcs, 0, `processes of the run alive after the host died: ${JSON.stringify(processesWith(marker))}`);
        assert.ok(v.ok, v.output);
        assert.equal(lost, 0, 'audit lines written before the kill are gone');
        assert.deepEqual({ tmp: leftTmp, cgroups: leftCg }, { tmp: [], cgroups: [] });
      } finally {
        cleanUpTrial(marker, root, host.child, next?.child);
      }
    });
  }
});
