// A run's CPU and memory figures: exact from a cgroup, from the kernel's rusage of reaped children when the
// run had the host to itself, else what the watchdog sampled.
import type { TreeUsage } from './platform';
import type { RunResult } from '../protocol/run-events';

export type ChildUsageLike = { userMs: number; systemMs: number; maxRssKiB: number };

/** Exact usage from a cgroup; else the kernel's rusage of reaped children when this run was the only one; else sampled. */
export function measureUsage(
  t: TreeUsage,
  before: ChildUsageLike,
  after: ChildUsageLike,
  launcherCpu: { userMs: number; systemMs: number } | null,
  overlap: { other: boolean },
): Pick<RunResult, 'cpuUserMs' | 'cpuSystemMs' | 'maxRssKiB' | 'usageSource'> {
  if (t.source === 'cgroup') {
    // The launcher was in the cgroup before exec: its Node start-up is not the script's.
    const lu = launcherCpu?.userMs ?? 0;
    const ls = launcherCpu?.systemMs ?? 0;
    return {
      cpuUserMs: t.cpuUserMs != null ? round(Math.max(0, t.cpuUserMs - lu)) : null,
      cpuSystemMs: t.cpuSystemMs != null ? round(Math.max(0, t.cpuSystemMs - ls)) : null,
      maxRssKiB: t.maxRssKiB,
      usageSource: 'cgroup',
    };
  }
  if (!overlap.other && launcherCpu) {
    // rusage of reaped children is exact when no other child was reaped meanwhile; it includes the
    // launcher's Node start-up, which the launcher reported just before exec. ru_maxrss would include the
    // launcher's heap too, so peak memory stays the per-process VmHWM the watchdog sampled.
    return {
      cpuUserMs: round(Math.max(0, after.userMs - before.userMs - launcherCpu.userMs)),
      cpuSystemMs: round(Math.max(0, after.systemMs - before.systemMs - launcherCpu.systemMs)),
      maxRssKiB: t.maxRssKiB,
      usageSource: 'rusage',
    };
  }
  return { cpuUserMs: t.cpuUserMs, cpuSystemMs: t.cpuSystemMs, maxRssKiB: t.maxRssKiB, usageSource: 'sampled' };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
