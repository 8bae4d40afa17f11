// Placeholders for the namespace tier: a path that does not exist cannot be a bind-mount target, so before the
// run (outside the sandbox) the host makes an empty directory for each missing read-only or hidden entry
// (compile chose entries whose parent exists), and after the run removes those it made, if still empty.
// Runs of one host share a placeholder (counted), so one run's cleanup never pulls a directory out from under
// another's mount: removing a mountpoint in another mount namespace would dissolve that run's bind.
import * as fs from 'node:fs';
import type { NamespacePlan } from '../protocol/plan';
import { SandboxError } from '../errors';

export class Placeholders {
  private readonly users = new Map<string, number>();

  /**
   * Makes the missing entries; returns the release for the run's end and the entries left out: on a read-only
   * file system nothing can be created there, by us or by the script, so no bind is needed (nor possible).
   */
  make(ns: NamespacePlan | null): { release: () => void; readOnlyFs: string[] } {
    if (!ns) return { release: () => undefined, readOnlyFs: [] };
    const mine: string[] = [];
    const readOnlyFs: string[] = [];
    for (const p of [...ns.readOnly, ...ns.hidden]) {
      const n = this.users.get(p);
      if (n !== undefined) {
        this.users.set(p, n + 1);
        mine.push(p);
        continue;
      }
      try {
        fs.mkdirSync(p, { mode: 0o755 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue; // exists (not ours): bound as it is
        if ((e as NodeJS.ErrnoException).code === 'EROFS') {
          readOnlyFs.push(p);
          continue;
        }
        // The launcher would fail on the missing bind target anyway; say why here.
        throw new SandboxError('SETUP_FAILED', `cannot create the placeholder ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
          call: 'mkdir',
          errno: (e as NodeJS.ErrnoException).errno,
        });
      }
      this.users.set(p, 1);
      mine.push(p);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // Deepest first, so a placeholder inside another is gone before its parent is tried.
      for (const p of mine.sort((a, b) => b.length - a.length)) {
        const n = (this.users.get(p) ?? 1) - 1;
        if (n > 0) {
          this.users.set(p, n);
          continue;
        }
        this.users.delete(p);
        try {
          fs.rmdirSync(p); // only if still empty: whatever someone put there since stays
        } catch {
          // not empty, or already gone
        }
      }
    };
    return { release, readOnlyFs };
  }
}
