// Per-run cgroups, when this process may create them: cgroup v2 with a delegated subtree (the desktop case,
// systemd user delegation) or cgroup v1 controllers writable by us (root on a v1 machine). A cgroup gives
// exact tree-wide memory and process limits, exact CPU/memory accounting and a kill that reaches
// daemonised grandchildren. Without one, the host watchdog does the same by polling (see src/host/watchdog).
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CgroupMode = 'cgroup v2' | 'cgroup v1';

export interface CgroupSupport {
  mode: CgroupMode | null;
  detail: string;
  /** v2: the delegated parent; v1: controller name → parent dir. */
  roots: Record<string, string>;
}

export interface CgroupStats {
  cpuUserMs: number | null;
  cpuSystemMs: number | null;
  memoryPeakBytes: number | null;
  oomKills: number;
  pidsMaxHits: number;
}

const V1_CONTROLLERS = ['memory', 'pids', 'cpuacct'] as const;

function mounts(): { fstype: string; mountPoint: string; superOpts: string }[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pre, post] = line.split(' - ');
      const pf = (pre ?? '').split(' ');
      const qf = (post ?? '').split(' ');
      return { mountPoint: pf[4] ?? '', fstype: qf[0] ?? '', superOpts: qf[2] ?? '' };
    });
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds where this process may create per-run cgroups with memory and pids control. */
export function detectCgroups(appName = 'script-sandbox'): CgroupSupport {
  let ms: ReturnType<typeof mounts>;
  try {
    ms = mounts();
  } catch (e) {
    return { mode: null, detail: `cannot read /proc/self/mountinfo: ${(e as Error).message}`, roots: {} };
  }
  const self = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean);

  // v2: our own cgroup, if its subtree already delegates memory and pids and we may write there.
  const v2 = ms.find((m) => m.fstype === 'cgroup2');
  const v2Line = self.find((l) => l.startsWith('0::'));
  if (v2 && v2Line) {
    const own = path.join(v2.mountPoint, v2Line.slice(3));
    const parent = path.dirname(own);
    for (const dir of [own, parent]) {
      try {
        const ctl = fs.readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8');
        if (/\bmemory\b/.test(ctl) && /\bpids\b/.test(ctl) && writable(dir)) {
          return { mode: 'cgroup v2', detail: `cgroup v2 delegated at ${dir}`, roots: { unified: path.join(dir, appName) } };
        }
      } catch {
        // not readable: not delegated to us
      }
    }
  }

  // v1: one hierarchy per controller.
  const roots: Record<string, string> = {};
  for (const c of V1_CONTROLLERS) {
    const m = ms.find((x) => x.fstype === 'cgroup' && x.superOpts.split(',').includes(c));
    if (!m) continue;
    const line = self.find((l) => l.split(':')[1]?.split(',').includes(c));
    const rel = line ? line.split(':')[2] ?? '/' : '/';
    const dir = path.join(m.mountPoint, rel);
    if (writable(dir)) roots[c] = path.join(dir, appName);
  }
  if (roots.memory && roots.pids) {
    return { mode: 'cgroup v1', detail: `cgroup v1 (${Object.keys(roots).join(', ')}) writable`, roots };
  }
  const why = v2 ? 'cgroup v2 present but no subtree with memory+pids is delegated to this user' : 'no writable cgroup';
  return { mode: null, detail: `${why}; the host watchdog enforces tree limits`, roots: {} };
}

/** One run's cgroup (one directory per v1 controller, or one v2 directory). */
export class RunCgroup {
  private constructor(
    readonly mode: CgroupMode,
    private readonly dirs: Record<string, string>,
  ) {}

  static create(support: CgroupSupport, runId: string): RunCgroup {
    if (!support.mode) throw new Error('no cgroup support');
    const dirs: Record<string, string> = {};
    for (const [ctl, root] of Object.entries(support.roots)) {
      fs.mkdirSync(root, { recursive: true });
      if (support.mode === 'cgroup v2') enableV2Controllers(root);
      const dir = path.join(root, runId);
      fs.mkdirSync(dir);
      dirs[ctl] = dir;
    }
    return new RunCgroup(support.mode, dirs);
  }

  private file(ctl: string, name: string): string {
    const dir = this.mode === 'cgroup v2' ? this.dirs.unified : this.dirs[ctl];
    if (!dir) throw new Error(`controller ${ctl} not available`);
    return path.join(dir, name);
  }

  setLimits(l: { memoryBytes: number | null; pidsMax: number | null }): void {
    if (this.mode === 'cgroup v2') {
      if (l.memoryBytes != null) {
        fs.writeFileSync(this.file('memory', 'memory.max'), String(l.memoryBytes));
        tryWrite(this.file('memory', 'memory.swap.max'), '0');
      }
      if (l.pidsMax != null) fs.writeFileSync(this.file('pids', 'pids.max'), String(l.pidsMax));
    } else {
      if (l.memoryBytes != null) {
        fs.writeFileSync(this.file('memory', 'memory.limit_in_bytes'), String(l.memoryBytes));
        tryWrite(this.file('memory', 'memory.memsw.limit_in_bytes'), String(l.memoryBytes));
      }
      if (l.pidsMax != null) fs.writeFileSync(this.file('pids', 'pids.max'), String(l.pidsMax));
    }
  }

  /**
   * Renames the cgroup to `id` (a held cgroup taken by run `id`: held-cgroups.ts), so a run's cgroup is always
   * named by its run. cgroup v1 renames a directory within its parent; v2 refuses (EPERM), and the cgroup keeps
   * its name. Returns whether every directory now carries the new name.
   */
  rename(id: string): boolean {
    let all = true;
    for (const [ctl, dir] of Object.entries(this.dirs)) {
      const to = path.join(path.dirname(dir), id);
      try {
        fs.renameSync(dir, to);
        this.dirs[ctl] = to;
      } catch {
        all = false;
      }
    }
    return all;
  }

  /** The run's directories (one per v1 controller), for the reaper. */
  directories(): string[] {
    return Object.values(this.dirs);
  }

  /** Forgets the peak so far (the launcher's Node heap before exec): v1 takes a 0, v2 (6.12+) any write. */
  resetPeak(): void {
    if (this.mode === 'cgroup v2') tryWrite(this.file('unified', 'memory.peak'), 'reset');
    else tryWrite(this.file('memory', 'memory.max_usage_in_bytes'), '0');
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.dirs)) fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  }

  pids(): number[] {
    return this.members() ?? [];
  }

  /** The cgroup's processes, or null when its list cannot be read (then only a scan of /proc can tell). */
  members(): number[] | null {
    const dir = this.mode === 'cgroup v2' ? this.dirs.unified : this.dirs.pids;
    try {
      return fs
        .readFileSync(path.join(dir!, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return null;
    }
  }

  /** Kills every process in the cgroup, including ones that left the session or process group. */
  killAll(): void {
    if (this.mode === 'cgroup v2' && tryWrite(this.file('unified', 'cgroup.kill'), '1')) return;
    // v1 has no cgroup.kill: loop, since a process may fork between the read and the kill.
    for (let i = 0; i < 50; i++) {
      const ps = this.pids();
      if (!ps.length) return;
      for (const p of ps) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  /** The CPU time counted so far (stats()' CPU part alone: a baseline needs no memory or pids files). */
  cpu(): Pick<CgroupStats, 'cpuUserMs' | 'cpuSystemMs'> {
    const s: Pick<CgroupStats, 'cpuUserMs' | 'cpuSystemMs'> = { cpuUserMs: null, cpuSystemMs: null };
    if (this.mode === 'cgroup v2') {
      const cpu = kv(tryRead(this.file('unified', 'cpu.stat')));
      if (cpu.user_usec != null) s.cpuUserMs = cpu.user_usec / 1000;
      if (cpu.system_usec != null) s.cpuSystemMs = cpu.system_usec / 1000;
    } else if (this.dirs.cpuacct) {
      // Nanosecond counters where the kernel has them; cpuacct.stat counts 10 ms ticks.
      const u = tryRead(this.file('cpuacct', 'cpuacct.usage_user')).trim();
      const y = tryRead(this.file('cpuacct', 'cpuacct.usage_sys')).trim();
      if (/^\d+$/.test(u) && /^\d+$/.test(y)) {
        s.cpuUserMs = Number(u) / 1e6;
        s.cpuSystemMs = Number(y) / 1e6;
      } else {
        const st = kv(tryRead(this.file('cpuacct', 'cpuacct.stat')));
        if (st.user != null) s.cpuUserMs = st.user * 10;
        if (st.system != null) s.cpuSystemMs = st.system * 10;
      }
    }
    return s;
  }

  /** The kernel's limit hits so far: processes killed for memory, forks refused at pids.max. */
  hits(): Pick<CgroupStats, 'oomKills' | 'pidsMaxHits'> {
    if (this.mode === 'cgroup v2') {
      return {
        oomKills: kv(tryRead(this.file('unified', 'memory.events'))).oom_kill ?? 0,
        pidsMaxHits: kv(tryRead(this.file('unified', 'pids.events'))).max ?? 0,
      };
    }
    return {
      oomKills: kv(tryRead(this.file('memory', 'memory.oom_control'))).oom_kill ?? 0,
      pidsMaxHits: kv(tryRead(this.file('pids', 'pids.events'))).max ?? 0,
    };
  }

  stats(): CgroupStats {
    const peak = tryRead(this.mode === 'cgroup v2' ? this.file('unified', 'memory.peak') : this.file('memory', 'memory.max_usage_in_bytes'));
    return { ...this.cpu(), memoryPeakBytes: peak ? Number(peak.trim()) : null, ...this.hits() };
  }

  /**
   * Removes the directories; a cgroup with live processes cannot be removed, so kill first. Returns whether
   * every directory is gone (a process that takes longer than `tries` x 10 ms to die keeps it).
   */
  remove(tries = 20): boolean {
    let all = true;
    for (const dir of Object.values(this.dirs)) {
      let gone = false;
      for (let i = 0; i < tries && !gone; i++) {
        try {
          fs.rmdirSync(dir);
          gone = true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') gone = true;
          else {
            this.killAll();
            if (i + 1 < tries) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
          }
        }
      }
      all &&= gone;
    }
    return all;
  }
}

function enableV2Controllers(dir: string): void {
  tryWrite(path.join(dir, 'cgroup.subtree_control'), '+memory +pids +cpu');
}

function tryWrite(file: string, value: string): boolean {
  try {
    fs.writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function tryRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function kv(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}
