// HostPlatform on Linux: compile with native/linux, process trees as per-run cgroups when this process may
// create them, else the watchdog; the host is a child subreaper so daemonised descendants come back to us.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LinuxBackend } from '../../../native';
import type { CgroupSupport, RunCgroup } from '../../../native/linux/cgroup';
import type { ResolvedPolicy } from '../../policy/schema';
import type { FsModel, Grant, ProtectedPath } from '../../policy/fs-model-types';
import type { HostPlatform, PlanRequest, RunTree, Supervision, SupervisionRequest, TreeUsage } from '../platform';
import { Supervisor } from './supervisor';
import { Reaper } from './reaper';
import { resolveNetworkNames, type NetworkNames } from '../host-names';
import { Watchdog, type TreeCrossing, type TreeLimits, type WatchedRun } from '../watchdog';
import { claimRun, sweepStaleRuns } from './stale-runs';
import { scopingCapability } from '../../../native/linux/landlock-scopes';
import { limitCapabilities, tmpfsAmong } from '../../../native/linux/limit-accuracy';

export const NAMESPACE_TIER =
  "namespaces: control files and everything outside the write grants read-only mounts (chmod/chown/utimes/xattr included); private /proc, IPC, PID namespace, network when none; deny globs that are not whole subtrees (data/*.key): new names in their folders are created, read or renamed, files there opened, and symlinks and FIFOs made by the supervisor itself (slower there; no unix socket bound there); private devpts (the script's own ptys work, other sessions' terminals are not visible; the run's terminal has no /dev/pts name, use /dev/tty or fds 0-2); warn mode never relaxes the integrity set (protected paths stay read-only mounts, the audit records hidden)";
/** Added to the namespace tier's detail where the probe could not mount a private devpts. */
export const NO_PRIVATE_DEVPTS =
  "but no private devpts here (mount refused): only the run's own terminal and the multiplexers are granted, a pty the script makes (script, expect, pty.spawn) fails with EACCES";
export const FALLBACK_TIER =
  "fallback: protected paths carved out of Landlock grants (creating, removing and renaming entries in a protected path's parent, the workspace root, and using what was created there are performed by the supervisor: slower, and executing or symlinking there is refused); chmod/chown/utimes/xattr calls refused by the filter; no private /proc, IPC or PID namespace; no private devpts: a pty the script makes (script, expect, pty.spawn) fails with EACCES; warn mode never relaxes the integrity set (Landlock grants everything but the protected paths and the audit records, and is required; chmod/chown/utimes/xattr refused in warn too)";

/** Which protection tier runs get: the namespace stage, or Landlock carve-outs only. */
export interface NamespaceTier {
  namespaces: boolean;
  detail: string;
}

export class LinuxHostPlatform implements HostPlatform {
  private readonly cgroups: CgroupSupport;
  private readonly watchdog: Watchdog;
  private supervisor: Supervisor | null = null;
  /** Null when every launcher goes through the namespace stage and it was asked for none (the CLI): see below. */
  private readonly reaper: Reaper | null;
  private readonly notifyAvailable: boolean;

  constructor(
    private readonly native: LinuxBackend,
    private readonly supervisorWorkerPath: string,
    hostOwns: (pid: number) => boolean = () => false,
    private readonly tier: NamespaceTier = { namespaces: false, detail: FALLBACK_TIER },
    /**
     * reaper false (the CLI's single run in the namespace tier): no reaper process. The stage and its init
     * die with this process (parent-death signals, native/linux/namespace-stage.ts), and the run's PID
     * namespace with them, which covers everything the reaper's kills would.
     */
    opts: { reaper?: boolean } = {},
  ) {
    this.reaper = opts.reaper === false && tier.namespaces ? null : new Reaper();
    this.cgroups = native.detectCgroups();
    this.notifyAvailable = native.probe().capabilities.some((c) => c.name === 'seccomp_user_notif' && c.available);
    native.hostCalls.setChildSubreaper();
    // Temp folders and cgroups of runs whose host was killed before it could remove them.
    sweepStaleRuns(Object.values(this.cgroups.roots));
    // Every process of a run is below the host (a child subreaper: orphans come back to it, or to the run's
    // PID-namespace init below it), so the poll walks the host's tree, not every process on the machine
    // (a /proc-wide scan cost ~7 ms per 50 ms tick on the main thread with ~90 processes).
    const walk = native.procfs.hasChildrenLists();
    this.watchdog = new Watchdog(
      {
        list: (seeds) => (walk ? native.procfs.listTree([process.pid], seeds) : native.procfs.listProcesses()),
        fds: (pid) => native.procfs.countFds(pid),
        pageSize: native.procfs.PAGE_SIZE,
        ticksPerSecond: native.procfs.CLOCK_TICKS_PER_SECOND,
        reap: (pid) => native.hostCalls.reap(pid),
        heldShmem: (pid, fromFd, maxFds) => native.procfs.heldShmem(pid, fromFd, maxFds),
        mappedBytesOf: (pid, keys) => native.procfs.mappedBytesOf(pid, keys),
        privateShm: (pid) => native.procfs.privateShmUse(pid),
      },
      process.pid,
      50,
      (pid) => pid === this.reaper?.pid || hostOwns(pid),
    );
  }

  probe() {
    const r = this.native.probe();
    // Landlock scoping lost on ABI < 6 is kept by the PID namespace (signals) or the supervisor (abstract
    // sockets) in some tiers only; what nothing keeps makes enforce impossible here.
    const scoping = scopingCapability(this.native.landlockAbi(), { namespaces: this.tier.namespaces, supervised: this.notifyAvailable });
    return {
      ...r,
      enforcePossible: r.enforcePossible && scoping.available,
      capabilities: [
        ...r.capabilities.flatMap((c) => (c.name === 'landlock' ? [c, scoping] : [c])),
        {
          name: 'namespaces',
          available: this.tier.namespaces,
          detail: this.tier.detail,
          requiredForEnforce: false,
          fix: 'util-linux unshare, perl and user namespaces allowed for this user give the namespace tier',
        },
        ...limitCapabilities({ treeLimits: r.treeLimits, namespaces: this.tier.namespaces, tempDir: os.tmpdir(), tmpfsTemps: tmpfsAmong([...new Set([os.tmpdir(), '/tmp'])]) }),
      ],
    };
  }

  compile(policy: ResolvedPolicy, req: PlanRequest & { listener: boolean }) {
    // The model the plan was compiled from is the supervisor's too (fileModel): kept until the run's listener
    // arrives, so a warm run reads the disk for it once, not a second time while its launcher waits for the ack.
    return this.native.compile(policy, { ...req, namespaces: this.tier.namespaces }, (m) => {
      if (!m || !req.listener) return;
      this.compiledModels.set(req.runId, m);
      // A compile whose run never started (a caller that only wanted the plan) leaves no tree to drop it.
      if (this.compiledModels.size > 64) this.compiledModels.delete(this.compiledModels.keys().next().value as string);
    });
  }

  /** Per run (by id), the filesystem model its plan was compiled from; dropped when taken or at the tree's end. */
  private readonly compiledModels = new Map<string, FsModel>();

  supervises(policy: ResolvedPolicy): boolean {
    return policy.mode !== 'disabled' && this.notifyAvailable;
  }

  prepareSupervision(policy: ResolvedPolicy): Promise<NetworkNames> {
    return resolveNetworkNames(policy);
  }

  /**
   * Starts the supervisor's worker now instead of at the first run's listener. The CLI's single run calls it:
   * the worker's start (a Node isolate, its bundle, koffi) then overlaps the launcher's, where it used to run
   * beside the script and hold up the result (the run's final flush waits for the worker to answer).
   */
  prewarmSupervisor(): void {
    if (this.notifyAvailable) this.supervisor ??= new Supervisor(this.supervisorWorkerPath, this.native.syscallNames());
  }

  supervise(req: SupervisionRequest, prepared: unknown): Supervision {
    this.supervisor ??= new Supervisor(this.supervisorWorkerPath, this.native.syscallNames());
    const names = prepared as NetworkNames;
    return this.supervisor.attach(
      req.launcherPid,
      req.fd,
      {
        runId: req.runId,
        violation: req.reactions.violation,
        policy: req.policy,
        ...this.fileModel(req),
        tmpDir: req.plan.tmpDir,
        denied: req.policy.syscalls.extraDeny,
        globLinks: req.globLinks,
        ...names,
      },
      { onViolation: req.onViolation, onError: req.onError },
    );
  }

  /** The grants and protected set the supervisor's file decisions share with the compiled Landlock rules. */
  private fileModel(req: SupervisionRequest): { grants: Grant[]; protected: ProtectedPath[]; fileTier: 'fallback' | 'namespaces' } {
    const compiled = this.compiledModels.get(req.runId);
    this.compiledModels.delete(req.runId);
    const m = compiled ?? this.native.fsModel(req.policy, { ...req.plan, listener: true, namespaces: this.tier.namespaces });
    return { grants: m.grants, protected: m.protected, fileTier: m.tier };
  }

  childrenUsage() {
    return this.native.hostCalls.childrenUsage();
  }

  createTree(runId: string, policy: ResolvedPolicy): RunTree {
    const limits: TreeLimits = {
      memoryBytes: policy.limits.memoryMiB != null ? policy.limits.memoryMiB * 1048576 : null,
      maxProcesses: policy.limits.maxProcesses,
      openFiles: policy.limits.openFiles,
      cpuSeconds: policy.limits.cpuSeconds,
    };
    const enforced = policy.mode !== 'disabled';
    let cg: RunCgroup | null = null;
    const release = claimRun(runId);
    if (this.cgroups.mode) {
      try {
        cg = this.native.createCgroup(this.cgroups, runId);
      } catch {
        cg = null; // fall back to the watchdog; the capability report says cgroups were expected
      }
    }
    const forget = () => {
      release();
      this.compiledModels.delete(runId);
    };
    return new LinuxRunTree(runId, this.watchdog, cg, enforced ? limits : noLimits(), this.native, this.reaper, forget);
  }

  dispose(): void {
    this.supervisor?.dispose();
    this.supervisor = null;
    this.reaper?.dispose();
  }
}

function noLimits(): TreeLimits {
  return { memoryBytes: null, maxProcesses: null, openFiles: null, cpuSeconds: null };
}

class LinuxRunTree implements RunTree {
  readonly kind: RunTree['kind'];
  private watched: WatchedRun | null = null;
  private rootPid = 0;

  constructor(
    private readonly runId: string,
    private readonly watchdog: Watchdog,
    private readonly cg: RunCgroup | null,
    private readonly limits: TreeLimits,
    private readonly native: LinuxBackend,
    private readonly reaper: Reaper | null,
    private readonly release: () => void = () => undefined,
  ) {
    this.kind = cg ? cg.mode : 'watchdog';
  }

  private untrack: (() => void) | null = null;

  nprocRlimit(): number | null {
    if (this.cg || this.limits.maxProcesses == null) return null;
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
    // The launcher calls setsid(): the script's process group is its pid.
    this.untrack = this.reaper?.track({ pgid: pid, cgroupDirs: this.cg?.directories() ?? [] }) ?? null;
    if (this.cg) {
      // pids before exec: a fork bomb must meet the limit from its first fork.
      this.cg.setLimits({ memoryBytes: null, pidsMax: this.limits.maxProcesses });
      this.cg.addProcess(pid);
    }
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
    for (const pid of this.livePids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    try {
      process.kill(-this.rootPid, 'SIGKILL');
    } catch {
      // the group is empty
    }
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
        return { cpuUserMs: s.cpuUserMs, cpuSystemMs: s.cpuSystemMs, maxRssKiB: s.memoryPeakBytes != null ? Math.round(s.memoryPeakBytes / 1024) : null, source: 'cgroup' };
      }
    }
    const w = this.watched;
    if (!w) return { cpuUserMs: null, cpuSystemMs: null, maxRssKiB: null, source: 'sampled' };
    const peakKiB = this.native.procfs.peakRssKiB(this.rootPid);
    return { cpuUserMs: w.last.cpuMs, cpuSystemMs: null, maxRssKiB: Math.max(Math.round(w.peakRssBytes / 1024), peakKiB ?? 0), source: 'sampled' };
  }

  kernelHits() {
    if (!this.cg) return { memory: false, processes: false };
    const s = this.cg.stats();
    return { memory: s.oomKills > 0, processes: s.pidsMaxHits > 0 };
  }

  dispose(): void {
    this.untrack?.();
    this.watchdog.unwatch(this.runId);
    this.cg?.remove();
    this.release();
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
