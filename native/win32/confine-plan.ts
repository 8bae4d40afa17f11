// Which paths a run's SID may write on Windows, and which protected paths inside them it may not: the policy's
// filesystem model as ACL grants (file-grants.ts applies them, restricted-token.ts makes them the only writes
// the script has). Pure: unit-tested on Linux. Policy paths use `/` (resolve normalizes `Z:\…` to `Z:/…`);
// Windows gets `\`.
import type { ResolvedPolicy } from '../../src/policy/schema';
import { kernelPrefix } from '../../src/policy/glob-kernel-paths';
import { protectedPaths } from '../../src/policy/protected-set';
import type { ProtectedPath } from '../../src/policy/fs-model-types';
import type { FileGrant } from './file-grants';

export function toWindowsPath(p: string): string {
  return p.replace(/\//g, '\\');
}

/** A glob's literal folder; a UNC path (`//server/share/…` in the policy) keeps its two leading slashes. */
function prefixOf(glob: string): string {
  return glob.startsWith('//') ? '/' + kernelPrefix(glob.slice(1)) : kernelPrefix(glob);
}

const key = (p: string) => toWindowsPath(p).replace(/\\+$/, '').toLowerCase();
/** Case-insensitive containment, as NTFS compares names. */
export function isUnderWin(p: string, root: string): boolean {
  const a = key(p);
  const b = key(root);
  return a === b || a.startsWith(b + '\\');
}

/**
 * Whether the run gets a restricted token at all: enforce mode with a profile that confines writes. Warn mode
 * blocks nothing (and Windows has no live file events to report instead); permissive writes outside system
 * paths, which only the user's own ACLs already keep.
 */
export function confinesWrites(p: ResolvedPolicy): boolean {
  return p.mode === 'enforce' && !p.filesystem.writeOutsideSystem;
}

/**
 * The grants of one run, in the order they are applied (allows first, then the denies inside them).
 * `prot`: the run's protected set; the host passes protectedSet() with git discovery (core.hooksPath such as
 * husky's .husky/_, submodules' .git), else only the policy's own list.
 */
export function fileGrantsFor(p: ResolvedPolicy, tmpDir: string, prot: readonly ProtectedPath[] = protectedPaths(p)): FileGrant[] {
  if (!confinesWrites(p)) return [];
  const roots = [...(p.filesystem.readOnly ? [] : [p.workspace, ...p.filesystem.allowWrite.map(prefixOf)]), tmpDir].map(toWindowsPath);
  const writable = [...new Map(roots.map((r) => [key(r), r])).values()];
  const inside = (x: string) => writable.some((r) => isUnderWin(x, r));
  const grants: FileGrant[] = writable.map((path) => ({ path, kind: 'write' }));
  const denies: FileGrant[] = [];
  for (const pp of prot) {
    if (pp.write || !inside(pp.abs)) continue;
    denies.push({ path: toWindowsPath(pp.abs), kind: 'deny' });
    // git's objects/refs/logs stay writable: an explicit allow on the child comes before the inherited deny.
    for (const w of pp.writableInside) grants.push({ path: toWindowsPath(w), kind: 'write' });
  }
  for (const g of p.filesystem.denyWrite) {
    const pre = prefixOf(g);
    if (inside(pre)) denies.push({ path: toWindowsPath(pre), kind: 'deny' });
  }
  return [...grants, ...denies];
}
