// Globs as the kernel sees them: Landlock knows no wildcards, so a glob becomes its literal prefix (a subtree
// glob) or the existing entries it matches, listed from the prefix down.
import { minimatch } from 'minimatch';
import { GLOB_OPTIONS, globMatch, type GlobMatcher } from './glob-match';
import type { FsModelFs } from './fs-model-types';
import { globStaticPrefix, hasMagic, normalizePolicyPath } from './paths';

/** The literal prefix of a glob, unescaped (`/a/b\(c\)/*.txt` → `/a/b(c)`). */
export function kernelPrefix(glob: string): string {
  return normalizePolicyPath(globStaticPrefix(glob));
}

/** A glob whose matches are exactly its literal prefix and everything below it: a literal path or `X/**`. */
export function globIsSubtree(glob: string): boolean {
  const parts = glob.split('/');
  const idx = parts.findIndex((x) => hasMagic(x));
  return idx === -1 || (idx === parts.length - 1 && parts[idx] === '**');
}

const MM = GLOB_OPTIONS;
/** Entries listed per glob before giving up on following it exactly. */
export const GLOB_LIST_BUDGET = 20_000;

/** What a walk of a glob from its literal prefix found: the entries it matches and the directories walked
 *  (the prefix when it is a directory, and every directory below it that could hold a match). */
interface GlobWalk {
  matches: string[];
  dirs: string[];
}

function walkGlob(glob: string, fs: FsModelFs, budget: number): GlobWalk | null {
  const pre = kernelPrefix(glob);
  const out: GlobWalk = { matches: [], dirs: [] };
  let left = budget;
  const walk = (dir: string): boolean => {
    const names = fs.readdir(dir);
    if (!names) return true;
    out.dirs.push(dir);
    for (const name of [...names].sort()) {
      if (--left < 0) return false;
      const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
      // A dangling link that matches names nothing yet: what it would name is the glob again at its target
      // (glob-links.ts); a mount cannot cover it, and Landlock has no inode for it.
      if (minimatch(child, glob, MM)) {
        if (fs.kind(child) !== null) out.matches.push(child);
      } else if (fs.kind(child) === 'dir' && minimatch(child, glob, { ...MM, partial: true }) && !walk(child)) return false;
    }
    return true;
  };
  if (fs.kind(pre) !== 'dir') return { matches: minimatch(pre, glob, MM) && fs.kind(pre) ? [pre] : [], dirs: [] };
  return walk(pre) ? out : null;
}

/**
 * The paths a glob stands for in the kernel, which knows no wildcards: its literal prefix for a subtree glob;
 * otherwise the existing entries it matches (a matching folder stands for everything below it), listed from
 * the prefix down (`null` when more than GLOB_LIST_BUDGET entries had to be listed). A snapshot: names made
 * later are kept by globNewNameCuts.
 */
export function globKernelPaths(glob: string, fs: FsModelFs, budget = GLOB_LIST_BUDGET): string[] | null {
  if (globIsSubtree(glob)) return [kernelPrefix(glob)];
  return walkGlob(glob, fs, budget)?.matches ?? null;
}

/**
 * Carve-outs that keep a non-subtree glob for names created during the run: one per directory where a new
 * match could appear (the literal prefix, existing or not, and each existing directory below it that could
 * hold a match), named `<dir>/<the pattern's next segment>` (`/ws/data/*.key`). Such a name is not expected to
 * exist: the carve-out is there for what it does to its ancestors. Landlock then gets rules on their existing
 * children only, so creating (or, for a read carve-out, reading) a new name in them has no Landlock right, and
 * the supervisor performs those calls itself (src/host/linux/supervisor-emulate.ts), refusing a name the glob
 * matches. [] for a subtree glob (the kernel keeps its prefix whole); null when the glob is too wide to walk
 * (its whole prefix is denied then).
 */
export function globNewNameCuts(glob: string, fs: FsModelFs, budget = GLOB_LIST_BUDGET): string[] | null {
  if (globIsSubtree(glob)) return [];
  const w = walkGlob(glob, fs, budget);
  if (!w) return null;
  const parts = glob.split('/');
  const pre = kernelPrefix(glob);
  const cut = (dir: string) => {
    const depth = dir === '/' ? 1 : dir.split('/').length;
    return `${dir === '/' ? '' : dir}/${parts[Math.min(depth, parts.length - 1)]}`;
  };
  return [...new Set([pre, ...w.dirs].map(cut))];
}

/** Whether a name inside `dir` could match `glob` (or lead to a match): `dir` is on the glob's way. */
export function globMayMatchBelow(dir: string, glob: string, m?: GlobMatcher): boolean {
  return globMatch(dir, glob, { ...MM, partial: true }, m);
}
