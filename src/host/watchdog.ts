// The host's view of each run's process tree, by polling /proc. It attributes processes to runs (even after a
// double fork re-parents them to the host, which is a child subreaper), measures the tree, and reports
// limit crossings. Where a cgroup exists it holds the hard limits; the watchdog still does attribution,
// daemon sweeping and the limits cgroups do not have (open files).
import type { ProcInfo, ShmemObject } from '../../native/linux/procfs';

export interface TreeLimits {
  memoryBytes: number | null;
  maxProcesses: number | null;
  openFiles: number | null;
  cpuSeconds: number | null;
}

export interface TreeSample {
  processes: number;
  /** The tree's memory: RSS plus shared memory it holds open without mapping (see Watchdog.memoryOf). */
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
  /** CPU of members the host reaped (orphans re-parented to it): gone from /proc, still the run's. */
  retiredCpuMs: number;
  /**
   * Per live member: shared-memory objects it holds open (by fd), where its next fd scan starts, and the
   * resident bytes of its mappings of held objects.
   */
  shmem: Map<number, { objects: Map<number, ShmemObject>; fromFd: number; mapped: { mappedBytes: number; rssBytes: number } | null }>;
  /** Where the next tick's fd scan starts among the live members (the scan is budgeted, see FD_SCAN_BUDGET). */
  shmemCursor: number;
}

export interface ProcessTable {
  /**
   * The processes that may belong to runs: every process, or (Linux) the host's descendants plus `seeds` (the
   * runs' members and anchors alive at the last scan, read directly so one re-parented mid-walk is not missed).
   */
  list(seeds: readonly number[]): ProcInfo[];
  fds(pid: number): number | null;
  pageSize: number;
  ticksPerSecond: number;
  /** Reaps a zombie re-parented to the host; returns the CPU it used (its own and its waited-for children's). */
  reap(pid: number): { cpuMs: number } | null;
  /** Memfds and tmpfs/hugetlbfs files the process holds open, examining at most maxFds fds from fromFd on. */
  heldShmem?(pid: number, fromFd: number, maxFds: number): { objects: Array<ShmemObject & { fd: number }>; scanned: number; nextFd: number | null };
  /** Resident bytes of the process's mappings of these objects and its whole RSS, from one read (null: unreadable). */
  mappedBytesOf?(pid: number, keys: ReadonlySet<string>): { mappedBytes: number; rssBytes: number } | null;
  /**
   * The bytes stored in the run's private /dev/shm as seen by this process (namespace tier), keyed
   * `major:minor:*`; null when it sees the host's. Files closed there are memory no fd or mapping shows.
   */
  privateShm?(pid: number): ShmemObject | null;
}

/**
 * fds examined per tick and run for held shared memory (a readlink each, plus a stat and statfs per regular
 * file: some 10-100 µs apiece on a busy machine). The scan goes on each tick where the last one stopped:
 * process by process round-robin, and within a process by fd number, so a 4096-fd table takes several ticks
 * and the others keep their last result meanwhile. A memfd is seen at most (fds of the run / budget) ticks
 * after it is made.
 */
const FD_SCAN_BUDGET = 256;
/** /proc/<pid>/smaps reads per tick and run (a page-table walk each), only while the run holds shared memory. */
const SMAPS_BUDGET = 8;

export class Watchdog {
  private readonly runs = new Map<string, WatchedRun>();
  private timer: NodeJS.Timeout | null = null;
  /** Members and anchors of the runs alive at the last scan: the next scan's seeds. */
  private alive: number[] = [];

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
      retiredCpuMs: 0,
      shmem: new Map(),
      shmemCursor: 0,
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
    const procs = this.scan();
    this.tick(procs);
    const run = this.runs.get(runId);
    if (!run) return [];
    return procs.filter((p) => run.members.has(p.pid) && p.state !== 'Z').map((p) => p.pid);
  }

  tick(procs?: ProcInfo[]): void {
    if (!this.runs.size) return;
    procs ??= this.scan();
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    this.attribute(procs, byPid);
    const runs = [...this.runs.values()];
    this.alive = procs.filter((p) => p.state !== 'Z' && runs.some((r) => r.members.has(p.pid) || r.anchors.has(p.pid))).map((p) => p.pid);
    for (const run of this.runs.values()) this.measure(run, procs);
  }

  private scan(): ProcInfo[] {
    const seeds = new Set(this.alive);
    for (const run of this.runs.values()) {
      seeds.add(run.rootPid);
      for (const a of run.anchors) seeds.add(a);
    }
    return this.table.list([...seeds]);
  }

  private attribute(procs: ProcInfo[], byPid: Map<number, ProcInfo>): void {
    const owner = new Map<number, WatchedRun>();
    for (const run of this.runs.values()) for (const pid of [...run.members, ...run.anchors]) owner.set(pid, run);
    for (const p of procs) {
      const known = owner.get(p.pid);
      if (known) {
        // A member orphan that ended: the host is its parent and must reap it, and its CPU leaves /proc with it.
        if (p.ppid === this.hostPid && p.state === 'Z' && p.pid !== known.rootPid && known.members.has(p.pid)) this.reapInto(known, p.pid);
        continue;
      }
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
      if (p.ppid === this.hostPid && p.state === 'Z' && found && p.pid !== found.rootPid) this.reapInto(found, p.pid);
    }
  }

  private reapInto(run: WatchedRun, pid: number): void {
    const r = this.table.reap(pid);
    if (r) run.retiredCpuMs += r.cpuMs;
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
    const live = new Map<number, number>(); // pid → RSS bytes
    for (const p of procs) {
      // Namespace tier: the init reaps the script's orphans, so their CPU ends in its children's figures.
      if (run.anchors.has(p.pid) && p.state !== 'Z') ticks += p.childCpuTicks;
      if (!run.members.has(p.pid) || p.state === 'Z') continue;
      processes++;
      live.set(p.pid, p.rssPages * this.table.pageSize);
      rssPages += p.rssPages;
      ticks += p.cpuTicks + p.childCpuTicks;
      if (run.limits.openFiles != null) maxFds = Math.max(maxFds, this.table.fds(p.pid) ?? 0);
    }
    const rssBytes = rssPages * this.table.pageSize;
    const memory = run.limits.memoryBytes != null ? (this.memoryWithShmem(run, live) ?? rssBytes) : rssBytes;
    const cpuMs = (ticks * 1000) / this.table.ticksPerSecond + run.retiredCpuMs;
    const sample = { processes, rssBytes: memory, cpuMs: Math.max(0, cpuMs - run.cpuBaseMs), maxFds };
    run.last = sample;
    run.peakRssBytes = Math.max(run.peakRssBytes, sample.rssBytes);
    const l = run.limits;
    this.check(run, 'memory', sample.rssBytes, l.memoryBytes, (o, m) => o > m);
    this.check(run, 'processes', sample.processes, l.maxProcesses, (o, m) => o >= m);
    this.check(run, 'openFiles', sample.maxFds, l.openFiles, (o, m) => o >= m);
    this.check(run, 'cpu', sample.cpuMs / 1000, l.cpuSeconds, (o, m) => o > m);
  }

  /**
   * The tree's memory with the shared memory it holds that no RSS shows, or null when it holds none. The rule,
   * so nothing counts twice: RSS already includes every resident page a process maps, shared memory too
   * (RssShmem); memfds and tmpfs files held open add their allocated size (st_blocks, once per (dev, ino) for
   * the whole run), and a process that maps one of those counts only its RSS outside those mappings (RSS and
   * the mappings' share from one read of its smaps, so a map or unmap between two reads cannot make a page
   * count twice or not at all). The run's private /dev/shm (namespace tier) counts as one object, all it
   * stores (closed files too), replacing the files on it found held. Not counted: tmpfs files nobody of the
   * run holds or maps on the host's tmpfs mounts (the fallback tier's /dev/shm, a tmpfs /tmp), and fds in
   * flight in a unix socket: see README "Limits".
   */
  private memoryWithShmem(run: WatchedRun, live: Map<number, number>): number | null {
    const held = this.table.heldShmem;
    if (!held || !live.size) return null;
    const pids = [...live.keys()];
    for (const pid of run.shmem.keys()) if (!live.has(pid)) run.shmem.delete(pid);
    let budget = FD_SCAN_BUDGET;
    const start = run.shmemCursor % pids.length;
    const visited = new Set<number>();
    for (let i = 0; i < pids.length && budget > 0; i++) {
      const pid = pids[(start + i) % pids.length]!;
      const st = run.shmem.get(pid) ?? { objects: new Map<number, ShmemObject>(), fromFd: 0, mapped: null };
      run.shmem.set(pid, st);
      const r = held.call(this.table, pid, st.fromFd, budget);
      // The examined fd range is now known exactly: forget what was there, keep what is there.
      for (const fd of [...st.objects.keys()]) if (fd >= st.fromFd && (r.nextFd === null || fd < r.nextFd)) st.objects.delete(fd);
      for (const o of r.objects) st.objects.set(o.fd, { key: o.key, bytes: o.bytes });
      budget -= Math.max(1, r.scanned);
      visited.add(pid);
      st.fromFd = r.nextFd ?? 0;
      // A table not finished stays first in line for the next tick.
      run.shmemCursor = r.nextFd === null ? start + i + 1 : start + i;
    }
    const objects = new Map<string, number>();
    for (const s of run.shmem.values()) for (const o of s.objects.values()) objects.set(o.key, o.bytes);
    const shm = this.table.privateShm?.(pids[0]!) ?? null;
    if (shm) {
      const dev = shm.key.slice(0, -1);
      for (const k of [...objects.keys()]) if (k.startsWith(dev)) objects.delete(k);
      if (shm.bytes > 0) objects.set(shm.key, shm.bytes);
    }
    if (!objects.size) return null;
    let memory = 0;
    for (const b of objects.values()) memory += b;
    const keys = new Set(objects.keys());
    // smaps walks the page tables: read for the processes known to map a held object (each tick: their RSS must
    // come from the same read as their mappings), then for the fd scan's rotation, SMAPS_BUDGET in all.
    let smapsLeft = SMAPS_BUDGET;
    const fresh = new Set<number>();
    const order = [...live.keys()].sort((a, b) => Number(!!run.shmem.get(b)?.mapped?.mappedBytes) - Number(!!run.shmem.get(a)?.mapped?.mappedBytes));
    for (const pid of order) {
      const entry = run.shmem.get(pid);
      if (!entry || smapsLeft <= 0 || !(entry.mapped?.mappedBytes || visited.has(pid))) continue;
      smapsLeft--;
      entry.mapped = this.table.mappedBytesOf?.(pid, keys) ?? null;
      if (entry.mapped) fresh.add(pid);
    }
    for (const [pid, rss] of live) {
      const m = run.shmem.get(pid)?.mapped;
      // Read this tick: RSS and mappings from the same smaps. Otherwise stat's RSS (a process over the smaps
      // budget that maps a held object may count it twice until its turn: an over-count, never an under-count).
      memory += m && fresh.has(pid) ? Math.max(0, m.rssBytes - m.mappedBytes) : rss;
    }
    return memory;
  }

  private check(run: WatchedRun, limit: TreeCrossing['limit'], observed: number, max: number | null, crossed: (o: number, m: number) => boolean): void {
    if (max == null || run.crossed.has(limit) || !crossed(observed, max)) return;
    run.crossed.add(limit);
    run.onCrossing({ limit, observed, max });
  }
}
