// The watchdog's accounting rules on a scripted process table (pure logic; the real kernel side is in
// test/integration/linux/hostile-limits.test.ts): reaped orphans' CPU, the PID-namespace init's reaped
// children, and shared memory held open counted once and not on top of what RSS already shows.
import * as assert from 'node:assert/strict';
import type { ProcInfo, ShmemObject } from '../../../native/linux/procfs';
import { Watchdog, type ProcessTable, type TreeCrossing } from '../../../src/host/watchdog';

const HOST = 100;

function proc(pid: number, ppid: number, over: Partial<ProcInfo> = {}): ProcInfo {
  return { pid, ppid, pgid: pid, sid: pid, state: 'S', cpuTicks: 0, childCpuTicks: 0, rssPages: 0, startTime: 0, ...over };
}

class FakeTable implements ProcessTable {
  procs: ProcInfo[] = [];
  held = new Map<number, ShmemObject[]>();
  mapped = new Map<number, Map<string, number>>();
  reaped: number[] = [];
  reapCpu = new Map<number, number>();
  pageSize = 4096;
  ticksPerSecond = 100;
  list() {
    return this.procs.filter((p) => !this.reaped.includes(p.pid));
  }
  fds() {
    return 3;
  }
  reap(pid: number) {
    this.reaped.push(pid);
    return { cpuMs: this.reapCpu.get(pid) ?? 0 };
  }
  /** fds 0-2 are not shared memory; the objects sit at fds 3, 4, ... */
  heldShmem(pid: number, fromFd: number, maxFds: number) {
    const all = [0, 1, 2].map((fd) => ({ fd, key: '', bytes: 0 })).concat((this.held.get(pid) ?? []).map((o, i) => ({ ...o, fd: 3 + i })));
    const rest = all.filter((o) => o.fd >= fromFd);
    const take = rest.slice(0, maxFds);
    return { objects: take.filter((o) => o.bytes > 0), scanned: take.length, nextFd: take.length < rest.length ? take[take.length - 1]!.fd + 1 : null };
  }
  /** The process's RSS as smaps would show it, when it maps a held object. */
  smapsRss = new Map<number, number>();
  mappedBytesOf(pid: number, keys: ReadonlySet<string>) {
    let b = 0;
    let any = false;
    for (const [k, v] of this.mapped.get(pid) ?? []) {
      if (!keys.has(k)) continue;
      b += v;
      any = true;
    }
    const rssBytes = this.smapsRss.get(pid) ?? (this.procs.find((p) => p.pid === pid)?.rssPages ?? 0) * this.pageSize;
    return { mappedBytes: any ? b : 0, rssBytes };
  }
}

const limits = (o: Partial<{ memoryBytes: number; cpuSeconds: number }>) => ({ memoryBytes: o.memoryBytes ?? null, maxProcesses: null, openFiles: null, cpuSeconds: o.cpuSeconds ?? null });

describe('host: watchdog accounting', () => {
  it('an orphan the host reaps keeps its CPU in the run (wait4 rusage), and crosses --cpu 2', () => {
    const t = new FakeTable();
    const crossings: TreeCrossing[] = [];
    t.procs = [proc(200, HOST, { cpuTicks: 10 }), proc(201, HOST, { cpuTicks: 130, sid: 200 })];
    const w = new Watchdog(t, HOST, 1e6);
    const run = w.watch('r', 200, limits({ cpuSeconds: 2 }), (c) => crossings.push(c));
    assert.equal(run.last.cpuMs, 1400);
    // The orphan ends: a zombie of the host. The watchdog reaps it and charges what wait4 reported.
    t.procs[1] = proc(201, HOST, { state: 'Z', sid: 200 });
    t.reapCpu.set(201, 1300);
    w.tick();
    assert.deepEqual(t.reaped, [201]);
    assert.equal(run.last.cpuMs, 1400);
    // A second orphan of 1.3 s: 2.7 s in all, though never more than 1.4 s alive at once.
    t.procs.push(proc(202, HOST, { cpuTicks: 130, sid: 200 }));
    w.tick();
    assert.equal(run.last.cpuMs, 2700);
    assert.deepEqual(crossings.map((c) => c.limit), ['cpu']);
    w.unwatch('r');
  });

  it('the run root itself is never reaped by the watchdog (libuv waits for it)', () => {
    const t = new FakeTable();
    t.procs = [proc(200, HOST, { state: 'Z' })];
    const w = new Watchdog(t, HOST, 1e6);
    w.watch('r', 200, limits({}), () => undefined);
    w.tick();
    assert.deepEqual(t.reaped, []);
    w.unwatch('r');
  });

  it("namespace tier: the init's reaped children count, the init's own CPU does not", () => {
    const t = new FakeTable();
    t.procs = [proc(300, HOST, { cpuTicks: 500, childCpuTicks: 260 }), proc(301, 300, { cpuTicks: 20 })];
    const w = new Watchdog(t, HOST, 1e6);
    const run = w.watch('r', 301, limits({}), () => undefined, [300]);
    assert.equal(run.last.cpuMs, 2800);
    w.unwatch('r');
  });

  it('memfds held open count once per object across fds and processes, on top of RSS', () => {
    const t = new FakeTable();
    const crossings: TreeCrossing[] = [];
    t.procs = [proc(200, HOST, { rssPages: 1024 }), proc(201, 200, { rssPages: 1024 })];
    const big = { key: '0:1:77', bytes: 600 * 1048576 };
    t.held.set(200, [big, big]);
    t.held.set(201, [big, { key: '0:1:78', bytes: 1048576 }]);
    const w = new Watchdog(t, HOST, 1e6);
    const run = w.watch('r', 200, limits({ memoryBytes: 64 * 1048576 }), (c) => crossings.push(c));
    assert.equal(run.last.rssBytes, 8 * 1048576 + 601 * 1048576);
    assert.deepEqual(crossings.map((c) => c.limit), ['memory']);
    w.unwatch('r');
  });

  it('a held object that is also mapped is not counted twice (RSS has the mapped part)', () => {
    const t = new FakeTable();
    // 40 MiB of the 100 MiB memfd is mapped and resident: RSS 44 MiB (4 MiB private).
    t.procs = [proc(200, HOST, { rssPages: 44 * 256 })];
    t.held.set(200, [{ key: '0:1:9', bytes: 100 * 1048576 }]);
    t.mapped.set(200, new Map([['0:1:9', 40 * 1048576]]));
    const w = new Watchdog(t, HOST, 1e6);
    const run = w.watch('r', 200, limits({ memoryBytes: 1 << 30 }), () => undefined);
    assert.equal(run.last.rssBytes, 104 * 1048576);
    // stat's RSS read before an unmap, smaps after it: the process's own figures come from smaps alone.
    t.procs = [proc(200, HOST, { rssPages: 44 * 256 })];
    t.mapped.set(200, new Map());
    t.smapsRss.set(200, 4 * 1048576);
    w.tick();
    assert.equal(run.last.rssBytes, 104 * 1048576);
    w.unwatch('r');
  });

  it('a process with more fds than one tick may examine is covered over several ticks, and a closed memfd leaves the count', () => {
    const t = new FakeTable();
    t.procs = [proc(200, HOST)];
    const filler = Array.from({ length: 600 }, () => ({ key: '', bytes: 0 }));
    // The memfd sits behind 600 uninteresting fds: at fd 603.
    t.held.set(200, [...filler, { key: '0:1:5', bytes: 300 * 1048576 }]);
    const w = new Watchdog(t, HOST, 1e6);
    const crossings: TreeCrossing[] = [];
    const run = w.watch('r', 200, limits({ memoryBytes: 64 * 1048576 }), (c) => crossings.push(c));
    let ticks = 1;
    while (!crossings.length && ticks < 10) {
      w.tick();
      ticks++;
    }
    assert.deepEqual(crossings.map((c) => c.limit), ['memory']);
    assert.ok(ticks >= 3, `found after ${ticks} ticks: the budget was not applied`);
    t.held.set(200, filler);
    for (let i = 0; i < 4; i++) w.tick();
    assert.equal(run.last.rssBytes, 0);
    w.unwatch('r');
  });

  it('without a memory limit no fd is scanned (a cgroup holds memory, or nothing is asked)', () => {
    const t = new FakeTable();
    let scans = 0;
    t.heldShmem = () => {
      scans++;
      return { objects: [], scanned: 0, nextFd: null };
    };
    t.procs = [proc(200, HOST)];
    const w = new Watchdog(t, HOST, 1e6);
    w.watch('r', 200, limits({}), () => undefined);
    w.tick();
    assert.equal(scans, 0);
    w.unwatch('r');
  });
});
