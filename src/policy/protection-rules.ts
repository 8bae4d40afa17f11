// The evaluation the filesystem model shares with decidePath: which protected entry or deny glob blocks an
// access at a path, and which system path a path lies in.
import type { ResolvedPolicy } from './schema';
import { SYSTEM_PATHS } from './presets';
import type { ProtectedPath } from './fs-model-types';
import type { GlobMatcher } from './glob-match';
import { globCovers, globNames, isUnder } from './paths';

export interface ProtectionBlock {
  entry: ProtectedPath;
  /** An allow entry names the protected path and covers the path: access is allowed after all. */
  unlockedBy: string | null;
}

/**
 * The protected entries that block `access` at `p` (absolute, normalised), in order, each with the allow glob
 * that unlocks it (an allow entry of the same access whose literal prefix lies inside the protected path and
 * contains `p`), or null. Writing inside an entry's writableInside is not blocked by that entry.
 */
export function protectionBlocks(policy: ResolvedPolicy, prot: readonly ProtectedPath[], p: string, access: 'read' | 'write', m?: GlobMatcher): ProtectionBlock[] {
  const unlockList = access === 'read' ? policy.filesystem.allowRead : policy.filesystem.allowWrite;
  const out: ProtectionBlock[] = [];
  for (const e of prot) {
    if (!isUnder(p, e.abs) || (access === 'read' ? e.read : e.write)) continue;
    if (access === 'write' && e.writableInside.some((w) => isUnder(p, w))) continue;
    const g = unlockList.find((x) => globNames(x, e.abs) && globCovers(x, p, m));
    out.push({ entry: e, unlockedBy: g ?? null });
  }
  return out;
}

/** The deny glob that blocks `access` at `p` (it matches `p` or a folder above it): denyRead for reading;
 *  denyWrite, then denyRead (a carve-out takes every right) for writing. */
export function denyingGlob(policy: ResolvedPolicy, p: string, access: 'read' | 'write', m?: GlobMatcher): { list: 'denyRead' | 'denyWrite'; glob: string } | null {
  const fsp = policy.filesystem;
  const lists = access === 'read' ? ([['denyRead', fsp.denyRead]] as const) : ([['denyWrite', fsp.denyWrite], ['denyRead', fsp.denyRead]] as const);
  for (const [list, globs] of lists) {
    const glob = globs.find((g) => globCovers(g, p, m));
    if (glob) return { list, glob };
  }
  return null;
}

export function systemPathOf(p: string): string | null {
  return SYSTEM_PATHS.find((s) => isUnder(p, s)) ?? null;
}
