// The stale-run sweep at host start removes what owner records of dead hosts name, SIGKILLing what is left in
// their cgroups. A script in moderate/permissive can write the shared temp dir, so a record planted there
// (the old place) or any record's own paths must not steer the sweep: seen from outside, a victim process
// named by a planted record is still alive after the next run starts.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeSandbox, pidAlive, runIn, type Sandbox } from './helpers';

describe('stale-run sweep and planted owner records', function () {
  this.timeout(60000);
  let sb: Sandbox;
  let victim: ChildProcess;
  const planted: string[] = [];
  beforeEach(() => {
    sb = makeSandbox();
    victim = spawn('sleep', ['300'], { stdio: 'ignore' });
  });
  afterEach(() => {
    victim.kill('SIGKILL');
    for (const f of planted.splice(0)) fs.rmSync(f, { force: true });
    sb.cleanup();
  });

  it('a record naming a fake cgroup with a victim pid (in the temp base or the state folder) kills nothing; the run\'s own temp folder is still swept', async () => {
    const runId = `mx99zzzz-${Math.floor(Math.random() * 0xfffffff).toString(16).padStart(8, '0')}`;
    // What a script could write: a "cgroup" folder of its own listing the victim, and a record pointing at it
    // through /sys/fs/cgroup/.. so it passes a prefix check.
    const evil = path.join(sb.outside, 'evilcg', runId);
    fs.mkdirSync(evil, { recursive: true });
    fs.writeFileSync(path.join(evil, 'cgroup.procs'), `${victim.pid}\n`);
    fs.writeFileSync(path.join(evil, 'keep'), 'x'); // rmdir fails, so the sweep would kill what the list names
    const rec = JSON.stringify({
      owner: { pid: 999999, host: os.hostname(), startedAt: '2020-01-01T00:00:00.000Z', bootId: 'x' },
      runId,
      cgroups: [`/sys/fs/cgroup/../../..${evil}`],
    });
    // A temp dir of the test's own: other hosts on the machine (older versions) sweep the shared one.
    const tmp = path.join(sb.root, 'tmp');
    fs.mkdirSync(tmp, { mode: 0o1777 });
    fs.chmodSync(tmp, 0o1777);
    const oldDir = path.join(tmp, `script-sandbox-${process.getuid!()}`, '.owners');
    const newDir = path.join(sb.home, '.local', 'state', 'script-sandbox', 'runs');
    for (const d of [oldDir, newDir]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
      fs.chmodSync(d, 0o700);
      fs.chmodSync(path.dirname(d), 0o700);
      const f = path.join(d, `${runId}.json`);
      fs.writeFileSync(f, rec, { mode: 0o600 });
      planted.push(f);
    }
    // The run's real temp folder, recomputed from the run id: the sweep still removes it (the state-folder
    // record of a dead host is honoured, only for what the host itself would have made).
    const runTmp = path.join(tmp, `script-sandbox-${process.getuid!()}`, runId);
    fs.mkdirSync(runTmp);
    fs.writeFileSync(path.join(runTmp, 'left-over'), 'x');
    assert.ok(pidAlive(victim.pid!));
    const r = await runIn(sb, [], ['/bin/true'], { TMPDIR: tmp });
    assert.equal(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 300));
    assert.ok(pidAlive(victim.pid!), 'the victim named by a planted record was killed');
    assert.equal(victim.signalCode, null);
    assert.ok(fs.existsSync(path.join(evil, 'keep')), 'the planted folder was touched');
    assert.ok(!fs.existsSync(runTmp), "the dead host's temp folder was not swept");
  });
});
