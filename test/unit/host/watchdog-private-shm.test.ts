// The run's private /dev/shm (namespace tier) in the watchdog's memory: all it stores counts, closed files
// included, once: files on it found held open are not added again, and a process mapping one counts only its
// RSS outside that mapping. A scripted process table; the kernel side is hostile-memory-parked.test.ts.
import * as assert from 'node:assert/strict';
import { keyAmong, type ProcInfo, type ShmemObject } from '../../../native/linux/procfs';
import { Watchdog, type ProcessTable, type TreeCrossing } from '../../../src/host/watchdog';

const HOST = 100;
const MiB = 1 << 20;

function proc(pid: number, ppid: number, rssPages: number): ProcInfo {
  return { pid, ppid, pgid: pid, sid: pid, state: 'S', cpuTicks: 0, childCpuTicks: 0, rssPages, startTime: 0 };
}

class Table implements ProcessTable {
  procs: ProcInfo[] = [];
  held: Array<ShmemObject & { fd: number }> = [];
  shm: ShmemObject | null = null;
  mapped = new Map<string, number>();
  pageSize = 4096;
  ticksPerSecond = 100;
  list() {
    return this.procs;
  }
  fds() {
    return 3;
  }
  reap() {
    return { cpuMs: 0 };
  }
  heldShmem() {
    return { objects: this.held, scanned: this.held.length, nextFd: null };
  }
  mappedBytesOf(pid: number, keys: ReadonlySet<string>) {
    let mappedBytes = 0;
    for (const [k, v] of this.mapped) if (keyAmong(keys, k)) mappedBytes += v;
    return { mappedBytes, rssBytes: (this.procs.find((p) => p.pid === pid)?.rssPages ?? 0) * this.pageSize };
  }
  privateShm() {
    return this.shm;
  }
}

const limit = (mib: number) => ({ memoryBytes: mib * MiB, maxProcesses: null, openFiles: null, cpuSeconds: null });

describe('host: watchdog and the private /dev/shm', () => {
  it('files closed in the private /dev/shm count: 10 MiB RSS + 60 MiB stored crosses --memory 64', () => {
    const t = new Table();
    t.procs = [proc(200, HOST, (10 * MiB) / 4096)];
    const crossings: TreeCrossing[] = [];
    const w = new Watchdog(t, HOST, 1e6);
    const run = w.watch('r', 200, limit(64), (c) => crossings.push(c));
    assert.equal(run.last.rssBytes, 10 * MiB);
    t.shm = { key: '0:43:*', bytes: 60 * MiB };
    w.tick();
    assert.equal(run.last.rssBytes, 70 * MiB);
    assert.deepEqual(crossings.map((c) => c.limit), ['memory']);
    w.unwatch('r');
  });

  it('a file on it held open is not added again; its mapping is not counted on top of the RSS', () => {
    const t = new Table();
    t.procs = [proc(200, HOST, (30 * MiB) / 4096)];
    t.shm = { key: '0:43:*', bytes: 20 * MiB };
    // The same file seen through an fd (on the private tmpfs) and a memfd elsewhere (4 MiB).
    t.held = [
      { fd: 3, key: '0:43:7', bytes: 20 * MiB },
      { fd: 4, key: '0:1:99', bytes: 4 * MiB },
    ];
    // 20 MiB of the 30 MiB RSS is the mapping of that file.
    t.mapped.set('0:43:7', 20 * MiB);
    const w = new Watchdog(t, HOST, 1e6);
    const run = w.watch('r', 200, limit(64), () => undefined);
    assert.equal(run.last.rssBytes, 20 * MiB + 4 * MiB + 10 * MiB);
    w.unwatch('r');
  });

  it('without a private /dev/shm (fallback tier) nothing changes', () => {
    const t = new Table();
    t.procs = [proc(200, HOST, (10 * MiB) / 4096)];
    t.held = [{ fd: 3, key: '0:22:5', bytes: 8 * MiB }];
    const w = new Watchdog(t, HOST, 1e6);
    const run = w.watch('r', 200, limit(64), () => undefined);
    assert.equal(run.last.rssBytes, 18 * MiB);
    w.unwatch('r');
  });

  it('keyAmong: a file matches its own key or its filesystem\'s whole-device key', () => {
    assert.equal(keyAmong(new Set(['0:43:*']), '0:43:12'), true);
    assert.equal(keyAmong(new Set(['0:43:12']), '0:43:12'), true);
    assert.equal(keyAmong(new Set(['0:43:*']), '0:44:12'), false);
    assert.equal(keyAmong(new Set(['0:43:*']), null), false);
  });
});
