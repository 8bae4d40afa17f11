// HostPlatform on Windows: every run gets a job object owned by this process (limits, kill on close, the
// completion port read here), and the launcher creates the script inside it. No seccomp, so no supervisor:
// live events are the job's limit messages, delivered as the same crossings the Linux tree reports.
import type { Win32Backend } from '../../../native';
import type { JobObject } from '../../../native/win32/job-object';
import type { Confinement } from '../../../native/win32/confine';
import { envNamesForPolicy } from '../../../native/win32/command-line';
import { mapJobMessage, processCountCrossing, violationCrossings, type JobCrossing } from '../../../native/win32/job-limits';
import type { ResolvedPolicy } from '../../policy/schema';
import type { HostPlatform, PlanRequest, RunTree, Supervision, TreeUsage } from '../platform';
import type { TreeCrossing } from '../watchdog';

const POLL_MS = 50;

export class Win32RunTree implements RunTree {
  readonly kind = 'job object' as const;
  private timer: NodeJS.Timeout | null = null;
  private onCrossing: ((c: TreeCrossing) => void) | null = null;
  private readonly crossed = new Set<JobCrossing['limit']>();
  private readonly hits = { memory: false, processes: false };
  private active = 0;
  private launcherCpuMs = 0;
  /** The run's ACL grants (restricted token), undone at dispose; the journal covers a host crash. */
  confinement: Confinement | null = null;

  constructor(
    readonly job: JobObject,
    private readonly onDispose: () => void,
    private readonly onUndoFailed: (message: string) => void = () => undefined,
  ) {}

  attach(): void {
    // The launcher stays outside the job: only the script (created inside it) is counted and limited.
  }

  arm(onCrossing: (c: TreeCrossing) => void, launcherCpuMs = 0): void {
    this.onCrossing = onCrossing;
    this.launcherCpuMs = launcherCpuMs;
    this.pump();
    this.timer = setInterval(() => this.pump(), POLL_MS);
    this.timer.unref();
  }

  /** Reads the port: limit messages become crossings (once per limit), process messages keep the count. */
  private pump(): void {
    for (const m of this.job.drain()) {
      const ev = mapJobMessage(m.message, m.value, this.job.limits);
      if (ev.kind === 'crossing') {
        if (ev.crossing.limit === 'memory') this.hits.memory = true;
        if (ev.crossing.limit === 'processes') this.hits.processes = true;
        this.cross(ev.crossing);
      } else if (ev.kind === 'notification') {
        const v = this.job.violation();
        if (v) for (const c of violationCrossings(v as never)) this.cross(c);
      } else if (ev.kind === 'process-new') {
        this.active++;
        const c = processCountCrossing(this.active, this.job.limits);
        if (c) this.cross(c);
      } else if (ev.kind === 'process-exit') {
        this.active = Math.max(0, this.active - 1);
      }
    }
  }

  private cross(c: JobCrossing): void {
    if (this.crossed.has(c.limit)) return;
    this.crossed.add(c.limit);
    this.onCrossing?.(c);
  }

  nprocRlimit(): number | null {
    return null;
  }

  killAll(): void {
    this.job.terminate(1);
  }

  sweep(): number {
    this.pump();
    const left = this.job.accounting()?.activeProcesses ?? 0;
    if (left > 0) this.job.terminate(1);
    return left;
  }

  usage(): TreeUsage {
    const a = this.job.accounting();
    const peak = this.job.peakJobMemory();
    // The runner subtracts the launcher's CPU from a 'cgroup' source, but the launcher is not in the job:
    // it is added back (to user time; the total is exact, the split may shift by the launcher's system time).
    return {
      cpuUserMs: a ? a.userMs + this.launcherCpuMs : null,
      cpuSystemMs: a ? a.kernelMs : null,
      maxRssKiB: peak != null ? Math.round(peak / 1024) : null,
      source: 'cgroup',
    };
  }

  kernelHits(): { memory: boolean; processes: boolean } {
    this.pump();
    return { ...this.hits };
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.job.close(); // kills what is left, so nothing writes under the grants being removed
    try {
      this.confinement?.undo();
    } catch (e) {
      // Never thrown into the runner's cleanup: the journal keeps the grants for the next host start.
      this.onUndoFailed((e as Error).message);
    } finally {
      this.confinement = null;
      this.onDispose();
    }
  }
}

export class Win32HostPlatform implements HostPlatform {
  private readonly trees = new Map<string, Win32RunTree>();

  constructor(
    private readonly native: Win32Backend,
    /** Where a failed undo of a run's ACL grants is said (the host's stderr, which the extension logs). */
    private readonly warn: (message: string) => void = (m) => void process.stderr.write(`script-sandbox: ${m}\n`),
  ) {
    // ACL grants left by a host that died mid-run are removed before this host grants anything.
    try {
      native.replayAclJournal();
    } catch {
      // the journal stays; the next start tries again
    }
  }

  envForPolicy(policy: ResolvedPolicy, env: Record<string, string>): Record<string, string> {
    return envNamesForPolicy(env, [...policy.env.allow, ...Object.keys(policy.env.set)]);
  }

  supervises(): boolean {
    return false;
  }

  async prepareSupervision(): Promise<unknown> {
    return null;
  }

  supervise(): Supervision {
    return { flush: async () => undefined, detach: () => undefined };
  }

  probe() {
    return this.native.probe();
  }

  compile(policy: ResolvedPolicy, req: PlanRequest & { listener: boolean }) {
    const tree = this.trees.get(req.runId);
    const job = tree ? { hostPid: process.pid, handle: tree.job.handle.toString() } : null;
    // Grants before the plan: the launcher starts the script under the token as soon as it has the plan.
    const confinement = tree ? this.native.confine(policy, req.runId, req.tmpDir) : null;
    if (tree) tree.confinement = confinement;
    return this.native.compile(policy, { runId: req.runId, file: req.file, argv: req.argv, env: req.env, cwd: req.cwd, job, restrictedToken: confinement ? { sid: confinement.sid } : null });
  }

  createTree(runId: string, policy: ResolvedPolicy): RunTree {
    const job = this.native.createJob(this.native.jobLimits(policy));
    const tree = new Win32RunTree(job, () => this.trees.delete(runId), (m) => this.warn(m));
    this.trees.set(runId, tree);
    return tree;
  }

  childrenUsage() {
    return { userMs: 0, systemMs: 0, maxRssKiB: 0 };
  }

  dispose(): void {
    for (const t of [...this.trees.values()]) t.dispose();
  }
}
