// Load through one host (dist/host.js, forked as the extension forks it): 200 sequential runs and 20
// concurrent ones of /bin/true and a small script. Afterwards the host's open fds, threads and child
// processes are back where they started (a small fixed slack: the launcher pool refilling, libuv's pool),
// and no run left a temp folder or cgroup. Prints the p50/p95 of the concurrent runs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostProcess } from '../integration/linux/host-process';
import { percentile, runCgroupDirs, runTempDirs, waitUntil } from './fault-support';

const SEQ = Number(process.env.SS_LOAD_SEQ ?? 200);
const CONC = Number(process.env.SS_LOAD_CONC ?? 20);

interface Footprint {
  /** All open fds, /proc/<pid>/mem ones included. */
  fds: number;
  /** Of which /proc/<pid>/mem (the supervisor's cached target memory; forgotten with each run's pids). */
  memFds: number;
  threads: number;
  children: number;
}

function footprint(pid: number): Footprint {
  let children = 0;
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') children++;
    } catch {
      // gone
    }
  }
  let fds = 0;
  let memFds = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    if (/^\/proc\/\d+\/mem$/.test(target)) memFds++;
    fds++;
  }
  return { fds, memFds, threads: fs.readdirSync(`/proc/${pid}/task`).length, children };
}

describe('load: one host, many runs', function () {
  this.timeout(900_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-load-'));
  const ws = path.join(root, 'ws');
  fs.mkdirSync(ws);
  fs.writeFileSync(path.join(ws, 'small.sh'), '#!/bin/sh\necho "small $1"\nls / > /dev/null\n', { mode: 0o755 });
  const env = { PATH: '/usr/bin:/bin', HOME: root, LANG: 'C.UTF-8' };
  const audit = path.join(ws, '.sandbox', 'audit.jsonl');
  let host: HostProcess;
  let base: Footprint;
  const runIds: string[] = [];
  let n = 0;

  const oneRun = async (i: number): Promise<number> => {
    const t0 = Date.now();
    const small = i % 4 === 3;
    const id = await host.run({ requestId: `load-${n++}`, command: small ? ['./small.sh', String(i)] : ['/bin/true'], cwd: ws, workspace: ws, env, auditPath: audit }, 120_000);
    runIds.push(id);
    const f = await host.finished(id, 300_000);
    assert.equal(f.exitCode, 0, JSON.stringify(f));
    if (small) assert.equal(host.output(id), `small ${i}\n`);
    return Date.now() - t0;
  };

  before(async () => {
    host = new HostProcess({ HOME: root });
    await host.ready(60_000);
    // Warm: the launcher pool, the supervisor worker and the audit log exist before the baseline.
    await oneRun(0);
    await oneRun(3);
    await new Promise((r) => setTimeout(r, 1500));
    base = footprint(host.pid);
  });
  after(async () => {
    await host.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it(`${SEQ} sequential runs`, async () => {
    const t = Date.now();
    const times: number[] = [];
    for (let i = 0; i < SEQ; i++) times.push(await oneRun(i));
    process.stdout.write(`      [load] ${SEQ} sequential runs in ${((Date.now() - t) / 1000).toFixed(1)} s: p50 ${percentile(times, 50)} ms, p95 ${percentile(times, 95)} ms\n`);
  });

  it(`${CONC} concurrent runs`, async () => {
    const t = Date.now();
    const times = await Promise.all(Array.from({ length: CONC }, (_, i) => oneRun(i)));
    process.stdout.write(`      [load] ${CONC} concurrent runs in ${((Date.now() - t) / 1000).toFixed(1)} s: p50 ${percentile(times, 50)} ms, p95 ${percentile(times, 95)} ms, max ${Math.max(...times)} ms\n`);
  });

  it('afterwards: fds, threads and children back to the baseline; no temp folder or cgroup left', async () => {
    // Slack: the launcher pool (2) refilling with its pipes (4 fds each), and libuv's thread pool growing.
    const SLACK = { fds: 10, threads: 4, children: 2 };
    let now = footprint(host.pid);
    await waitUntil(() => {
      now = footprint(host.pid);
      return now.fds <= base.fds + SLACK.fds && now.threads <= base.threads + SLACK.threads && now.children <= base.children + SLACK.children;
    }, 20_000, 250);
    const leftTmp = runIds.flatMap(runTempDirs);
    const leftCg = runIds.flatMap(runCgroupDirs);
    process.stdout.write(`      [load] host footprint before ${JSON.stringify(base)}, after ${JSON.stringify(now)}; temp folders left ${leftTmp.length}, cgroups left ${leftCg.length} (of ${runIds.length} runs)\n`);
    assert.ok(now.fds <= base.fds + SLACK.fds, `fds ${base.fds} → ${now.fds}`);
    assert.ok(now.threads <= base.threads + SLACK.threads, `threads ${base.threads} → ${now.threads}`);
    assert.ok(now.children <= base.children + SLACK.children, `children ${base.children} → ${now.children}`);
    assert.deepEqual(leftTmp, []);
    assert.deepEqual(leftCg, []);
  });

  it('afterwards: no /proc/<pid>/mem fd left open per supervised process', function () {
    // The supervisor worker caches one /proc/<pid>/mem fd per process that made a supervised call; it closes
    // them when the run ends (or the pid is gone). A leak here grows by one fd per such process until EMFILE.
    const now = footprint(host.pid);
    assert.ok(now.memFds <= base.memFds, `/proc/<pid>/mem fds ${base.memFds} → ${now.memFds} after ${runIds.length} runs`);
  });
});
