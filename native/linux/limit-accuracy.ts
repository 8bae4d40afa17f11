// The capability report's lines on resource limits: for each one, whether the kernel keeps it exactly (a
// cgroup, an rlimit) or the host watchdog approximates it by polling, and what gets past the approximation.
// Pure: the caller says where tree limits are kept, which tier runs, and what the shared temp dirs are.
import * as fs from 'node:fs';
import type { Capability } from '../backend';

const TMPFS_MAGIC = 0x01021994;

export interface LimitContext {
  /** Where tree limits are kept: 'cgroup v2', 'cgroup v1' or 'watchdog'. */
  treeLimits: string;
  /** The namespace tier (private /dev/shm per run, see namespaces.ts); false: the fallback tier. */
  namespaces: boolean;
  /** The host's temp directory: the run's TMPDIR is a folder below it. */
  tempDir: string;
  /** Shared temp directories a run may write (tempDir, /tmp) that are a tmpfs here: memory, not disk. */
  tmpfsTemps: string[];
}

const DELEGATION = 'a cgroup (systemd user delegation on cgroup v2: `systemd-run --user -p Delegate=yes`, or root on a cgroup v1 machine) keeps it exactly';

export function limitCapabilities(ctx: LimitContext): Capability[] {
  const cg = ctx.treeLimits !== 'watchdog';
  const memTemps = ctx.tmpfsTemps.length ? `, files left in ${ctx.tmpfsTemps.join(' and ')} (tmpfs on this machine)` : '';
  const shm = ctx.namespaces ? ' + all the run stores in its private /dev/shm (sized to the limit)' : '';
  const shmEvades = ctx.namespaces ? '' : ', files closed in /dev/shm (the host\'s in the fallback tier)';
  return [
    {
      name: 'limit_memory',
      available: cg,
      detail: cg
        ? `exact (${ctx.treeLimits}): the kernel charges the tree's pages, memfds and tmpfs files included wherever their fds are, and OOM-kills at the limit`
        : 'approximate (host watchdog, polled every 50 ms): RSS + memfds and tmpfs files held open' +
          `${shm}; SysV shared memory and message queues are refused while a memory limit is set (detached, no process holds them); not counted: data in pipe and socket buffers, fds in flight in unix sockets (stream: the kernel allows RLIMIT_NOFILE of them per user, ` +
          `each at most RLIMIT_FSIZE; datagram: sent by the supervisor, so only the host's RLIMIT_NOFILE bounds them)${shmEvades}${memTemps}, and growth between two polls`,
      requiredForEnforce: false,
      fix: DELEGATION,
    },
    {
      name: 'limit_processes',
      available: cg,
      detail: cg
        ? `exact (${ctx.treeLimits} pids.max): a fork past the limit fails`
        : 'approximate (host watchdog): the tree is counted every 50 ms and killed at the limit; between polls RLIMIT_NPROC (all of the user\'s tasks + the limit, ignored for root) is the only brake',
      requiredForEnforce: false,
      fix: DELEGATION,
    },
    {
      name: 'limit_cpu',
      available: false,
      detail: 'per process exact (RLIMIT_CPU); the tree\'s total approximate (host watchdog, polled, orphans the host reaps included): may pass the limit by one poll',
      requiredForEnforce: false,
      fix: 'no kernel mechanism limits a tree\'s total CPU time (cgroup cpu.max limits its rate)',
    },
    {
      name: 'limit_files',
      available: true,
      detail: 'exact per process: open files (RLIMIT_NOFILE) and file size (RLIMIT_FSIZE, memfds included); neither is a total over the tree',
      requiredForEnforce: false,
    },
    {
      name: 'limit_disk',
      available: false,
      detail:
        `no disk quota: a script may fill any directory it can write (the workspace, its TMPDIR below ${ctx.tempDir}) file by file, each at most RLIMIT_FSIZE` +
        (ctx.tmpfsTemps.includes(ctx.tempDir) ? `; ${ctx.tempDir} is a tmpfs here, so that is memory` : `; ${ctx.tempDir} is disk here, not memory`),
      requiredForEnforce: false,
      fix: 'a size-limited filesystem (a tmpfs or loop mount) for the workspace, or filesystem quotas for the user',
    },
  ];
}

/** Which of these directories are a tmpfs (statfs); unreadable ones are left out. */
export function tmpfsAmong(dirs: string[]): string[] {
  return dirs.filter((d) => {
    try {
      return Number(fs.statfsSync(d).type) === TMPFS_MAGIC;
    } catch {
      return false;
    }
  });
}
