// The last resort of every OS's run tree that tracks its members by pid (Linux without a cgroup's kill,
// macOS): each known member, then the run's process group, SIGKILLed. A pid already gone is no error.

export function killMembersAndGroup(pids: Iterable<number>, rootPid: number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    process.kill(-rootPid, 'SIGKILL');
  } catch {
    // the group is empty
  }
}
