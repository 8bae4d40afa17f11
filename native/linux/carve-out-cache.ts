// A cache for the carve-out expansion (carve-outs.ts), the costliest part of compiling a plan: it lists `/`,
// `/etc`, the home folder and more, and lstats every entry (hundreds of syscalls, tens of ms per warm run).
// What is cached is each directory's listing with the type of each entry (from the listing itself), reused
// only while the directory is unchanged: same device, inode and ctime (one lstat per directory and run).
// Adding, removing or renaming an entry changes its directory's ctime, and no call sets a ctime to anything
// but "now", so an unchanged ctime means the same names mapping to the same inodes, and an inode's type never
// changes. The expansion itself runs every time on these answers, so a directory that changed is listed
// again and its new entries get exactly the rules a cold compile would give them.
// Guards:
// - a listing is stored only when the directory's ctime is older than RACY_MS when it is read: the ctime has
//   the kernel's coarse clock granularity, and a second change within one tick can keep the same ctime;
// - only on file systems whose directories keep ctime as described (ext4, xfs, btrfs, tmpfs, overlay, f2fs);
//   elsewhere (procfs, sysfs, network file systems) every pass reads the disk;
// - the shortcut answers for an entry (is it a directory, is it its own realpath) are given only for entries
//   of a directory listed in the same pass: the expansion lists only directories it reached by realpath or
//   through non-symlink entries, so such a directory is its own realpath and a non-symlink entry of it is too.
//   Everything else (symlinks, and paths whose way is not known from listings) is asked of the disk;
// - a rule root's or carve-out's realpath is answered from stored listings when every directory on its way,
//   from `/`, has one that is unchanged now (one lstat per directory and pass, shared by every path below it)
//   and every step but the last is a directory entry: such a path is its own realpath (no symlink on the way),
//   and a name its unchanged directory does not list does not exist. Otherwise (a symlink, a directory not
//   stored) the disk's realpath answers. The realpath of a path of k steps costs the disk k lookups of the
//   whole prefix; a warm compile resolved ~85 such paths (most below the home folder), ~0.9 ms.
// What this does not see: a mount over an entry by someone who may mount in the host's namespace (root
// outside the sandbox), and a system clock stepped back (root). Neither is in the script's reach.
import * as fs from 'node:fs';
import type { LandlockRule } from '../../src/protocol/plan';
import { expandCarveOuts, type CarveOutFs } from './carve-outs';

/** How old (ms) a directory's ctime must be when it is listed for the listing to be stored. */
export const RACY_MS = 1000;

/** statfs f_type values of file systems that update a directory's ctime on every entry change. */
const STABLE_CTIME_FS = new Set<number>([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs (and devtmpfs)
  0x794c7630, // overlayfs
  0xf2f52010, // f2fs
]);

type EntryType = 'dir' | 'symlink' | 'other' | 'gone';

interface Listing {
  dev: bigint;
  ino: bigint;
  ctimeNs: bigint;
  names: string[];
  types: Map<string, EntryType>;
}

/** The type of `p` as listed in its parent's listing among `dirs`; undefined when the parent is not there. */
function typeIn(dirs: ReadonlyMap<string, Listing>, p: string): EntryType | undefined {
  const i = p.lastIndexOf('/');
  if (i < 0 || i === p.length - 1) return undefined; // relative, `/`, or a trailing slash: not a listed name
  return dirs.get(i === 0 ? '/' : p.slice(0, i))?.types.get(p.slice(i + 1));
}

export interface ExpansionCacheStats {
  /** Directories answered from the cache / listed from the disk. */
  hits: number;
  misses: number;
  /** Listings read but not stored (changed within RACY_MS, or a file system without stable ctimes). */
  unstored: number;
}

/** A directory's entries with their types, from the directory itself (getdents' d_type: the type of the
 *  inode each name maps to; Node lstats the entries a file system leaves untyped). null: cannot be listed. */
function listTyped(dir: string): Array<[string, EntryType]> | null {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).map((d) => [d.name, d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other']);
  } catch {
    return null;
  }
}

/**
 * An expansion function (compile-plan.ts `ExpandFn`) over `disk` that reuses directory listings while they
 * are unchanged; at most `max` directories kept, least recently used dropped first. Owned by whoever creates
 * it (the Linux backend): no module state.
 */
export function cachedExpansion(
  disk: Required<CarveOutFs>,
  max = 512,
  now: () => number = Date.now,
): {
  expand: (rules: LandlockRule[], carveOuts: string[], noFileRules?: string[], entryDirsWithout?: Record<string, LandlockRule['access']>) => LandlockRule[];
  /** Whether `p` is its own realpath: known for the entries of the directories the current compile listed,
   *  else asked of the disk (both only within one synchronous compile, like the realpath answers). */
  canonical: (p: string) => boolean;
  stats: ExpansionCacheStats;
} {
  const listings = new Map<string, Listing>();
  // realpath answers from the disk within one synchronous compile (its grants share most carve-outs); dropped
  // at the next microtask, so nothing is reused across runs.
  let resolved: Map<string, string | null> | null = null;
  // The directories listed (or found unchanged) in this compile, all canonical, so their non-symlink entries
  // are too; dropped with `resolved`.
  let compileDirs: Map<string, Listing> | null = null;
  const compileMemo = (): Map<string, string | null> => {
    if (!resolved) {
      const memo = new Map<string, string | null>();
      resolved = memo;
      compileDirs = new Map();
      queueMicrotask(() => {
        if (resolved === memo) {
          resolved = null;
          compileDirs = null;
        }
      });
    }
    return resolved;
  };
  const diskRealpath = (p: string): string | null => {
    const memo = compileMemo();
    let v = memo.get(p);
    if (v === undefined) {
      v = disk.realpath(p);
      memo.set(p, v);
    }
    return v;
  };
  const canonical = (p: string): boolean => {
    const t = compileDirs ? typeIn(compileDirs, p) : undefined;
    return t === 'dir' || t === 'other' || diskRealpath(p) === p;
  };
  const stableDev = new Map<bigint, boolean>();
  const stats: ExpansionCacheStats = { hits: 0, misses: 0, unstored: 0 };

  const stable = (dir: string, dev: bigint): boolean => {
    let v = stableDev.get(dev);
    if (v === undefined) {
      try {
        v = STABLE_CTIME_FS.has(fs.statfsSync(dir).type);
      } catch {
        v = false;
      }
      stableDev.set(dev, v);
    }
    return v;
  };

  const expand = (rules: LandlockRule[], carveOuts: string[], noFileRules: string[] = [], entryDirsWithout: Record<string, LandlockRule['access']> = {}): LandlockRule[] => {
    if (carveOuts.length === 0) return rules;
    const startedAt = now();
    // Directories listed in this pass (from the cache or the disk), by path.
    const pass = new Map<string, Listing>();

    /**
     * The listing of `dir` for this pass: the stored one while unchanged (one lstat), else read from the disk
     * (and stored when settled). `settledOnly` (the realpath walk): a directory not stored and not settled is
     * not read (null), its realpath is asked of the disk instead, so a busy folder is not listed every run.
     * undefined: not a directory that can be listed here (for readdir: ask the disk).
     */
    const listing = (dir: string, settledOnly: boolean): Listing | null | undefined => {
      // Already listed (or found unchanged) in this pass: the same answer, without a second lstat.
      const known = pass.get(dir);
      if (known) return known;
      let st: fs.BigIntStats;
      try {
        // Before the listing: a change while it is read moves the ctime past this one.
        st = fs.lstatSync(dir, { bigint: true });
      } catch {
        return undefined;
      }
      if (!st.isDirectory()) return undefined;
      const cached = listings.get(dir);
      if (cached && cached.dev === st.dev && cached.ino === st.ino && cached.ctimeNs === st.ctimeNs) {
        stats.hits++;
        listings.delete(dir);
        listings.set(dir, cached);
        pass.set(dir, cached);
        listed(dir, cached);
        return cached;
      }
      const storable = Number(st.ctimeNs / 1_000_000n) < startedAt - RACY_MS && stable(dir, st.dev);
      if (settledOnly && !storable) return null;
      stats.misses++;
      listings.delete(dir);
      const entries = listTyped(dir);
      if (entries === null) return null;
      const l: Listing = { dev: st.dev, ino: st.ino, ctimeNs: st.ctimeNs, names: entries.map(([n]) => n), types: new Map(entries) };
      pass.set(dir, l);
      listed(dir, l);
      if (storable) {
        listings.set(dir, l);
        while (listings.size > max) listings.delete(listings.keys().next().value as string);
      } else stats.unstored++;
      return l;
    };
    const readdir = (dir: string): string[] | null => {
      const l = listing(dir, false);
      return l === undefined ? disk.readdir(dir) : l && [...l.names];
    };

    compileMemo();
    const dirs = compileDirs!;
    const typeInPass = (p: string): EntryType | undefined => typeIn(pass, p);
    const isDir = (p: string): boolean => {
      const t = typeInPass(p);
      return t === undefined || t === 'gone' ? disk.isDir(p) : t === 'dir';
    };
    /** realpath(p) from listings, walking down from `/` (every directory on the way reached through a directory
     *  entry, so canonical); undefined: not known that way (ask the disk). */
    const fromListings = (p: string): string | null | undefined => {
      if (!p.startsWith('/')) return undefined;
      const steps = p.split('/').filter((x) => x !== '');
      if (steps.some((x) => x === '.' || x === '..')) return undefined;
      let dir = '/';
      for (let i = 0; i < steps.length; i++) {
        const l = listing(dir, true);
        if (!l) return undefined;
        const t = l.types.get(steps[i]!);
        if (t === undefined) return null; // not in an unchanged directory: does not exist (ENOENT)
        const child = dir === '/' ? `/${steps[i]}` : `${dir}/${steps[i]}`;
        if (i === steps.length - 1) return t === 'dir' || t === 'other' ? child : undefined;
        if (t !== 'dir') return undefined; // a symlink on the way, or a file (ENOTDIR): the disk says
        dir = child;
      }
      return '/';
    };
    const realpath = (p: string): string | null => {
      const t = typeInPass(p);
      if (t === 'dir' || t === 'other') return p;
      const memo = compileMemo();
      let v = memo.get(p);
      if (v === undefined) {
        const known = fromListings(p);
        v = known === undefined ? disk.realpath(p) : known;
        memo.set(p, v);
      }
      return v;
    };
    const listed = (dir: string, l: Listing) => dirs.set(dir, l);
    return expandCarveOuts(rules, carveOuts, readdir, isDir, realpath, noFileRules, entryDirsWithout);
  };
  return { expand, canonical, stats };
}
