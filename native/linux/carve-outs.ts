// Landlock can only grant, so "read all of /etc except /etc/shadow" has to be spelled as grants on every
// other child of /etc. This module does that rewriting, purely: the file system is passed in as functions.
// No koffi here, so the host's compile step can use it without loading native code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LandlockRule } from '../../src/protocol/plan';
import type { FsModelFs } from '../../src/policy/fs-model-types';
import { FILE_ACCESS } from '../../src/policy/fs-access';

const FILE_RIGHTS: ReadonlySet<string> = new Set(FILE_ACCESS);

/**
 * A rule as the expansion emits it. `exact`: the path was canonical when the expansion looked (a real entry of a
 * listed directory, or a rule path that resolved to itself), so the launcher opens it without following any
 * symlink (landlock.ts): a name swapped for a symlink between the expansion and the open (a concurrent run
 * flipping a workspace entry to a link to `.git`) then gets no rule instead of the link's target.
 */
export type ExpandedRule = LandlockRule;

export interface CarveOutFs {
  /** Names of the entries of `dir`, or null when it cannot be listed. */
  readdir(dir: string): string[] | null;
  /** True for a real directory (not a symlink to one). */
  isDir(p: string): boolean;
  /**
   * The fully resolved path, or null when it does not resolve (missing, dangling link). Optional: without it
   * paths are taken literally, which is only right on a tree without symlinks (tests, pure callers).
   */
  realpath?(p: string): string | null;
}

/** A step path.posix.normalize would change: `//`, `/./`, `/../`, a trailing `/.`, `/..` or `/`. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|.\/$/;

function normalize(p: string): string {
  // Most paths here are normal already (listed entries, canonical carve-outs): no copy for them.
  if (p.startsWith('/') && !NOT_NORMAL.test(p)) return p;
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** The canonical form of a path that may not exist: its nearest existing ancestor resolved, the rest as named. */
export function canonicalOrMissing(p: string, realpath: NonNullable<CarveOutFs['realpath']>): string | null {
  const r = realpath(p);
  if (r !== null) return normalize(r);
  const parent = path.posix.dirname(p);
  if (parent === p) return null;
  const above = canonicalOrMissing(parent, realpath);
  return above === null ? null : path.posix.join(above, path.posix.basename(p));
}

/** a === b or a is an ancestor of b. */
function isAncestorOrSelf(a: string, b: string): boolean {
  return a === b || b.startsWith(a === '/' ? '/' : a + '/');
}

/**
 * Rewrites rules so that no rule reaches a carve-out:
 * - a rule on a path that is an ancestor of (or equal to) a carve-out is replaced by the same rights on each
 *   child of that directory except the one leading to the carve-out, recursively down to the carve-out,
 *   which gets nothing;
 * - a rule on a path inside a carve-out is dropped (within one call, carve-outs win);
 * - with `realpath`, rule paths and carve-outs are resolved first, and children that are symlinks get no rule
 *   (see below); without it paths are taken literally.
 * Entries created after the expansion are not covered by any rule (they stay denied): the expansion is a
 * snapshot. A directory on the way that cannot be listed yields no rules (fail closed: grant less).
 * `noFileRules`: expanded directories whose entries that are not directories get no rule either (a deny
 * glob's folders: a rule on a file would follow it through a rename onto the glob; Grant noFileRules).
 * `entryDirsWithout`: of those, per directory, the rights its subdirectories' rules lack (the same rename
 * carries a folder's rule; Grant entryDirsWithout). A rule left with no right is not emitted.
 * An expanded entry that is not a directory gets only the rights a rule on a file may carry (fs-access
 * FILE_ACCESS): the rights the kernel would keep of the full set anyway, and the launcher's first add_rule
 * then succeeds instead of failing with EINVAL and being retried. Should the entry be a directory by the
 * launch, the rule grants those file rights beneath it: less than the full set, never more.
 */
export function expandCarveOuts(
  rules: LandlockRule[],
  carveOuts: string[],
  readdir: CarveOutFs['readdir'],
  isDir: CarveOutFs['isDir'],
  realpath?: CarveOutFs['realpath'],
  noFileRules: string[] = [],
  entryDirsWithout: Record<string, LandlockRule['access']> = {},
): ExpandedRule[] {
  // Every rule leaves as the canonical path it names now, opened exactly at the launch: a following open later
  // would go wherever a link put there since leads. A path that does not exist yet keeps its missing tail
  // below its canonical existing ancestor (a link made there by then gets no rule, ELOOP).
  const exactIfCanonical = (rule: LandlockRule): ExpandedRule => {
    if (rule.exact || !realpath) return rule; // exact: decided by the compile; re-deciding now could follow a flipped link
    const canonical = canonicalOrMissing(normalize(rule.path), realpath);
    return canonical === null ? rule : { ...rule, path: canonical, exact: true };
  };
  if (carveOuts.length === 0) return rules.map(exactIfCanonical);
  // A carve-out that does not exist (a placeholder's, a deny glob's new-name carve-out `data/*.key`) still
  // names its canonical existing ancestor: an unresolved spelling would miss the rules it must cut.
  const cuts = [...new Set(carveOuts.map((c) => normalize((realpath && canonicalOrMissing(normalize(c), realpath)) || c)))];
  const out: ExpandedRule[] = [];
  const exact = realpath ? ({ exact: true } as const) : {};
  const canonicalDir = (d: string) => normalize((realpath && canonicalOrMissing(normalize(d), realpath)) || d);
  const fileless = new Set(noFileRules.map(canonicalDir));
  const withoutAt = new Map<string, Set<string>>();
  for (const [d, rights] of Object.entries(entryDirsWithout)) withoutAt.set(canonicalDir(d), new Set([...(withoutAt.get(canonicalDir(d)) ?? []), ...rights]));

  const cutSet = new Set(cuts);
  const expandDir = (dir: string, access: LandlockRule['access']): void => {
    if (cutSet.has(dir)) return; // the carve-out itself
    const names = readdir(dir);
    if (names === null) return;
    // The cut tests per child, decided once per directory (a busy /tmp has a thousand children): a child is an
    // ancestor of (or is) a carve-out exactly when it is the first step below `dir` of a carve-out below `dir`;
    // a carve-out is an ancestor of a child that is none of those exactly when it is one of `dir` itself.
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const onTheWay = new Set(cuts.filter((c) => c.length > prefix.length && c.startsWith(prefix)).map((c) => c.slice(prefix.length).split('/')[0]!));
    const dirInsideCut = cuts.some((c) => isAncestorOrSelf(c, dir));
    const fileAccess = access.filter((a) => FILE_RIGHTS.has(a));
    for (const name of [...names].sort()) {
      const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (isDir(child)) {
        if (onTheWay.has(name)) expandDir(child, access);
        else if (!dirInsideCut) {
          const without = withoutAt.get(dir);
          const kept = without ? access.filter((a) => !without.has(a)) : access;
          if (kept.length) out.push({ path: child, access: kept, ...exact });
        }
        continue;
      }
      if (cutSet.has(child) || fileless.has(dir)) continue;
      // A symlink child is skipped: under the original rule, access through it was decided by the rules on
      // its target (Landlock checks the resolved path), while a rule opened on the link would follow it and
      // grant the target, possibly an ancestor of a carve-out.
      if (realpath && realpath(child) !== child) continue;
      if (fileAccess.length) out.push({ path: child, access: fileAccess, ...exact });
    }
  };

  for (const rule of rules) {
    const literal = normalize(rule.path);
    const resolved = realpath ? realpath(literal) : literal;
    // A rule that does not resolve (missing yet, dangling link) names its canonical existing ancestor plus the
    // missing tail, opened exactly: apply skips it (ENOENT, ELOOP) unless a real entry is there by then.
    if (resolved === null) {
      if (!cuts.some((c) => isAncestorOrSelf(c, literal) || isAncestorOrSelf(literal, c))) out.push(exactIfCanonical(rule));
      continue;
    }
    const p = normalize(resolved);
    if (cuts.some((c) => isAncestorOrSelf(c, p))) continue; // inside (or equal to) a carve-out
    if (cuts.some((c) => isAncestorOrSelf(p, c))) {
      if (isDir(p)) expandDir(p, rule.access);
      continue;
    }
    // The resolved path, opened exactly: the literal one, followed at the open, could lead elsewhere by then.
    out.push(realpath ? { ...rule, path: p, exact: true } : rule);
  }
  return out;
}

/** The real file system, for expandCarveOuts. Synchronous on purpose: it runs in the pre-exec launcher too. */
export const diskFs: Required<CarveOutFs> = {
  readdir(dir) {
    try {
      return fs.readdirSync(dir);
    } catch {
      return null;
    }
  },
  isDir(p) {
    try {
      return fs.lstatSync(p).isDirectory();
    } catch {
      return false;
    }
  },
  realpath(p) {
    try {
      return fs.realpathSync.native(p);
    } catch {
      return null;
    }
  },
};

/** expandCarveOuts over the real file system; the shape compile-plan.ts takes as `ExpandFn`. */
export function expandCarveOutsOnDisk(rules: LandlockRule[], carveOuts: string[], noFileRules: string[] = [], entryDirsWithout: Record<string, LandlockRule['access']> = {}): ExpandedRule[] {
  return expandCarveOuts(rules, carveOuts, diskFs.readdir, diskFs.isDir, diskFs.realpath, noFileRules, entryDirsWithout);
}

/** Git metadata files are small; a workspace's `.git` could be made huge to stall the host. */
const MODEL_READ_LIMIT = 64 * 1024;

/** The real file system, for the filesystem model's reads of git metadata (src/policy/fs-model.ts).
 *  Symlinks are followed, as git follows them (a `.git` or `config` that is a link still counts). */
export const diskModelFs: FsModelFs = {
  readdir: diskFs.readdir,
  readFile(p) {
    let fd: number | null = null;
    try {
      fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      if (!fs.fstatSync(fd).isFile()) return null;
      const buf = Buffer.alloc(MODEL_READ_LIMIT);
      const n = fs.readSync(fd, buf, 0, MODEL_READ_LIMIT, 0);
      return buf.subarray(0, n).toString('utf8');
    } catch {
      return null;
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  },
  kind(p) {
    try {
      const st = fs.statSync(p);
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    } catch {
      return null;
    }
  },
};
