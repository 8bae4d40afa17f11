// A crossing the watchdog (or cgroup) saw, as the limit event the run reports.
import type { RunReactions } from '../protocol/run-reactions';
import type { TreeCrossing } from './watchdog';
import type { LimitEvent } from '../protocol/run-events';

export function crossingEvent(c: TreeCrossing, reactions: Pick<RunReactions, 'treeLimit'>): LimitEvent {
  // Open files are refused by the kernel (EMFILE), never a reason to kill.
  const kill = reactions.treeLimit === 'kill' && c.limit !== 'openFiles';
  switch (c.limit) {
    case 'memory':
      return { limit: 'memory', observed: c.observed / 1048576, max: c.max / 1048576, action: kill ? 'killed' : 'reported', message: `memory limit ${Math.round(c.max / 1048576)} MiB exceeded (tree at ${Math.round(c.observed / 1048576)} MiB)` };
    case 'processes':
      return { limit: 'processes', observed: c.observed, max: c.max, action: kill ? 'killed' : 'reported', message: `process limit ${c.max} reached` };
    case 'openFiles':
      return { limit: 'openFiles', observed: c.observed, max: c.max, action: 'denied', message: `open files limit ${c.max} reached (further opens fail with EMFILE)` };
    case 'cpu':
      return { limit: 'cpu', observed: c.observed, max: c.max, action: kill ? 'killed' : 'reported', message: `CPU time limit ${c.max} s exceeded by the process tree` };
  }
}
