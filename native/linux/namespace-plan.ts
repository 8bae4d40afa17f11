// compile, namespace part: which paths the run's mount namespace makes writable, read-only or hidden. Reads
// the disk (what exists, where symlinks lead, what a `.git` file points to); the host makes the placeholders
// for entries that do not exist yet (see src/host/ns-placeholders.ts) before the launcher binds them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedPolicy } from '../../src/policy/schema';
import type { FsModel } from '../../src/policy/fs-model-types';
import type { NamespacePlan } from '../../src/protocol/plan';

/**
 * The mounts of an enforce run in the namespace tier, from the run's filesystem model (src/policy/fs-model):
 * its writable roots stay writable, each protected path inside them is bound read-only with its
 * `writableInside` entries given back (`.git` read-only as a whole, objects/refs/logs writable: a bind over
 * `.git/config` alone would leave `.git/commondir` creatable, and git's lock-then-rename in the `.git` root
 * rules out a finer split), and each hidden path is covered. A missing entry is bound over a placeholder the
 * host makes (its highest missing ancestor below the workspace); one that cannot have a placeholder stays out
 * of the plan, and compile keeps it a Landlock carve-out (`uncoveredProtected`).
 */
export function namespacePlanFor(p: ResolvedPolicy, model: FsModel, req: { tmpDir: string }, disk: MountFs = diskMountFs): NamespacePlan {
  const realOrNull = disk.realpath;
  const resolveLoose = (x: string) => resolveLooseIn(disk, x);
  const writable = dedupe([...model.writableRoots, req.tmpDir].map(realOrNull).filter((x): x is string => x !== null));
  const inWritable = (x: string) => writable.some((w) => under(x, w));
  const ws = realOrNull(p.workspace) ?? p.workspace;
  const readOnly: string[] = [];
  const hidden: string[] = [];
  const backWritable: string[] = [];
  const place = (abs: string, list: string[]): boolean => {
    const target = resolveLoose(abs);
    if (!inWritable(target)) return false; // read-only already
    if (disk.kind(target) !== null) {
      list.push(target);
      return true;
    }
    const ph = placeholderFor(target, ws, disk);
    if (ph && inWritable(ph)) list.push(ph);
    return false;
  };
  for (const e of model.protectedInWritable) {
    if (!place(e.path, readOnly)) continue;
    for (const w of e.writableInside) {
      const d = realOrNull(w);
      if (d && disk.kind(d) === 'dir' && inWritable(d)) backWritable.push(d);
    }
  }
  for (const h of model.hidden) place(h.path, hidden);
  const allWritable = dedupe([...writable, ...backWritable]);
  const shm = realOrNull(SHM_DIR);
  return {
    writable: allWritable,
    readOnly: dedupe(readOnly),
    hidden: dedupe(hidden),
    pinned: pinsFor(ws, [...readOnly, ...hidden], allWritable, inWritable),
    isolateNetwork: p.mode === 'enforce' && p.network.preset === 'none',
    // Files written to /dev/shm and closed are memory no process holds: a tmpfs of the run's own, sized to the
    // memory limit, keeps them countable and bounded (see src/host/watchdog.ts) and drops them with the run.
    // Not over a read-only or hidden /dev/shm (a deny rule): the tmpfs would cover that mount.
    ...(shm === SHM_DIR && inWritable(shm) && ![...readOnly, ...hidden].some((x) => under(SHM_DIR, x)) ? { privateShm: { sizeBytes: p.limits.memoryMiB != null ? p.limits.memoryMiB * 1024 * 1024 : null } } : {}),
  };
}

/** The POSIX shared-memory directory (shm_open, sem_open, Python multiprocessing). */
export const SHM_DIR = '/dev/shm';

/**
 * The kernel lets a plain directory that contains a mount point be renamed (only a mount point itself is
 * EBUSY), so renaming `tools` away, or `/tmp/deep` above a workspace, would carry a read-only bind along and
 * let a staged tree take its name. Every directory on the way from a writable root to a bound entry (its
 * ancestors) and to the workspace (itself included) is therefore made a mount point of its own. The write
 * roots themselves are mounts already (moved back), except when `/` is writable and nothing is moved.
 */
function pinsFor(ws: string, entries: string[], writable: string[], inWritable: (x: string) => boolean): string[] {
  const mounted = new Set([...entries, ...(writable.includes('/') ? ['/'] : writable)]);
  const pins: string[] = [];
  const chain = (from: string) => {
    for (let cur = from; cur !== path.dirname(cur); cur = path.dirname(cur)) {
      if (inWritable(cur) && !mounted.has(cur)) pins.push(cur);
    }
  };
  for (const e of entries) chain(path.dirname(e));
  chain(ws);
  return dedupe(pins);
}

/** Protected paths (absolute, as given) that no readOnly or hidden entry covers: they stay Landlock carve-outs. */
export function uncoveredProtected(ns: NamespacePlan, protectedPaths: string[], disk: MountFs = diskMountFs): string[] {
  const covers = [...ns.readOnly, ...ns.hidden];
  return protectedPaths.filter((x) => {
    const r = resolveLooseIn(disk, x);
    return !covers.some((c) => under(r, c));
  });
}

/**
 * The entry to create as an empty directory so that a missing `target` can be bound over: the target itself
 * when its parent exists, else its highest missing ancestor below the workspace (`.git` for `.git/hooks` in a
 * directory that is no repository). null when nothing below the workspace is missing.
 */
export function placeholderFor(target: string, workspace: string, disk: MountFs = diskMountFs): string | null {
  let cur = target;
  while (disk.kind(path.dirname(cur)) === null) {
    if (path.dirname(cur) === cur) return null;
    cur = path.dirname(cur);
  }
  // Below a file nothing can be made (ENOTDIR): no placeholder, the path stays a Landlock carve-out.
  if (disk.kind(path.dirname(cur)) !== 'dir') return null;
  if (!under(cur, workspace) || cur === workspace) return null;
  return cur;
}

/** What the mount plan reads of the disk: resolved paths and what is there (a fixture tree in unit tests). */
export interface MountFs {
  realpath(p: string): string | null;
  /** What `p` is after following links; null when nothing is there. */
  kind(p: string): 'file' | 'dir' | 'other' | null;
}

export const diskMountFs: MountFs = {
  realpath(x) {
    try {
      // realpath(3) on the lexically resolved path: what fs.realpathSync returns (it resolves "." and ".."
      // first, then follows links), in one call instead of an lstat per component from JavaScript.
      return fs.realpathSync.native(path.resolve(x));
    } catch {
      return null;
    }
  },
  kind(x) {
    try {
      const st = fs.statSync(x);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    } catch {
      return null;
    }
  },
};

/** realpath of the longest existing prefix, with the missing rest appended. */
function resolveLooseIn(disk: MountFs, x: string): string {
  const rest: string[] = [];
  let cur = path.resolve(x);
  for (;;) {
    const r = disk.realpath(cur);
    if (r !== null) return rest.length ? path.join(r, ...rest.reverse()) : r;
    const parent = path.dirname(cur);
    if (parent === cur) return x;
    rest.push(path.basename(cur));
    cur = parent;
  }
}

function under(x: string, root: string): boolean {
  return root === '/' || x === root || x.startsWith(root + '/');
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}
