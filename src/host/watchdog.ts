// The host's view of each run's process tree, by polling /proc. It attributes processes to runs (even after a
// double fork re-parents them to the host, which is a child subreaper), measures the tree, and reports
// limit crossings. Where a cgroup exists it holds the hard limits; the watchdog still does attribution,
// daemon sweeping and the limits cgroups do not have (open files).
import type { ProcInfo } from '../../native/linux/procfs';

export interface TreeLimits {
  memoryBytes: number | null;
  maxProcesses: number | null;
  openFiles: number | null;
  cpuSeconds: number | null;
}

export interface TreeSample {
  processes: number;
  rssBytes: number;
  cpuMs: number;
  maxFds: number;
}

export type TreeCrossing = { limit: 'memory' | 'processes' | 'openFiles' | 'cpu'; observed: number; max: number };

export interface WatchedRun {
  readonly rootPid: number;
  /** Every pid ever attributed to this run (alive or not). */
  readonly members: Set<number>;
  /**
   * Processes whose children belong to the run without being measured themselves: the run's PID-namespace
   * init, to which the script's orphans are re-parented in the namespace tier.
   */
  readonly anchors: Set<number>;
  /** CPU the root process spent as the launcher before exec (it is the same process): not the script's. */
  readonly cpuBaseMs: number;
  limits: TreeLimits;
  onCrossing(c: TreeCrossing): void;
  last: TreeSample;
  peakRssBytes: number;
  crossed: Set<TreeCrossing['limit']>;
}

export interface ProcessTable {
  list(): ProcInfo[];
  fds(pid: number): number | null;
  pageSize: number;
  ticksPerSecond: number;
  /** Reaps a zombie re-parented to the host. */
  reap(pid: number): void;
}

export class Watchdog {
  private readonly runs = new Map<string, WatchedRun>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly table: ProcessTable,
    private readonly hostPid: number,
    private readonly intervalMs = 50,
    /** The host's own children (idle pooled launchers): never mistaken for a run's orphans. */
    private readonly isHostOwn: (pid: number) => boolean = () => false,
  ) {}

  watch(runId: string, rootPid: number, limits: TreeLimits, onCrossing: (c: TreeCrossing) => void, anchors: number[] = [], cpuBaseMs = 0): WatchedRun {
    const run: WatchedRun = {
      rootPid,
      members: new Set([rootPid]),
      anchors: new Set(anchors),
      cpuBaseMs,
      limits,
      onCrossing,
      last: { processes: 1, rssBytes: 0, cpuMs: 0, maxFds: 0 },
      peakRssBytes: 0,
      crossed: new Set(),
    };
    this.runs.set(runId, run);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    this.tick();
    return run;
  }

  unwatch(runId: string): void {
    this.runs.delete(runId);
    if (!this.runs.size && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Live processes of a run right now (fresh scan). */
  liveMembers(runId: string): number[] {
    // One scan of /proc serves both the attribution and the answer (it is most of the time from a run's exit
    // to its result).
    const procs = this.table.list();
    this.tick(procs);
    const run = this.runs.get(runId);
    if (!run) return [];
    return procs.filter((p) => run.members.has(p.pid) && p.state !== 'Z').map((p) => p.pid);
  }

  tick(procs?: ProcInfo[]): void {
    if (!this.runs.size) return;
    procs ??= this.table.list();
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    this.attribute(procs, byPid);
    for (const run of this.runs.values()) this.measure(run, procs);
  }

  private attribute(procs: ProcInfo[], byPid: Map<number, ProcInfo>): void {
    const owner = new Map<number, WatchedRun>();
    for (const run of this.runs.values()) for (const pid of [...run.members, ...run.anchors]) owner.set(pid, run);
    for (const p of procs) {
      if (owner.has(p.pid)) continue;
      // Walk up until a known member or the host; the pid set of a chain is small.
      let cur: ProcInfo | undefined = p;
      let found: WatchedRun | undefined;
      for (let depth = 0; cur && depth < 256; depth++) {
        found = owner.get(cur.ppid);
        if (found || cur.ppid === this.hostPid || cur.ppid <= 1) break;
        cur = byPid.get(cur.ppid);
      }
      if (!found && p.ppid === this.hostPid && !this.isHostOwn(p.pid)) found = this.orphanOwner(p);
      if (found) {
        found.members.add(p.pid);
        owner.set(p.pid, found);
      }
      if (p.ppid === this.hostPid && p.state === 'Z' && found && p.pid !== found.rootPid) this.table.reap(p.pid);
    }
  }

  /**
   * A process re-parented to the host that we never saw being born (forked and orphaned between two
   * ticks). The host starts no other long-lived children than launchers, so it belongs to a run: the one
   * whose session or process group it still carries, else every active run claims it (over-killing an
   * escaped daemon at the end of the earliest run beats letting it outlive its run).
   */
  private orphanOwner(p: ProcInfo): WatchedRun | undefined {
    const runs = [...this.runs.values()];
    if (runs.some((r) => r.rootPid === p.pid)) return undefined;
    const bySession = runs.find((r) => r.rootPid === p.sid || r.rootPid === p.pgid);
    if (bySession) return bySession;
    for (const r of runs) r.members.add(p.pid);
    return runs[0];
  }

  private measure(run: WatchedRun, procs: ProcInfo[]): void {
    let processes = 0;
    let rssPages = 0;
    let ticks = 0;
    let maxFds = 0;
    for (const p of procs) {
      if (!run.members.has(p.pid) || p.state === 'Z') continue;
      processes++;
      rssPages += p.rssPages;
      ticks += p.cpuTicks + p.childCpuTicks;
      if (run.limits.openFiles != null) maxFds = Math.max(maxFds, this.table.fds(p.pid) ?? 0);
    }
    const sample = { processes, rssBytes: rssPages * this.table.pageSize, cpuMs: Math.max(0, (ticks * 1000) / this.table.ticksPerSecond - run.cpuBaseMs), maxFds };
    run.last = sample;
    run.peakRssBytes = Math.max(run.peakRssBytes, sample.rssBytes);
    const l = run.limits;
    this.check(run, 'memory', sample.rssBytes, l.memoryBytes, (o, m) => o > m);
    this.check(run, 'processes', sample.processes, l.maxProcesses, (o, m) => o >= m);
    this.check(run, 'openFiles', sample.maxFds, l.openFiles, (o, m) => o >= m);
    this.check(run, 'cpu', sample.cpuMs / 1000, l.cpuSeconds, (o, m) => o > m);
  }

  private check(run: WatchedRun, limit: TreeCrossing['limit'], observed: number, max: number | null, crossed: (o: number, m: number) => boolean): void {
    if (max == null || run.crossed.has(limit) || !crossed(observed, max)) return;
    run.crossed.add(limit);
    run.onCrossing({ limit, observed, max });
  }
}
