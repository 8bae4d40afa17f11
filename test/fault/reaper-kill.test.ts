// The host's reaper (a /bin/sh child that kills every registered run when the host dies) killed with
// SIGKILL mid-run: the run goes on, the host starts a new reaper holding the same runs, so a host killed
// afterwards still takes the run's processes down, and a new host serves the next run with nothing left.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { HostProcess } from '../integration/linux/host-process';
import { cleanUpTrial, faultSeed, prng, processesWith, runCgroupDirs, runTempDirs, trialDirs, waitUntil } from './fault-support';

const TRIALS = Number(process.env.SS_FAULT_REAPER_TRIALS ?? 3);
const SCRIPT = `#!/bin/sh
i=0
# Silent: a script that writes would die of SIGPIPE with the host, reaper or not.
while [ $i -lt 300 ]; do
  i=$((i+1)); sleep 0.03
done
`;

/** The host's reaper: its child running the reaper's shell program (it reads `+pg`/`-pg` lines). */
function reaperOf(hostPid: number): number | null {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== hostPid) continue;
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('while read -r op what')) return Number(e);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

describe('fault: the reaper killed with SIGKILL mid-run', function () {
  this.timeout(600_000);
  const seed = faultSeed() + 3;
  const rand = prng(seed);
  const tally = { trials: 0, respawned: 0, leftProcs: 0, leftTmp: 0, leftCg: 0, served: 0 };
  after(() => process.stdout.write(`      [fault] reaper kill -9: ${tally.trials} trials (seed ${seed}); a new reaper ${tally.respawned}/${tally.trials}; after the host was killed too: processes left ${tally.leftProcs}, temp folders left ${tally.leftTmp}, cgroups left ${tally.leftCg}; next host served ${tally.served}/${tally.trials}\n`));

  for (let i = 0; i < TRIALS; i++) {
    it(`trial ${i + 1}/${TRIALS}`, async () => {
      const marker = `ss-fault-reaper-${seed}-${i}-${process.pid}`;
      const { root, ws, home, audit, env } = trialDirs('ss-fault-reaper', { 'busy.sh': SCRIPT });
      const host = new HostProcess({ HOME: home });
      let next: HostProcess | null = null;
      try {
        await host.ready(60_000);
        const runId = await host.run({ requestId: 'busy', command: ['./busy.sh', marker], cwd: ws, workspace: ws, env, auditPath: audit, layers: { user: { limits: { timeoutSeconds: 60 } } } });
        await host.waitFor((m) => m.type === 'started' && m.runId === runId, 60_000, 'started', true);
        await new Promise((r) => setTimeout(r, Math.round(rand() * 1500)));
        const first = reaperOf(host.child.pid!);
        assert.ok(first, 'the host has a reaper');
        process.kill(first!, 'SIGKILL');
        tally.trials++;
        const second = await waitUntil(() => (reaperOf(host.child.pid!) ?? first) !== first, 10_000);
        if (second) tally.respawned++;
        assert.ok(processesWith(marker).length > 0, 'the run ended when its reaper was killed');
        // Give the new reaper its registrations (written right after it started), then kill the host.
        await new Promise((r) => setTimeout(r, 300));
        host.child.kill('SIGKILL');
        await host.exited;
        const gone = await waitUntil(() => processesWith(marker).length === 0, 15_000);
        const leftProcs = gone ? 0 : processesWith(marker).length;
        tally.leftProcs += leftProcs;

        next = new HostProcess({ HOME: home });
        await next.ready(60_000);
        const after = await next.run({ requestId: 'after', command: ['/bin/echo', 'served'], cwd: ws, workspace: ws, env, auditPath: audit });
        const f = await next.finished(after, 120_000);
        if (f.exitCode === 0) tally.served++;
        await next.stop();
        const leftTmp = runTempDirs(runId);
        const leftCg = runCgroupDirs(runId);
        tally.leftTmp += leftTmp.length;
        tally.leftCg += leftCg.length;
        assert.equal(leftProcs, 0, `processes of the run alive after the host died (new reaper: ${second}): ${JSON.stringify(processesWith(marker))}`);
        assert.ok(second, 'no new reaper after the first was killed');
        assert.equal(f.exitCode, 0, JSON.stringify(f));
        assert.deepEqual({ tmp: leftTmp, cgroups: leftCg }, { tmp: [], cgroups: [] });
      } finally {
        cleanUpTrial(marker, root, host.child, next?.child);
      }
    });
  }
});
