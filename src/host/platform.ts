// What the runner needs from the OS, behind one interface. The Linux implementation lives in
// linux/platform.ts (win32/, darwin/ beside it); the runner never branches on the platform.
import type { CapabilityReport } from '../../native/backend';
import type { Plan } from '../protocol/plan';
import type { RunReactions } from '../protocol/run-reactions';
import type { ResolvedPolicy } from '../policy/schema';
import type { FsTier } from '../policy/fs-model-types';
import type { TreeCrossing } from './watchdog';
import type { Violation } from '../policy/violation';

export interface PlanRequest {
  runId: string;
  file: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  tmpDir: string;
  toolRoots: string[];
  nprocLimit: number | null;
  /** The tree's memory is kept by the host's watchdog, not a cgroup (see CompileRequest.memoryWatchdogOnly). */
  memoryWatchdogOnly?: boolean;
  /** Filesystem tier (see native/linux/compile-plan.ts CompileRequest.tier); default by supervision. */
  tier?: FsTier;
  /** The audit log's folder when it is not the workspace's `.sandbox` (hidden from the script). */
  auditDir?: string;
  /** The run's own terminal (pty slave or the CLI caller's tty): the only /dev/pts entry granted. */
  ttyPath?: string;
}

export interface TreeUsage {
  cpuUserMs: number | null;
  cpuSystemMs: number | null;
  maxRssKiB: number | null;
  source: 'cgroup' | 'sampled';
}

/** One run's process tree: limits, accounting, and the kill that reaches daemonised descendants. */
export interface RunTree {
  readonly kind: 'cgroup v2' | 'cgroup v1' | 'watchdog' | 'job object';
  /**
   * Called with the launcher pid before the launcher can exec, so the script starts inside the tree: before the
   * plan is sent, or just after when the plan holds the launcher at the listener ack (runner.ts startOn); again
   * with a replacement when that launcher was dead (the last call wins). Throws ESRCH when a cgroup refuses a
   * gone pid.
   */
  attach(pid: number): void;
  /**
   * Called once the script is exec'd: limits on memory and the watchdog's checks start only now, so the
   * launcher's own Node heap is never charged to the script.
   */
  /** launcherCpuMs: CPU the root process used as the launcher before exec, left out of the tree's CPU. */
  arm(onCrossing: (c: TreeCrossing) => void, launcherCpuMs?: number): void;
  /** RLIMIT_NPROC to set when nothing better bounds the process count, else null. */
  nprocRlimit(): number | null;
  killAll(): void;
  /** Kills what is left after the main process exited (daemons), and reports whether there was any. */
  sweep(): number;
  usage(): TreeUsage;
  /** Limits the kernel enforced on the tree (cgroup OOM kill, pids.max hits). */
  kernelHits(): { memory: boolean; processes: boolean };
  dispose(): void;
}

export interface SupervisionRequest {
  runId: string;
  policy: ResolvedPolicy;
  /** The links on the deny globs' ways before the run (deny-glob-links.ts): moving one is refused. */
  globLinks: string[];
  /** The host's answers, compiled from the mode once per run (protocol/run-reactions.ts). */
  reactions: RunReactions;
  plan: PlanRequest;
  launcherPid: number;
  /** The listener fd number inside the launcher. */
  fd: number;
  onViolation(v: Violation): void;
  onError(message: string): void;
}

export interface Supervision {
  flush(): Promise<void>;
  detach(): void;
}

export interface HostPlatform {
  /** Whether runs in this mode get a seccomp listener for live violations. */
  supervises(policy: ResolvedPolicy): boolean;
  /** Work done before the launcher gets the plan (resolving names takes time). */
  prepareSupervision(policy: ResolvedPolicy): Promise<unknown>;
  supervise(req: SupervisionRequest, prepared: unknown): Supervision;
  probe(): CapabilityReport;
  compile(policy: ResolvedPolicy, req: PlanRequest & { listener: boolean }): Plan;
  createTree(runId: string, policy: ResolvedPolicy): RunTree;
  childrenUsage(): { userMs: number; systemMs: number; maxRssKiB: number };
  /** True when every run with network must go through the egress proxy (the kernel rules cannot name hosts:
   *  macOS Seatbelt only opens the proxy's loopback port). Absent: only wildcard host rules need it. */
  proxiesAllEgress?(policy: ResolvedPolicy): boolean;
  /** Violations read from outside the script's processes (macOS: the unified log), for platforms without a
   *  supervisor fd. Started before exec; flush() delivers what is late (log latency) before 'finished'. */
  watchViolations?(req: { runId: string; policy: ResolvedPolicy; rootPid: number; onViolation(v: Violation): void; onError(message: string): void }): { flush(): Promise<void> } | null;
  /** The caller's environment as the policy's env filter should see it (Windows: names are case-insensitive,
   *  so `Path` is spelled `PATH` for an allow entry `PATH`). Absent: unchanged. */
  envForPolicy?(policy: ResolvedPolicy, env: Record<string, string>): Record<string, string>;
  dispose(): void;
}
