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
//   Everything else (rule roots, carve-outs, symlinks) is asked of the disk every time.
// What this does not see: a mount over an entry by someone who may mount in the host's namespace (root
// outside the sandbox), and a system clock stepped back (root). Neither is in the script's reach.
import * as fs from 'node:fs';
import * as path from 'node:path';
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
  // Entries (non-symlink) of directories listed in this compile, all canonical; dropped with `resolved`.
  let canonicalSeen: Set<string> | null = null;
  const compileMemo = (): Map<string, string | null> => {
    if (!resolved) {
      const memo = new Map<string, string | null>();
      resolved = memo;
      canonicalSeen = new Set();
      queueMicrotask(() => {
        if (resolved === memo) {
          resolved = null;
          canonicalSeen = null;
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
  const canonical = (p: string): boolean => canonicalSeen?.has(p) === true || diskRealpath(p) === p;
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

    const readdir = (dir: string): string[] | null => {
      let st: fs.BigIntStats;
      try {
        // Before the listing: a change while it is read moves the ctime past this one.
        st = fs.lstatSync(dir, { bigint: true });
      } catch {
        return disk.readdir(dir);
      }
      if (!st.isDirectory()) return disk.readdir(dir);
      const cached = listings.get(dir);
      if (cached && cached.dev === st.dev && cached.ino === st.ino && cached.ctimeNs === st.ctimeNs) {
        stats.hits++;
        listings.delete(dir);
        listings.set(dir, cached);
        pass.set(dir, cached);
        listed(dir, cached);
        return [...cached.names];
      }
      stats.misses++;
      listings.delete(dir);
      const entries = listTyped(dir);
      if (entries === null) return null;
      const names = entries.map(([n]) => n);
      const types = new Map(entries);
      const listing: Listing = { dev: st.dev, ino: st.ino, ctimeNs: st.ctimeNs, names: [...names], types };
      pass.set(dir, listing);
      listed(dir, listing);
      if (Number(st.ctimeNs / 1_000_000n) < startedAt - RACY_MS && stable(dir, st.dev)) {
        listings.set(dir, listing);
        while (listings.size > max) listings.delete(listings.keys().next().value as string);
      } else stats.unstored++;
      return names;
    };

    compileMemo();
    const seen = canonicalSeen!;
    const typeInPass = (p: string): EntryType | undefined => {
      const parent = path.dirname(p);
      return parent === p ? undefined : pass.get(parent)?.types.get(path.basename(p));
    };
    const isDir = (p: string): boolean => {
      const t = typeInPass(p);
      return t === undefined || t === 'gone' ? disk.isDir(p) : t === 'dir';
    };
    const realpath = (p: string): string | null => {
      const t = typeInPass(p);
      return t === 'dir' || t === 'other' ? p : diskRealpath(p);
    };
    const listed = (dir: string, l: Listing) => {
      for (const [n, t] of l.types) if (t === 'dir' || t === 'other') seen.add(dir === '/' ? `/${n}` : `${dir}/${n}`);
    };
    return expandCarveOuts(rules, carveOuts, readdir, isDir, realpath, noFileRules, entryDirsWithout);
  };
  return { expand, canonical, stats };
}
