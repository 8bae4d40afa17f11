// Cgroups made for launchers that wait for a run (the pool's, the CLI's early one). Moving a process into a
// cgroup v1 hierarchy (or v2 without favordynmods) takes the kernel's threadgroup lock for writing, which waits
// for an RCU grace period the first time after a pause: 5-15 ms per run measured on a 2-core machine, on the
// host's main thread, between a warm run's request and its exec. A waiting launcher is moved into a cgroup of
// its own as soon as it is ready, and the run that takes it only writes its limits. The launcher moves itself
// (a join: it writes "0" to each cgroup.procs), not the host by pid: a launcher that died meanwhile cannot
// have its pid, reused by an unrelated process, moved in and then killed with the cgroup (red team rt19).
// Each cgroup has an owner record under its own id (stale-runs.ts), so a host killed while launchers wait
// leaves nothing behind.
import * as path from 'node:path';
import type { RunCgroup } from '../../../native/linux/cgroup';
import { removeCgroup } from './cgroup-removal';

export interface HeldCgroup {
  cg: RunCgroup;
  /** Drops the cgroup's owner record; the taker calls it once the cgroup is removed. */
  release: () => void;
}

/** A launcher waiting for a run (launcher-source.ts), as far as holding it goes. */
export interface HeldLauncher {
  readonly pid: number;
  readonly exited: Promise<unknown>;
  join(cgroupProcs: string[]): Promise<boolean>;
}

interface Held extends HeldCgroup {
  state: 'moving' | 'in' | 'failed';
  settled: Promise<void>;
}

export class HeldCgroups {
  private readonly held = new Map<number, Held>();
  private disposed = false;

  constructor(
    /** Makes an empty cgroup under a fresh id, with its owner record; null when none can be made. */
    private readonly make: () => HeldCgroup | null,
  ) {}

  /** Has the launcher move itself into a cgroup of its own now; the cgroup goes when it ends untaken. */
  hold(launcher: HeldLauncher): void {
    const { pid, exited: ended } = launcher;
    if (this.disposed || this.held.has(pid)) return;
    const made = this.make();
    if (!made) return;
    const h: Held = { ...made, state: 'moving', settled: Promise.resolve() };
    h.settled = launcher.join(made.cg.directories().map((d) => path.join(d, 'cgroup.procs'))).then(
      (ok) => void (h.state = ok ? 'in' : 'failed'),
      () => void (h.state = 'failed'),
    );
    this.held.set(pid, h);
    void ended.then(() => {
      if (this.held.get(pid) !== h) return; // taken by a run (its tree removes it), or already dropped
      this.held.delete(pid);
      void h.settled.then(() => drop(h));
    });
  }

  /**
   * The cgroup held for `pid`, for the run that got this launcher; null when it has none. `moved` true: the
   * launcher is in it, or will be before it reads its plan (a join still in flight goes first, and a launcher
   * whose join fails exits: the run then finds it dead). false: the join failed, and the taker writes the pid
   * itself (which fails with ESRCH, the launcher having exited). `joined`: the launcher is in it already
   * (while a join is in flight its paths must stay as they are).
   */
  take(pid: number): (HeldCgroup & { moved: boolean; joined: boolean }) | null {
    const h = this.held.get(pid);
    if (!h) return null;
    this.held.delete(pid);
    return { cg: h.cg, release: h.release, moved: h.state !== 'failed', joined: h.state === 'in' };
  }

  /** Resolves when no join is in flight (the bench times a run only then). */
  async settled(): Promise<void> {
    await Promise.all([...this.held.values()].map((h) => h.settled));
  }

  /** Removes every cgroup still held (their launchers are killed with the pool). */
  dispose(): void {
    this.disposed = true;
    for (const h of this.held.values()) void h.settled.then(() => drop(h));
    this.held.clear();
  }
}

function drop(h: HeldCgroup): void {
  removeCgroup(h.cg, h.release);
}
