// What the host does when a run goes beyond its policy: the mode, compiled once per run beside the plan. The
// kernel side of the mode (which rules are installed) is the plan's compile; these are the host's own answers,
// read by the runner, the run session, the supervisor and the egress proxy, which never look at the mode again.
import type { ResolvedPolicy } from '../policy/schema';

export interface RunReactions {
  /** Whether the run is sandboxed at all (mode disabled: nothing is watched, nothing is reported). */
  sandboxed: boolean;
  /**
   * A call the supervisor or the egress proxy finds outside the policy: refused (the violation is 'blocked'),
   * or let through and reported ('warned').
   */
  violation: 'refuse' | 'report';
  /** A tree limit the watchdog or the cgroup sees crossed (memory, processes, tree CPU): kill the tree, or report. */
  treeLimit: 'kill' | 'report';
  /**
   * A promise the host cannot keep for this run (the machine cannot enforce, the audit log cannot be opened):
   * refuse the run, or run it and say so.
   */
  unkeptPromise: 'refuse' | 'note';
}

/** The one place the host's reactions are read off the mode. */
export function compileReactions(policy: Pick<ResolvedPolicy, 'mode'>): RunReactions {
  const enforce = policy.mode === 'enforce';
  return {
    sandboxed: policy.mode !== 'disabled',
    violation: enforce ? 'refuse' : 'report',
    treeLimit: enforce ? 'kill' : 'report',
    unkeptPromise: enforce ? 'refuse' : 'note',
  };
}
