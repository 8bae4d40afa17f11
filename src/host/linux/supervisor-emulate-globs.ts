// What the emulation (supervisor-emulate.ts) must know of the deny globs that are not subtrees: their
// directories are carved (src/policy/glob-kernel-paths.ts globNewNameCuts), so a name there is decided by the
// supervisor, and a rename must not carry a tree onto or off a glob's way behind the name-by-name checks.
// And where the namespace tier's view is not the host's, in which the supervisor performs calls.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedPolicy } from '../../policy/schema';
import { isUnder } from '../../policy/paths';
import type { Grant } from '../../policy/fs-model-types';
import { globIsSubtree, globMayMatchBelow, kernelPrefix } from '../../policy/glob-kernel-paths';
import { GLOB_OPTIONS, globMatch, type GlobMatcher } from '../../policy/glob-match';
import type { Verdict } from './supervisor-decide';
import type { SupervisedRun } from './supervisor-protocol';
import { SHM_DIR } from '../../../native/linux/namespace-plan';

/**
 * Whether a path is the same file for the supervisor as for the target. In the namespace tier the write
 * grants are bound at their own paths, and what differs (read-only binds, hidden covers) the policy refuses
 * anyway; but /dev/shm may be a tmpfs of the run's own: nothing there is performed by the supervisor (a new
 * name then has no Landlock rule and fails: closed, never the host's /dev/shm).
 */
export function sameInHostView(r: Pick<SupervisedRun, 'fileTier'>, p: string): boolean {
  return r.fileTier !== 'namespaces' || !(p === SHM_DIR || p.startsWith(SHM_DIR + '/'));
}

const MM = GLOB_OPTIONS;

/** Whether something (a dangling link included) is at `p`. */
export function entryExists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `p`, an existing entry that is not a directory, has no Landlock rule for `access` although the
 * grants give it: it sits in a deny glob's folder where files get no rule of their own (Grant noFileRules),
 * so the kernel refuses every open of it and the supervisor performs the allowed ones. A rule on such a file
 * would follow it through a rename made outside the run onto the glob (data/draft.txt -> data/new.key).
 */
export function fileWithoutRule(r: Pick<SupervisedRun, 'grants' | 'fileTier'>, p: string, access: 'read' | 'write'): boolean {
  const need = access === 'read' ? 'read_file' : 'write_file';
  const dir = path.posix.dirname(p);
  const covering = r.grants.filter((g: Grant) => g.access.includes(need) && g.paths.some((root) => isUnder(p, root)) && !g.except.some((e) => isUnder(p, e)));
  if (covering.length === 0 || !covering.every((g) => g.noFileRules?.includes(dir) && !g.paths.includes(p))) return false;
  if (!sameInHostView(r, p)) return false;
  try {
    return !fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Whether `p` is an entry of a deny glob's folder (a folder where a new match could appear) or lies below
 * one, for a glob that denies `access` there (a denyRead glob denies both). Landlock gives such an entry's
 * subtree none of the rights the glob denies (Grant entryDirsWithout, noFileRules; a folder made during the
 * run has no rule at all), because a rule would follow the folder through a rename made outside the run onto
 * the glob (`data/sub` to `data/x.key`): the supervisor performs those calls, deciding on every component of
 * the name it has now. A match on the way counts too (its contents are refused by the decision).
 */
export function inGlobEntry(r: Pick<SupervisedRun, 'policy' | 'fileTier'>, p: string, access: 'read' | 'write', m?: GlobMatcher): boolean {
  if (!sameInHostView(r, p)) return false;
  for (const g of carvingGlobs(r.policy, access === 'read' ? 'read' : 'all')) {
    const pre = kernelPrefix(g);
    const folder = (d: string) => isUnder(d, pre) && globMayMatchBelow(d, g, m) && !globMatch(d, g, MM, m);
    for (let a = p; a !== pre && isUnder(a, pre); a = path.posix.dirname(a)) {
      if (folder(path.posix.dirname(a)) && !folder(a)) return true;
    }
  }
  return false;
}

/** The deny globs (read, write) whose directories are carved. */
export function carvingGlobs(policy: ResolvedPolicy, lists: 'read' | 'all'): string[] {
  const fsp = policy.filesystem;
  return (lists === 'read' ? fsp.denyRead : [...fsp.denyRead, ...fsp.denyWrite]).filter((g) => !globIsSubtree(g));
}

/**
 * The deny globs whose ways the way rules keep (no link made there, no folder moved on or off, a pre-run link
 * not moved along): every one, a subtree glob or a literal path too. Their prefixes are kept whole by the
 * kernel, but in the fallback tier that is the prefix's inode only: the names on the way to it (`d1` for
 * `d1/stage`) could be renamed away and replaced by a link to the script's own folder, where what a process
 * outside the run writes at `d1/stage/x` would land (red team rt15). The namespace tier's mounts hold there.
 */
export function wayGlobs(policy: ResolvedPolicy): string[] {
  return [...policy.filesystem.denyRead, ...policy.filesystem.denyWrite];
}

/** Whether `p` is on `glob`'s way to a match without being one (`data` for `data/*.key`). */
function onWay(p: string, glob: string, m?: GlobMatcher): boolean {
  return globMatch(p, glob, { ...MM, partial: true }, m) && !globMatch(p, glob, MM, m);
}

/** The glob for which `p` is on the way to a match without being one (`data` for `data/*.key`). */
export function wayOf(p: string, globs: string[], m?: GlobMatcher): string | null {
  return globs.find((g) => onWay(p, g, m)) ?? null;
}

/**
 * A rename that could bring matches of a deny glob in (a directory holding `x.key` moved to `data`) or take
 * them out of its reach (`data` moved to `d2`, where its `old.key` is no longer denied): a directory moved to
 * or from a glob's way is refused. `settled`: the names of both ends change only through the supervisor (their
 * directories are carved or made by it), so what lstat says now is what the rename moves; otherwise an entry
 * swapped in meanwhile could be a directory, and the rename is refused whatever is there now.
 */
export function renameCarriesMatches(
  policy: ResolvedPolicy,
  call: string,
  from: { written: string; resolved: string },
  to: { written: string; resolved: string },
  exchange: boolean,
  settled: boolean,
  m?: GlobMatcher,
): Verdict | null {
  const globs = wayGlobs(policy);
  const glob = wayOf(to.resolved, globs, m) ?? wayOf(from.resolved, globs, m);
  if (!glob) return null;
  const isDir = (p: string) => {
    try {
      return fs.lstatSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  if (settled && !isDir(from.resolved) && !(exchange && isDir(to.resolved))) return null;
  return {
    kind: 'file',
    severity: 'error',
    rule: `deny:${glob}`,
    what: `${call} of ${from.written} to ${to.written}`,
    why: `it could move a folder onto or off the way of ${glob}, carrying matches past their checks`,
    path: to.written,
    resolvedPath: to.resolved,
  };
}

type Named = { written: string; resolved: string };

/**
 * Where a rename made outside the run could bring `p` onto a deny glob: an entry of a glob's folder or below
 * one (inGlobEntry), or anything below the prefix of a glob with `**` (for `data/**` + `/*.key` every folder there
 * is the glob's, so inGlobEntry, which looks for an entry of a folder that is not itself on the way, finds none;
 * red team rt8).
 */
export function inGlobReach(r: Pick<SupervisedRun, 'policy' | 'fileTier'>, p: string, m?: GlobMatcher): boolean {
  if (inGlobEntry(r, p, 'write', m)) return true;
  if (!sameInHostView(r, p)) return false;
  return carvingGlobs(r.policy, 'all').some((g) => g.includes('**') && p !== kernelPrefix(g) && isUnder(p, kernelPrefix(g)));
}

/**
 * A hard link from or into a deny glob's reach (its folders, or below an entry of one): one of the two names
 * would stay outside the glob's reach when a process outside the run renames the other onto the glob (red
 * teams rt6, rt7: `ln data/draft.txt src/l` or `ln src/g data/g`, then the host renames the name in data/ to
 * `new.key`, and the other name writes the match).
 */
export function linkOutOfReach(r: Pick<SupervisedRun, 'policy' | 'fileTier'>, call: string, from: Named, to: Named, m?: GlobMatcher): Verdict | null {
  if (!inGlobReach(r, from.resolved, m) && !inGlobReach(r, to.resolved, m)) return null;
  return { kind: 'file', severity: 'error', rule: 'deny-glob-reach', what: `${call} of ${from.written}`, why: "a hard link from or into a deny glob's folder would keep a name for the file outside the glob's reach, past a rename onto the glob", path: from.written, resolvedPath: from.resolved };
}

/**
 * A link (symbolic, or a hard link, which can name a symlink too) whose name is on a deny glob's way: the
 * glob's missing prefix (`keys` for keys/*.key), or a folder below the prefix of a glob with `**` (`data/sub`
 * for `data/**` then `*.key`). Its matches would then be reached through the link: what a process outside the run writes
 * at `keys/k.key` or `data/sub/new.key` would land in the folder the link names, the script's own, where it
 * reads and writes it by that other path (red team rt9). A folder made there is fine: the glob decides its
 * entries. Refused by name, on the supervisor's own copy of it.
 */
export function linkOnGlobWay(r: Pick<SupervisedRun, 'policy' | 'fileTier'>, call: string, to: Named, m?: GlobMatcher): Verdict | null {
  if (!sameInHostView(r, to.resolved)) return null;
  const glob = wayOf(to.resolved, wayGlobs(r.policy), m);
  if (glob === null) return null;
  return { kind: 'file', severity: 'error', rule: 'deny-glob-reach', what: `${call} ${to.written}`, why: `a link there would lead the names ${glob} denies into another folder; make a folder there instead`, path: to.written, resolvedPath: to.resolved };
}

/**
 * A move onto a deny glob's way from off that glob's way (`mv lnk keys` with keys/ missing, for keys/*.key;
 * `mv data/lnk keys`, a link made in data/ for data/*.key, red team rt10; `mv sub/cur keys`, a link that was on
 * sub/**'s way before the run, rt11): what is moved may be a link, which linkOnGlobWay refuses to make there;
 * whether it is one cannot be known race-free (the script may swap it before the rename), so any such move is
 * refused by name. Only what is on a glob's way moves along that way (an editor's save below data/ under a
 * `**` glob, where every folder is on the way).
 */
export function movedOntoGlobWay(r: Pick<SupervisedRun, 'policy' | 'fileTier' | 'globLinks'>, call: string, from: Named, to: Named, m?: GlobMatcher): Verdict | null {
  if (!sameInHostView(r, to.resolved)) return null;
  const globs = wayGlobs(r.policy).filter((g) => onWay(to.resolved, g, m));
  if (globs.length === 0) return null;
  // A link that was on a glob's way before the run leads there where the globs added at its target expect it
  // (deny-glob-links.ts); at another place on the way (a/ln to a/b/c for a/*/*/*.pem, or a relative one at
  // another depth) it would lead the glob's names elsewhere (red team rt12).
  const prerunLink = from.resolved !== to.resolved && (r.globLinks ?? []).includes(from.resolved);
  if (!prerunLink && sameInHostView(r, from.resolved) && globs.every((g) => onWay(from.resolved, g, m))) return null;
  return { kind: 'file', severity: 'error', rule: 'deny-glob-reach', what: `${call} of ${from.written} to ${to.written}`, why: "only a folder made there can stand on a deny glob's way (a link moved there would lead the glob's names into another folder); make the folder with mkdir", path: to.written, resolvedPath: to.resolved };
}

/**
 * Moving something into a deny glob's reach from outside it: it may carry a Landlock rule of its own, which
 * would follow it when its new folder is renamed onto the glob from outside the run (red team rt6: `mv src
 * data/sub/src`, then `data/sub` -> `data/x.key`), or a second name made outside (rt7: `mv data/d src/d; ln
 * src/d src/l; mv src/d data/d`). Names the supervisor made say nothing of what is there now, so they do not
 * count: only what is already in the reach moves within it.
 */
export function carriesRuleInto(r: Pick<SupervisedRun, 'policy' | 'fileTier'>, call: string, from: Named, to: Named, m?: GlobMatcher): Verdict | null {
  if (!inGlobReach(r, to.resolved, m) || inGlobReach(r, from.resolved, m)) return null;
  return { kind: 'file', severity: 'error', rule: 'deny-glob-reach', what: `${call} of ${from.written} to ${to.written}`, why: "it could carry a Landlock rule of its own into a deny glob's folder, past a later rename onto the glob; copy it instead", path: from.written, resolvedPath: from.resolved };
}
