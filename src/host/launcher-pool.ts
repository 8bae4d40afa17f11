// Pre-warmed launchers: Node started and koffi loaded ahead of time, so a run pays only for the plan,
// the kernel setup (~2 ms) and exec. Same interface as a cold start; the runner cannot tell them apart.
import type { Launcher, LauncherSource, LaunchOptions } from './launcher-source';

export class PooledLauncherSource implements LauncherSource {
  private readonly ready: Array<Promise<Launcher>> = [];
  private disposed = false;

  /** `source` spawns with stdin 'pipe'; callers asking for 'inherit' go to it directly (cold). */
  constructor(
    private readonly source: LauncherSource,
    private readonly size = 2,
  ) {
    this.refill();
  }

  private refill(): void {
    while (!this.disposed && this.ready.length < this.size) {
      const p = this.source.acquire({ stdin: 'pipe' });
      // A launcher that failed to start is dropped here; acquire() starts a fresh one instead.
      p.catch(() => undefined);
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
    this.refillAfterExec(launcher);
    return launcher;
  }

  /**
   * The replacement starts once the run it serves has exec'd (or ended): a Node start on a 2-core machine
   * otherwise competes with the plan, the kernel setup and the supervisor hand-off of that very run.
   */
  private refillAfterExec(launcher: Launcher): void {
    const exec = launcher.exec;
    const refill = () => this.refill();
    launcher.exec = (plan) => {
      const p = exec.call(launcher, plan);
      p.then(refill, refill);
      return p;
    };
    launcher.exited.then(refill, refill);
  }

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
