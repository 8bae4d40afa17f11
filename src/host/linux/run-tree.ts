// One run's process tree on Linux: its cgroup (held while its launcher waited, or made at attach) when this
// host may make cgroups, else the watchdog's polling; the kill that reaches daemonised descendants, the
// usage, and the cgroup's removal.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxBackend } from '../../../native';
import type { RunCgroup } from '../../../native/linux/cgroup';
import type { RunTree, TreeUsage } from '../platform';
import type { Reaper } from './reaper';
import type { TreeCrossing, TreeLimits, Watchdog, WatchedRun } from '../watchdog';
import type { HeldCgroup } from './held-cgroups';
import { removeCgroup } from './cgroup-removal';
import { SandboxError } from '../../errors';
import { killMembersAndGroup } from '../tree-kill';

/** How a tree gets its cgroup (LinuxHostPlatform.treeCgroups). */
export interface TreeCgroups {
  mode: RunCgroup['mode'];
  take(pid: number): (HeldCgroup & { moved: boolean; joined: boolean }) | null;
  create(): RunCgroup;
}

export class LinuxRunTree implements RunTree {
  readonly kind: RunTree['kind'];
  private watched: WatchedRun | null = null;
  private rootPid = 0;
  /** Made or taken when the launcher is attached. */
  private cg: RunCgroup | null = null;
  private releaseCg: () => void = () => undefined;
  /** The held cgroup's CPU from before the run (its launcher waited in it), left out of the run's usage. */
  private cpuBefore = { user: 0, system: 0 };

  constructor(
    private readonly runId: string,
    private readonly watchdog: Watchdog,
    private readonly cgroups: TreeCgroups | null,
    private readonly limits: TreeLimits,
    private readonly native: LinuxBackend,
    private readonly reaper: Reaper | null,
    private readonly release: () => void = () => undefined,
  ) {
    this.kind = cgroups ? cgroups.mode : 'watchdog';
  }

  private untrack: (() => void) | null = null;

  nprocRlimit(): number | null {
    if (this.cgroups || this.limits.maxProcesses == null) return null;
    // RLIMIT_NPROC counts every task of the user, so the cap is "what the user runs now + the limit", plus
    // room for threads the host itself starts later (worker, libuv pool): without it the script's forks
    // fail a few short of the limit, before the watchdog can see the tree reach it and say so. The exact
    // count is the watchdog's (it ends the run at the limit); the rlimit only stops a fork bomb between
    // two polls. The kernel ignores it for uid 0 (then only the watchdog holds the count).
    const uid = process.getuid?.() ?? 0;
    if (uid === 0) return null;
    return countUserTasks(uid) + this.limits.maxProcesses + HOST_THREAD_ROOM;
  }

  attach(pid: number): void {
    // Attached again when the first launcher was found dead before it answered: forget the old group.
    this.untrack?.();
    this.rootPid = pid;
    let moved = false;
    if (this.cgroups) {
      // The launcher's held cgroup whenever it has one, even on a second attach: a join of it still in flight
      // would otherwise move the launcher out of the cgroup this run put it in.
      const held = this.cgroups.take(pid);
      if (held) {
        this.removeCg();
        this.cg = held.cg;
        this.releaseCg = held.release;
        // Named by its run from now on; the run's own owner record (claimRun) then covers it. Not while the
        // launcher's join is in flight: it names the cgroup.procs files by path, and a launcher that cannot
        // join exits (the cgroup then keeps the name of its own owner record).
        if (held.joined && held.cg.rename(this.runId)) {
          held.release();
          this.releaseCg = () => undefined;
        }
        moved = held.moved;
        const s = held.cg.cpu();
        this.cpuBefore = { user: s.cpuUserMs ?? 0, system: s.cpuSystemMs ?? 0 };
      } else if (!this.cg) {
        try {
          this.cg = this.cgroups.create();
        } catch (e) {
          // The plan was compiled for a cgroup (memory counted by the kernel): no silent weaker run.
          throw new SandboxError('SETUP_FAILED', `cannot create the run's cgroup: ${(e as Error).message}`, { call: 'mkdir' });
        }
      }
    }
    // The launcher calls setsid(): the script's process group is its pid.
    this.untrack = this.reaper?.track({ pgid: pid, cgroupDirs: this.cg?.directories() ?? [] }) ?? null;
    if (this.cg) {
      // pids before exec: a fork bomb must meet the limit from its first fork (the launcher forks nothing
      // before its plan, and with a listener it cannot exec before this returns: runner.ts startOn).
      this.cg.setLimits({ memoryBytes: null, pidsMax: this.limits.maxProcesses });
      if (!moved) this.cg.addProcess(pid);
    }
  }

  /** Removes the tree's cgroup (now, or retried later: cgroup-removal.ts), then calls `andThen`. */
  private removeCg(andThen: () => void = () => undefined): void {
    const cg = this.cg;
    const release = this.releaseCg;
    this.cg = null;
    this.releaseCg = () => undefined;
    const done = () => {
      release();
      andThen();
    };
    if (cg) removeCgroup(cg, done);
    else done();
  }

  arm(onCrossing: (c: TreeCrossing) => void, launcherCpuMs = 0): void {
    if (this.cg) {
      this.cg.resetPeak();
      this.cg.setLimits({ memoryBytes: this.limits.memoryBytes, pidsMax: null });
    }
    // With a cgroup the kernel holds memory (OOM kill) and the process count (forks fail); the watchdog
    // still ends a run that sits at its process limit (a fork bomb retries forever) and keeps open files
    // and tree CPU.
    const limits: TreeLimits = this.cg ? { ...this.limits, memoryBytes: null } : this.limits;
    // Namespace tier: the launcher's parent is its PID namespace's init, which adopts the script's orphans.
    const parent = this.native.procfs.readProc(this.rootPid)?.ppid;
    const anchors = parent && parent !== process.pid ? [parent] : [];
    // The tree's CPU is the script's: the root process spent launcherCpuMs as the launcher before exec.
    this.watched = this.watchdog.watch(this.runId, this.rootPid, limits, onCrossing, anchors, launcherCpuMs);
  }

  killAll(): void {
    this.cg?.killAll();
    killMembersAndGroup(this.livePids(), this.rootPid);
  }

  private livePids(): number[] {
    const fromWatch = this.watched ? this.watchdog.liveMembers(this.runId) : [];
    const fromCg = this.cg ? this.cg.pids() : [];
    return [...new Set([...fromWatch, ...fromCg])];
  }

  sweep(): number {
    // With a cgroup the kernel keeps the tree's membership (the script cannot write to the cgroup fs): its
    // list is the answer, and the /proc scan, most of the time from a run's exit to its result, is not paid.
    // Without one, or when its list cannot be read, the watchdog's scan.
    const left = (this.cg?.members() ?? this.livePids()).filter((p) => p !== this.rootPid);
    if (left.length) this.killAll();
    return left.length;
  }

  usage(): TreeUsage {
    if (this.cg) {
      const s = this.cg.stats();
      if (s.cpuUserMs != null) {
        const sys = s.cpuSystemMs != null ? Math.max(0, s.cpuSystemMs - this.cpuBefore.system) : null;
        return { cpuUserMs: Math.max(0, s.cpuUserMs - this.cpuBefore.user), cpuSystemMs: sys, maxRssKiB: s.memoryPeakBytes != null ? Math.round(s.memoryPeakBytes / 1024) : null, source: 'cgroup' };
      }
    }
    const w = this.watched;
    if (!w) return { cpuUserMs: null, cpuSystemMs: null, maxRssKiB: null, source: 'sampled' };
    const peakKiB = this.native.procfs.peakRssKiB(this.rootPid);
    return { cpuUserMs: w.last.cpuMs, cpuSystemMs: null, maxRssKiB: Math.max(Math.round(w.peakRssBytes / 1024), peakKiB ?? 0), source: 'sampled' };
  }

  kernelHits() {
    if (!this.cg) return { memory: false, processes: false };
    const s = this.cg.hits();
    return { memory: s.oomKills > 0, processes: s.pidsMaxHits > 0 };
  }

  dispose(): void {
    this.untrack?.();
    this.watchdog.unwatch(this.runId);
    // The run's owner record goes only with its cgroup.
    this.removeCg(this.release);
  }
}

/** Threads the host may add after a run's RLIMIT_NPROC is computed. */
const HOST_THREAD_ROOM = 16;

function countUserTasks(uid: number): number {
  // RLIMIT_NPROC counts tasks, threads included: a host with a dozen threads would otherwise eat the
  // script's budget before it forks once.
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.statSync(path.join('/proc', name)).uid === uid) n += fs.readdirSync(path.join('/proc', name, 'task')).length;
    } catch {
      // exited
    }
  }
  return n;
}
