// Globs as the kernel sees them: Landlock knows no wildcards, so a glob becomes its literal prefix (a subtree
// glob) or the existing entries it matches, listed from the prefix down.
import { minimatch } from 'minimatch';
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

const MM = { dot: true, nocomment: true, nonegate: true } as const;
/** Entries listed per glob before giving up on following it exactly. */
export const GLOB_LIST_BUDGET = 20_000;

/**
 * The paths a glob stands for in the kernel, which knows no wildcards: its literal prefix for a subtree glob;
 * otherwise the existing entries it matches (a matching folder stands for everything below it), listed from
 * the prefix down (`null` when more than GLOB_LIST_BUDGET entries had to be listed). A snapshot: entries made
 * later are decided by the supervisor, which evaluates the glob itself.
 */
export function globKernelPaths(glob: string, fs: FsModelFs, budget = GLOB_LIST_BUDGET): string[] | null {
  const pre = kernelPrefix(glob);
  if (globIsSubtree(glob)) return [pre];
  const out: string[] = [];
  let left = budget;
  const walk = (dir: string): boolean => {
    const names = fs.readdir(dir);
    if (!names) return true;
    for (const name of [...names].sort()) {
      if (--left < 0) return false;
      const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (minimatch(child, glob, MM)) out.push(child);
      else if (fs.kind(child) === 'dir' && minimatch(child, glob, { ...MM, partial: true }) && !walk(child)) return false;
    }
    return true;
  };
  if (fs.kind(pre) !== 'dir') return minimatch(pre, glob, MM) && fs.kind(pre) ? [pre] : [];
  return walk(pre) ? out : null;
}
