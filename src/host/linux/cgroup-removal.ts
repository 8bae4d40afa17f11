// A cgroup whose processes outlive the kill for a moment (a large process still freeing its memory, a task
// in uninterruptible sleep) cannot be removed at once. Its removal is retried off the run's path, and its
// owner record stays until the cgroup is gone: a host that dies meanwhile leaves the next one a record to
// sweep (stale-runs.ts), never a nameless directory.
import type { RunCgroup } from '../../../native/linux/cgroup';

const RETRIES = 20;
const RETRY_MS = 250;

/** Removes `cg` now or later; calls `release` (drops its owner records) once it is gone. */
export function removeCgroup(cg: RunCgroup, release: () => void): void {
  if (cg.remove()) return release();
  let left = RETRIES;
  const again = () => {
    if (cg.remove(1)) return release();
    if (--left > 0) setTimeout(again, RETRY_MS).unref();
  };
  setTimeout(again, RETRY_MS).unref();
}
