// Pre-warmed launchers: Node started and koffi loaded ahead of time, so a run pays only for the plan,
// the kernel setup (~2 ms) and exec. Same interface as a cold start; the runner cannot tell them apart.
import type { Launcher, LauncherSource, LaunchOptions } from './launcher-source';

/** A run still going this long after its exec gets its pool slot refilled meanwhile. */
const REFILL_AFTER_MS = 100;

export class PooledLauncherSource implements LauncherSource {
  private readonly ready: Array<Promise<Launcher>> = [];
  private disposed = false;

  /** `source` spawns with stdin 'pipe'; callers asking for 'inherit' go to it directly (cold). */
  constructor(
    private readonly source: LauncherSource,
    private readonly size = 2,
    /** Called with each launcher once it is ready in the pool (Linux: moved into its run's cgroup ahead). */
    private readonly onReady: (l: Launcher) => void = () => undefined,
  ) {
    this.refill();
  }

  private refill(): void {
    while (!this.disposed && this.ready.length < this.size) {
      const p = this.source.acquire({ stdin: 'pipe' });
      // A launcher that failed to start is dropped here; acquire() starts a fresh one instead.
      p.then((l) => this.onReady(l), () => undefined);
      // One that dies while it waits (killed, OOM) leaves the pool: handed out, its run would fail or look
      // like a script killed by SIGKILL.
      p.then((l) => l.exited.then(() => this.drop(p)), () => this.drop(p));
      this.ready.push(p);
    }
  }

  private drop(p: Promise<Launcher>): void {
    const i = this.ready.indexOf(p);
    if (i < 0) return;
    this.ready.splice(i, 1);
    this.refill();
  }

  async acquire(opts: LaunchOptions): Promise<Launcher> {
    if (opts.stdin === 'inherit' || this.disposed) return this.source.acquire(opts);
    const next = this.ready.shift();
    let launcher: Launcher;
    try {
      launcher = next ? await next : await this.source.acquire({ stdin: 'pipe' });
    } catch {
      launcher = await this.source.acquire({ stdin: 'pipe' });
    }
    if (opts.stdin === 'ignore') launcher.stdin?.end();
    this.refillAfterRun(launcher);
    return launcher;
  }

  /**
   * The replacement starts once the run it serves is out of the way: spawning is a fork of this (large)
   * process on its main thread, and the new Node start competes for the CPU, so neither may sit between a
   * request and its result. A short run: when the runner released it (its result handed over), on the next
   * turn of the loop. A long run: REFILL_AFTER_MS after its exec, so the pool is full again for the next
   * one. A failed exec, or a launcher that exits without being released: at its end.
   */
  private refillAfterRun(launcher: Launcher): void {
    const exec = launcher.exec;
    launcher.exec = (plan) => {
      const p = exec.call(launcher, plan);
      p.then((o) => {
        if (!o.ok) return this.refillOnce(launcher);
        const later = setTimeout(() => this.refillOnce(launcher), REFILL_AFTER_MS);
        later.unref();
        void launcher.exited.then(() => clearTimeout(later));
      }, () => this.refillOnce(launcher));
      return p;
    };
    this.pending.add(launcher);
    // Not released by a runner (taken and killed, or the caller never ran it): refilled after a grace.
    void launcher.exited.then(() => setTimeout(() => this.refillOnce(launcher), 1000).unref());
  }

  private refillOnce(launcher: Launcher): void {
    if (this.pending.delete(launcher)) this.refill();
  }

  released(launcher: Launcher): void {
    if (this.pending.has(launcher)) setImmediate(() => this.refillOnce(launcher));
  }

  /** Launchers handed out whose pool slot is not refilled yet. */
  private readonly pending = new Set<Launcher>();

  /** Resolves when every pool slot holds a ready launcher (or failed to): nothing is starting any more. */
  async whenFull(): Promise<void> {
    while (!this.disposed) {
      const pending = [...this.ready];
      await Promise.allSettled(pending);
      if (this.ready.length >= this.size && pending.length === this.ready.length && pending.every((p, i) => p === this.ready[i])) return;
      if (this.ready.length < this.size) await new Promise((r) => setTimeout(r, 5));
    }
  }

  owns(pid: number): boolean {
    return this.source.owns(pid);
  }

  dispose(): void {
    this.disposed = true;
    for (const p of this.ready.splice(0)) p.then((l) => l.kill(), () => undefined);
    this.source.dispose();
  }
}
