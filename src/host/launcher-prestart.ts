// One launcher started ahead of the run that will use it: the CLI's cold path starts Node and koffi in the
// launcher while it reads its audit log and policy, instead of after. Same interface as any source; a
// request with other stdin than the prestarted one gets a fresh launcher and the early one is killed.
import type { Launcher, LauncherSource, LaunchOptions } from './launcher-source';

export class PrestartedLauncherSource implements LauncherSource {
  private early: Promise<Launcher> | null;

  constructor(
    private readonly source: LauncherSource,
    private readonly stdin: LaunchOptions['stdin'],
    /** One already starting (the CLI entry's early launcher, adopted by `source`); else one is started now. */
    started?: Promise<Launcher>,
    /** Called with the early launcher once it is ready (Linux: moved into its run's cgroup ahead). */
    onReady: (l: Launcher) => void = () => undefined,
  ) {
    this.early = started ?? source.acquire({ stdin });
    this.early.then(onReady, () => undefined);
  }

  acquire(opts: LaunchOptions): Promise<Launcher> {
    const early = this.early;
    this.early = null;
    if (early && opts.stdin === this.stdin) return early.catch(() => this.source.acquire(opts));
    early?.then((l) => l.kill(), () => undefined);
    return this.source.acquire(opts);
  }

  owns(pid: number): boolean {
    return this.source.owns(pid);
  }

  dispose(): void {
    this.early?.then((l) => l.kill(), () => undefined);
    this.early = null;
    this.source.dispose();
  }
}
