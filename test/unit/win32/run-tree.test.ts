// The host's Windows run tree over a fake job (the port's messages as data): limit messages become the same
// crossings the Linux tree reports, once per limit; warn mode counts processes; sweep and dispose end the job.
import * as assert from 'node:assert/strict';
import { JobMsg } from '../../../native/win32/constants';
import type { JobLimits } from '../../../native/win32/job-limits';
import type { JobMessage, JobObject } from '../../../native/win32/job-object';
import { Win32RunTree } from '../../../src/host/win32/platform';
import type { TreeCrossing } from '../../../src/host/watchdog';

function fakeJob(limits: JobLimits, queue: JobMessage[], violation: Record<string, number> | null = null) {
  const calls: string[] = [];
  let active = 0;
  const job = {
    limits,
    handle: 0x100n,
    refused: [],
    drain: () => queue.splice(0),
    violation: () => violation,
    accounting: () => ({ userMs: 1200, kernelMs: 300, totalProcesses: 2, activeProcesses: active }),
    peakJobMemory: () => 10 * 1048576,
    terminate: (code: number) => void calls.push(`terminate ${code}`),
    close: () => void calls.push('close'),
  };
  return { job: job as unknown as JobObject, calls, setActive: (n: number) => void (active = n) };
}

describe('Win32RunTree (host side of the job)', function () {
  it('enforce: ACTIVE_PROCESS_LIMIT and JOB_MEMORY_LIMIT become crossings once each, and kernel hits', function () {
    const limits: JobLimits = { mode: 'enforce', activeProcesses: 2, jobMemoryBytes: 1048576, cpuSeconds: null };
    const q: JobMessage[] = [
      { message: JobMsg.NEW_PROCESS, value: 5 },
      { message: JobMsg.ACTIVE_PROCESS_LIMIT, value: 0 },
      { message: JobMsg.ACTIVE_PROCESS_LIMIT, value: 0 },
      { message: JobMsg.JOB_MEMORY_LIMIT, value: 0 },
    ];
    const f = fakeJob(limits, q);
    let disposed = false;
    const tree = new Win32RunTree(f.job, () => (disposed = true));
    const seen: TreeCrossing[] = [];
    tree.arm((c) => seen.push(c));
    assert.deepEqual(seen, [
      { limit: 'processes', observed: 3, max: 2 },
      { limit: 'memory', observed: 1048576, max: 1048576 },
    ]);
    assert.deepEqual(tree.kernelHits(), { memory: true, processes: true });
    tree.dispose();
    assert.equal(disposed, true);
    assert.deepEqual(f.calls, ['close']);
  });

  it('warn: NOTIFICATION_LIMIT reads class 13; the process count is kept from NEW/EXIT messages', function () {
    const limits: JobLimits = { mode: 'warn', activeProcesses: 1, jobMemoryBytes: 64, cpuSeconds: null };
    const q: JobMessage[] = [
      { message: JobMsg.NEW_PROCESS, value: 5 },
      { message: JobMsg.NEW_PROCESS, value: 6 },
      { message: JobMsg.NOTIFICATION_LIMIT, value: 0 },
    ];
    const f = fakeJob(limits, q, { ViolationLimitFlags: 0x200, JobMemory: 100, JobMemoryLimit: 64, PerJobUserTime: 0, PerJobUserTimeLimit: 0 });
    const tree = new Win32RunTree(f.job, () => undefined);
    const seen: TreeCrossing[] = [];
    tree.arm((c) => seen.push(c));
    assert.deepEqual(seen, [
      { limit: 'processes', observed: 2, max: 1 },
      { limit: 'memory', observed: 100, max: 64 },
    ]);
    assert.deepEqual(tree.kernelHits(), { memory: false, processes: false });
    tree.dispose();
  });

  it('sweep terminates the job when processes are left; usage comes from the job accounting', function () {
    const f = fakeJob({ mode: 'enforce', activeProcesses: null, jobMemoryBytes: null, cpuSeconds: null }, []);
    const tree = new Win32RunTree(f.job, () => undefined);
    assert.equal(tree.sweep(), 0);
    f.setActive(2);
    assert.equal(tree.sweep(), 2);
    tree.killAll();
    assert.deepEqual(f.calls, ['terminate 1', 'terminate 1']);
    assert.deepEqual(tree.usage(), { cpuUserMs: 1200, cpuSystemMs: 300, maxRssKiB: 10240, source: 'cgroup' });
    assert.equal(tree.kind, 'job object');
    tree.dispose();
  });
});
