// HostPlatform on macOS: compile with native/darwin (Seatbelt profile + rlimits), process trees held by the
// watchdog over `ps` (no cgroups, no /proc), killed as the launcher's process group (it calls setsid).
// No seccomp listener: supervises() is false; Seatbelt denials come from the unified log (native/darwin
// log-stream), one `log stream` per host routed to runs by their tag or pid (watchViolations).
import { spawnSync } from 'node:child_process';
import type { DarwinBackend } from '../../../native';
import type { ProcInfo } from '../../../native/linux/procfs';
import type { Plan } from '../../protocol/plan';
import type { ResolvedPolicy } from '../../policy/schema';
import type { HostPlatform, PlanRequest, RunTree, Supervision, TreeUsage } from '../platform';
import { Watchdog, type TreeCrossing, type TreeLimits, type WatchedRun } from '../watchdog';
import { DenialRouter, denialToViolation } from '../../../native/darwin/log-stream';
import type { Violation } from '../../policy/violation';
import { killMembersAndGroup } from '../tree-kill';

/** `ps` reports RSS in KiB; the watchdog multiplies by pageSize, so a "page" here is 1 KiB. */
const PS_PAGE = 1024;
/** `ps` CPU time is parsed to hundredths of a second. */
const PS_TICKS = 100;
/** One `ps` per poll costs a spawn: poll less often than Linux's /proc reads. */
export const DARWIN_WATCH_MS = 250;
/** How long after the script exits its last denials may still arrive through the log. */
export const DENIAL_GRACE_MS = 300;

/** `[[dd-]hh:]mm:ss[.cc]` → hundredths of a second; null when malformed. */
export function parsePsTime(t: string): number | null {
  const m = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)(?:\.(\d{1,2}))?$/.exec(t.trim());
  if (!m) return null;
  const [, d, h, mi, s, cc] = m;
  const secs = (Number(d ?? 0) * 24 + Number(h ?? 0)) * 3600 + Number(mi) * 60 + Number(s);
  return secs * 100 + Number((cc ?? '0').padEnd(2, '0'));
}

/** Lines of `ps -axo pid=,ppid=,pgid=,stat=,rss=,time=` → ProcInfo (Linux's shape; cpu in 1/100 s). Pure. */
export function parsePs(out: string): ProcInfo[] {
  const rows: ProcInfo[] = [];
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [pid, ppid, pgid, stat, rss, time] = f;
    const ticks = parsePsTime(time);
    if (!/^\d+$/.test(pid) || !/^\d+$/.test(ppid) || ticks === null) continue;
    rows.push({ pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), sid: 0, state: stat.startsWith('Z') ? 'Z' : stat[0], cpuTicks: ticks, childCpuTicks: 0, rssPages: Number(rss) || 0, startTime: 0 });
  }
  return rows;
}

function listPs(): ProcInfo[] {
  const r = spawnSync('/bin/ps', ['-axo', 'pid=,ppid=,pgid=,stat=,rss=,time='], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? parsePs(String(r.stdout)) : [];
}

export class DarwinHostPlatform implements HostPlatform {
  private readonly watchdog: Watchdog;
  private readonly trees = new Map<string, DarwinRunTree>();

  constructor(
    private readonly native: DarwinBackend,
    hostOwns: (pid: number) => boolean = () => false,
    private readonly denials: DenialRouter = new DenialRouter(),
  ) {
    this.watchdog = new Watchdog(
      { list: listPs, fds: () => null, pageSize: PS_PAGE, ticksPerSecond: PS_TICKS, reap: () => null },
      process.pid,
      DARWIN_WATCH_MS,
      hostOwns,
    );
  }

  probe() {
    return this.native.probe();
  }

  compile(policy: ResolvedPolicy, req: PlanRequest & { listener: boolean }): Plan {
    // The egress proxy's port reaches the profile as the loopback allowAddresses entry withProxyAllowed adds.
    return this.native.compile(policy, { ...req, proxyPort: null });
  }

  /** Seatbelt names no hosts or ranges: in enforce every preset but none reaches the network through the
   *  run's proxy, whose loopback port is the only one the profile opens. */
  proxiesAllEgress(policy: ResolvedPolicy): boolean {
    return policy.mode === 'enforce' && policy.network.preset !== 'none';
  }

  /** Enforce runs only: warn and disabled apply no profile, so there is nothing to deny. */
  watchViolations(req: { runId: string; policy: ResolvedPolicy; rootPid: number; onViolation(v: Violation): void; onError(message: string): void }) {
    if (req.policy.mode !== 'enforce') return null;
    const unregister = this.denials.register(req.runId, {
      belongs: (pid) => pid === req.rootPid || (this.trees.get(req.runId)?.knownPids().has(pid) ?? false),
      onDenial: (d) => req.onViolation(denialToViolation(d, req.runId)),
      onUnavailable: (reason) => req.onError(`live file and network violations unavailable: ${reason}`),
    });
    return {
      flush: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            unregister();
            resolve();
          }, this.denials.unavailableReason === null ? DENIAL_GRACE_MS : 0),
        ),
    };
  }

  supervises(): boolean {
    return false;
  }

  prepareSupervision(): Promise<unknown> {
    return Promise.resolve(null);
  }

  supervise(): Supervision {
    throw new Error('no seccomp listener on macOS');
  }

  childrenUsage() {
    return this.native.childrenUsage();
  }

  createTree(runId: string, policy: ResolvedPolicy): RunTree {
    const limits: TreeLimits =
      policy.mode === 'disabled'
        ? { memoryBytes: null, maxProcesses: null, openFiles: null, cpuSeconds: null }
        : {
            memoryBytes: policy.limits.memoryMiB != null ? policy.limits.memoryMiB * 1048576 : null,
            maxProcesses: policy.limits.maxProcesses,
            openFiles: null, // no per-process fd count without libproc; RLIMIT_NOFILE holds it
            cpuSeconds: policy.limits.cpuSeconds,
          };
    const tree = new DarwinRunTree(runId, this.watchdog, limits, () => this.trees.delete(runId));
    this.trees.set(runId, tree);
    return tree;
  }

  dispose(): void {
    // The watchdog stops when its last run is unwatched.
    this.denials.dispose();
  }
}

class DarwinRunTree implements RunTree {
  readonly kind = 'watchdog' as const;
  private rootPid = 0;
  private watched: WatchedRun | null = null;

  constructor(
    private readonly runId: string,
    private readonly watchdog: Watchdog,
    private readonly limits: TreeLimits,
    private readonly onDispose: () => void = () => undefined,
  ) {}

  /** Every pid the watchdog ever attributed to the run, and the root. */
  knownPids(): Set<number> {
    return new Set([this.rootPid, ...(this.watched?.members ?? [])]);
  }

  attach(pid: number): void {
    this.rootPid = pid;
  }

  arm(onCrossing: (c: TreeCrossing) => void, launcherCpuMs = 0): void {
    this.watched = this.watchdog.watch(this.runId, this.rootPid, this.limits, onCrossing, [], launcherCpuMs);
  }

  nprocRlimit(): number | null {
    return null; // RLIMIT_NPROC counts the user's processes: the watchdog holds the count
  }

  killAll(): void {
    killMembersAndGroup(this.watched ? this.watchdog.liveMembers(this.runId) : [], this.rootPid);
  }

  sweep(): number {
    const left = (this.watched ? this.watchdog.liveMembers(this.runId) : []).filter((p) => p !== this.rootPid);
    if (left.length) this.killAll();
    return left.length;
  }

  usage(): TreeUsage {
    const w = this.watched;
    if (!w) return { cpuUserMs: null, cpuSystemMs: null, maxRssKiB: null, source: 'sampled' };
    return { cpuUserMs: w.last.cpuMs, cpuSystemMs: null, maxRssKiB: Math.round(w.peakRssBytes / 1024), source: 'sampled' };
  }

  kernelHits() {
    return { memory: false, processes: false };
  }

  dispose(): void {
    this.watchdog.unwatch(this.runId);
    this.onDispose();
  }
}
