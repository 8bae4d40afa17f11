// HostPlatform on Linux: compile with native/linux, process trees as per-run cgroups when this process may
// create them, else the watchdog; the host is a child subreaper so daemonised descendants come back to us.
import * as os from 'node:os';
import type { LinuxBackend } from '../../../native';
import type { CgroupSupport } from '../../../native/linux/cgroup';
import type { ResolvedPolicy } from '../../policy/schema';
import type { FsModel } from '../../policy/fs-model-types';
import type { SupervisedRun } from './supervisor-protocol';
import type { HostPlatform, PlanRequest, RunTree, Supervision, SupervisionRequest } from '../platform';
import { Supervisor } from './supervisor';
import { Reaper } from './reaper';
import { resolveNetworkNames, type NetworkNames } from '../host-names';
import { Watchdog, type TreeLimits } from '../watchdog';
import { claimRun, sweepStaleRuns } from './stale-runs';
import { HeldCgroups, type HeldCgroup, type HeldLauncher } from './held-cgroups';
import { LinuxRunTree, type TreeCgroups } from './run-tree';
import { newRunId } from '../run-handle';
import { SandboxError } from '../../errors';
import { scopingCapability } from '../../../native/linux/landlock-scopes';
import { limitCapabilities, tmpfsAmong } from '../../../native/linux/limit-accuracy';

export const NAMESPACE_TIER =
  "namespaces: control files and everything outside the write grants read-only mounts (chmod/chown/utimes/xattr included); private /proc, IPC, PID namespace, network when none; deny globs that are not whole subtrees (data/*.key): new names in their folders are created, read or renamed, files there opened, and symlinks and FIFOs made by the supervisor itself (slower there; no unix socket bound there); private devpts (the script's own ptys work, other sessions' terminals are not visible; the run's terminal has no /dev/pts name, use /dev/tty or fds 0-2); warn mode never relaxes the integrity set (protected paths stay read-only mounts, the audit records hidden)";
/** Added to the namespace tier's detail where the probe could not mount a private devpts. */
export const NO_PRIVATE_DEVPTS =
  "but no private devpts here (mount refused): only the run's own terminal and the multiplexers are granted, a pty the script makes (script, expect, pty.spawn) fails with EACCES";
export const FALLBACK_TIER =
  "fallback: protected paths carved out of Landlock grants (creating, removing and renaming entries in a protected path's parent, the workspace root, and using what was created there are performed by the supervisor: slower, and executing or symlinking there is refused); chmod/chown/utimes performed by the supervisor where a write is allowed (refused on protected paths, links to them, hard-linked files and other owners' files), xattrs refused; no private /proc, IPC or PID namespace; no private devpts: a pty the script makes (script, expect, pty.spawn) fails with EACCES; warn mode never relaxes the integrity set (Landlock grants everything but the protected paths and the audit records, and is required; chmod/chown/utimes refused on the integrity set, xattrs everywhere, in warn too)";

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
    this.held = this.cgroups.mode ? new HeldCgroups(() => this.makeHeld()) : null;
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
    if (this.notifyAvailable && !this.disposed) this.supervisor ??= new Supervisor(this.supervisorWorkerPath, this.native.syscallNames());
  }

  supervise(req: SupervisionRequest, prepared: unknown): Supervision {
    // A run still starting when its engine was disposed gets no new worker thread (it would outlive the
    // engine and keep its process alive): it fails like any run whose listener could not be taken.
    if (this.disposed) throw new SandboxError('SETUP_FAILED', 'the sandbox engine was shut down while the run started', { call: 'supervise' });
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
  private fileModel(req: SupervisionRequest): Pick<SupervisedRun, 'grants' | 'protected' | 'fileTier' | 'kernel'> {
    const compiled = this.compiledModels.get(req.runId);
    this.compiledModels.delete(req.runId);
    const m = compiled ?? this.native.fsModel(req.policy, { ...req.plan, listener: true, namespaces: this.tier.namespaces });
    return { grants: m.grants, protected: m.protected, fileTier: m.tier, ...(m.kernel ? { kernel: m.kernel } : {}) };
  }

  childrenUsage() {
    return this.native.hostCalls.childrenUsage();
  }

  /**
   * Has a launcher that waits for a run move itself into a cgroup of its own now (held-cgroups.ts): the run
   * that takes it then skips the move, 5-15 ms on its way to exec. The launcher sources call it when one is
   * ready.
   */
  holdLauncher(launcher: HeldLauncher): void {
    this.held?.hold(launcher);
  }

  /** Resolves when every waiting launcher has joined its cgroup, or failed to (engine.launchersSettled). */
  launchersHeld(): Promise<void> {
    return this.held?.settled() ?? Promise.resolve();
  }

  /** Held cgroups of waiting launchers; null without cgroups. */
  private readonly held: HeldCgroups | null;

  /** Where a run's tree gets its cgroup when its launcher is attached: the launcher's held one, else a new one. */
  private treeCgroups(runId: string): TreeCgroups | null {
    const mode = this.cgroups.mode;
    if (!mode || !this.held) return null;
    const held = this.held;
    return { mode, take: (pid) => held.take(pid), create: () => this.native.createCgroup(this.cgroups, runId) };
  }

  createTree(runId: string, policy: ResolvedPolicy): RunTree {
    const limits: TreeLimits = {
      memoryBytes: policy.limits.memoryMiB != null ? policy.limits.memoryMiB * 1048576 : null,
      maxProcesses: policy.limits.maxProcesses,
      openFiles: policy.limits.openFiles,
      cpuSeconds: policy.limits.cpuSeconds,
    };
    const enforced = policy.mode !== 'disabled';
    const release = claimRun(runId);
    const forget = () => {
      release();
      this.compiledModels.delete(runId);
    };
    return new LinuxRunTree(runId, this.watchdog, this.treeCgroups(runId), enforced ? limits : noLimits(), this.native, this.reaper, forget);
  }

  /** A cgroup for a waiting launcher, under an id of the run-id shape so a dead host's sweep removes it. */
  private makeHeld(): HeldCgroup | null {
    const id = newRunId();
    const release = claimRun(id);
    try {
      return { cg: this.native.createCgroup(this.cgroups, id), release };
    } catch {
      release();
      return null; // the run then makes its own cgroup at attach, as without a held one
    }
  }

  /** Set by dispose: nothing of this platform starts again (a worker made after it would keep the process). */
  private disposed = false;

  dispose(): void {
    this.disposed = true;
    this.held?.dispose();
    this.supervisor?.dispose();
    this.supervisor = null;
    this.reaper?.dispose();
  }
}

function noLimits(): TreeLimits {
  return { memoryBytes: null, maxProcesses: null, openFiles: null, cpuSeconds: null };
}
