// The watchdog's limit rules and attribution on a scripted process table (pure logic; the kernel side is in
// test/integration/linux/hostile-limits.test.ts and limits.test.ts): what is summed over the tree, which
// comparison crosses each limit, that a crossing is reported once, and which processes belong to a run
// (double-forked orphans, the host's own launchers, other runs). Shared memory: watchdog-accounting.test.ts.
import * as assert from 'node:assert/strict';
import type { ProcInfo } from '../../../native/linux/procfs';
import { Watchdog, type ProcessTable, type TreeCrossing, type TreeLimits } from '../../../src/host/watchdog';

const HOST = 100;
const PAGE = 4096;

function proc(pid: number, ppid: number, over: Partial<ProcInfo> = {}): ProcInfo {
  return { pid, ppid, pgid: pid, sid: pid, state: 'S', cpuTicks: 0, childCpuTicks: 0, rssPages: 0, startTime: 0, ...over };
}

/** /proc as a list; fds per pid; no shared memory (ProcessTable's optional readers are absent). */
function table(procs: ProcInfo[], fds: Record<number, number> = {}): ProcessTable & { procs: ProcInfo[]; fdReads: number } {
  const t = {
    procs,
    fdReads: 0,
    pageSize: PAGE,
    ticksPerSecond: 100,
    list: () => t.procs,
    fds: (pid: number) => {
      t.fdReads++;
      return fds[pid] ?? null;
    },
    reap: () => ({ cpuMs: 0 }),
  };
  return t;
}

const limits = (o: Partial<TreeLimits>): TreeLimits => ({ memoryBytes: null, maxProcesses: null, openFiles: null, cpuSeconds: null, ...o });

function watched(t: ProcessTable, root: number, l: Partial<TreeLimits>, opts: { cpuBaseMs?: number; hostOwn?: (pid: number) => boolean } = {}) {
  const crossings: TreeCrossing[] = [];
  const w = new Watchdog(t, HOST, 1e6, opts.hostOwn);
  const run = w.watch('r', root, limits(l), (c) => crossings.push(c), [], opts.cpuBaseMs ?? 0);
  return { w, run, crossings };
}

describe('host: watchdog limits and attribution', () => {
  it('processes: the live tree is counted (zombies are not) and crosses at max (a new process would be one too many)', () => {
    const t = table([proc(200, HOST), proc(201, 200), proc(202, 200, { state: 'Z' })]);
    const { w, run, crossings } = watched(t, 200, { maxProcesses: 3 });
    assert.equal(run.last.processes, 2);
    assert.equal(crossings.length, 0);
    t.procs.push(proc(203, 201));
    w.tick();
    assert.deepEqual(crossings, [{ limit: 'processes', observed: 3, max: 3 }]);
    w.unwatch('r');
  });

  it('memory: RSS summed over the tree; at the limit is within it, one page over crosses', () => {
    const t = table([proc(200, HOST, { rssPages: 100 }), proc(201, 200, { rssPages: 156 })]);
    const { w, run, crossings } = watched(t, 200, { memoryBytes: 256 * PAGE });
    assert.equal(run.last.rssBytes, 256 * PAGE);
    assert.equal(crossings.length, 0);
    t.procs[1] = proc(201, 200, { rssPages: 157 });
    w.tick();
    assert.deepEqual(crossings, [{ limit: 'memory', observed: 257 * PAGE, max: 256 * PAGE }]);
    assert.equal(run.peakRssBytes, 257 * PAGE);
    w.unwatch('r');
  });

  it("cpu: own and waited-for children's ticks, minus the launcher's time before exec; more than max crosses", () => {
    // 150 + 60 ticks = 2.1 s, of which 0.1 s was the launcher before exec: 2.0 s, not over 2.
    const t = table([proc(200, HOST, { cpuTicks: 150, childCpuTicks: 60 })]);
    const { w, run, crossings } = watched(t, 200, { cpuSeconds: 2 }, { cpuBaseMs: 100 });
    assert.equal(run.last.cpuMs, 2000);
    assert.equal(crossings.length, 0);
    t.procs = [proc(200, HOST, { cpuTicks: 151, childCpuTicks: 60 })];
    w.tick();
    assert.deepEqual(crossings.map((c) => [c.limit, c.observed, c.max]), [['cpu', 2.01, 2]]);
    w.unwatch('r');
  });

  it('open files: the largest table of any member, crossing at max; no fd count is read when no limit asks', () => {
    const t = table([proc(200, HOST), proc(201, 200)], { 200: 10, 201: 64 });
    const { w, run, crossings } = watched(t, 200, { openFiles: 64 });
    assert.equal(run.last.maxFds, 64);
    assert.deepEqual(crossings, [{ limit: 'openFiles', observed: 64, max: 64 }]);
    w.unwatch('r');
    const quiet = table([proc(200, HOST)], { 200: 1000 });
    watched(quiet, 200, {}).w.unwatch('r');
    assert.equal(quiet.fdReads, 0);
  });

  it('a crossing is reported once per limit, however long the tree stays over it', () => {
    const t = table([proc(200, HOST, { rssPages: 10 }), proc(201, 200)]);
    const { w, crossings } = watched(t, 200, { memoryBytes: PAGE, maxProcesses: 2 });
    for (let i = 0; i < 5; i++) w.tick();
    assert.deepEqual(crossings.map((c) => c.limit).sort(), ['memory', 'processes']);
    w.unwatch('r');
  });

  it("a double-forked daemon re-parented to the host stays the run's (its session), and its memory counts", () => {
    const t = table([proc(200, HOST, { rssPages: 1 }), proc(201, 200, { sid: 200 })]);
    const { w, run, crossings } = watched(t, 200, { memoryBytes: 100 * PAGE });
    // 201 forks 202 and exits; 202 is re-parented to the host (a child subreaper) and grows.
    t.procs = [proc(200, HOST, { rssPages: 1 }), proc(202, HOST, { sid: 200, rssPages: 200 })];
    w.tick();
    assert.ok(run.members.has(202));
    assert.deepEqual(crossings.map((c) => c.limit), ['memory']);
    assert.deepEqual(w.liveMembers('r'), [200, 202]);
    w.unwatch('r');
  });

  it("the host's own children (idle launchers) and processes outside the host are never claimed", () => {
    const t = table([proc(200, HOST), proc(150, HOST), proc(7, 1, { sid: 200 })]);
    const { w, run } = watched(t, 200, {}, { hostOwn: (pid) => pid === 150 });
    assert.deepEqual([...run.members], [200]);
    assert.deepEqual(w.liveMembers('r'), [200]);
    w.unwatch('r');
  });

  it('with two runs, an orphan goes to the run whose session it carries', () => {
    // 300 is a launcher of the host's until its run is watched.
    const t = table([proc(200, HOST), proc(300, HOST)]);
    const w = new Watchdog(t, HOST, 1e6, (pid) => pid === 300);
    const a = w.watch('a', 200, limits({}), () => undefined);
    const b = w.watch('b', 300, limits({}), () => undefined);
    // An orphan of run b appears between two ticks, already re-parented to the host.
    t.procs.push(proc(301, HOST, { sid: 300, pgid: 300 }));
    w.tick();
    assert.ok(b.members.has(301));
    assert.ok(!a.members.has(301));
    w.unwatch('a');
    w.unwatch('b');
  });
});
