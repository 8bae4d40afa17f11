// Nested repositories a run leaves behind. A script may create `sub/.git` (or a `.git` file naming a gitdir)
// whose config sets core.fsmonitor, hooks or the like; VS Code's git extension, scanning subfolders, and a
// user's `git -C sub …` would then run it outside the sandbox. No kernel mechanism forbids creating an entry
// by name in a writable folder, so this is NOT prevented: the host compares the `.git` entries below the
// workspace before and after the run (bounded depth and count, links not followed) and reports each one
// created or changed as a violation, and so is a `.git` made in a folder above the workspace. The
// workspace's own `.git` is left out: the kernel keeps it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Violation } from '../policy/violation';
import type { RunReactions } from '../protocol/run-reactions';

/** VS Code's git.repositoryScanMaxDepth is 1 by default; a little deeper covers a raised setting. */
export const NESTED_SCAN_DEPTH = 4;
/** Directory entries looked at per scan, at most: a huge workspace must not stall the run's start or end. */
export const NESTED_SCAN_ENTRIES = 20_000;
/** Folders VS Code's scan skips by default (git.repositoryScanIgnoredFolders) and that are huge. */
const SKIP = new Set(['node_modules', '.git']);

/** `.git` path → signature of what git would run from it (kind, inode, and its config/hooks metadata);
 *  `complete` false when the entry budget ran out before the walk did. */
export interface GitEntries {
  entries: Map<string, string>;
  complete: boolean;
}

function sig(p: string): string {
  try {
    const st = fs.lstatSync(p);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}`;
  } catch {
    return '-';
  }
}

function signature(dotGit: string, st: fs.Stats): string {
  if (!st.isDirectory()) return `file ${sig(dotGit)}`;
  return `dir ${st.ino} ${['config', 'config.worktree', 'commondir', 'hooks'].map((n) => sig(path.join(dotGit, n))).join(' ')} ${hookFiles(path.join(dotGit, 'hooks'))}`;
}

/** The hooks' own metadata: a hook armed (chmod +x) or rewritten in place changes its ctime, not its folder's
 *  (red team rt22). The first 64 names: a folder of more is not git's own. */
function hookFiles(hooks: string): string {
  let names: string[];
  try {
    names = fs.readdirSync(hooks).sort().slice(0, 64);
  } catch {
    return '-';
  }
  return names.map((n) => `${n}=${sig(path.join(hooks, n))}`).join(',');
}

/** Breadth first, so that with the budget spent the shallow folders (what VS Code scans) were seen. */
export function scanGitEntries(root: string, depth = NESTED_SCAN_DEPTH, budget = NESTED_SCAN_ENTRIES): GitEntries {
  const entries = new Map<string, string>();
  let left = budget;
  const own = path.join(root, '.git');
  // Above the workspace too: a `.git` made in a writable parent (/tmp under moderate, home under permissive)
  // turns a workspace without its own repository into part of the script's one.
  for (let d = path.dirname(root); ; d = path.dirname(d)) {
    const g = path.join(d, '.git');
    try {
      entries.set(g, signature(g, fs.lstatSync(g)));
    } catch {
      // none here
    }
    if (d === path.dirname(d)) break;
  }
  let level = [root];
  for (let d = 1; level.length && d <= depth; d++) {
    const next: string[] = [];
    for (const dir of level) {
      let names: fs.Dirent[];
      try {
        names = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of names) {
        if (--left < 0) return { entries, complete: false };
        const p = path.join(dir, e.name);
        if (e.name === '.git' && p !== own) {
          try {
            entries.set(p, signature(p, fs.lstatSync(p)));
          } catch {
            // gone meanwhile
          }
        }
        if (e.isDirectory() && !SKIP.has(e.name)) next.push(p);
        // node_modules is not walked (huge), but its packages are looked at: a file open from a package makes
        // VS Code's git extension open the package's repository (node_modules/pkg/.git, @scope/pkg/.git).
        else if (e.isDirectory() && e.name === 'node_modules') left = packageGitEntries(p, entries, left);
        if (left < 0) return { entries, complete: false };
      }
    }
    level = next;
  }
  return { entries, complete: true };
}

/** `.git` of each package (and scoped package) directly in a node_modules folder; returns the budget left. */
function packageGitEntries(modules: string, entries: Map<string, string>, left: number): number {
  const dirs = (d: string): string[] => {
    try {
      return fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(d, e.name));
    } catch {
      return [];
    }
  };
  for (const pkg of dirs(modules)) {
    const pkgs = path.basename(pkg).startsWith('@') ? dirs(pkg) : [pkg];
    for (const q of pkgs) {
      if (--left < 0) return left;
      const g = path.join(q, '.git');
      try {
        entries.set(g, signature(g, fs.lstatSync(g)));
      } catch {
        // no repository here
      }
    }
  }
  return left;
}

/** One violation per `.git` entry created or changed between the two scans. */
export function nestedRepoViolations(runId: string, before: GitEntries, after: GitEntries, reactions: Pick<RunReactions, 'violation'>): Violation[] {
  const out: Violation[] = [];
  for (const [p, s] of after.entries) {
    const old = before.entries.get(p);
    if (old === s) continue;
    const what = old === undefined ? 'Created a git repository entry' : 'Changed a git repository entry';
    out.push({
      runId,
      time: new Date().toISOString(),
      kind: 'file',
      // Not blocked: the sandbox can only report this one, in either mode.
      action: 'warned',
      severity: 'critical',
      rule: 'filesystem.nestedRepository',
      path: p,
      message: `${what} at ${p} (not prevented${reactions.violation === 'refuse' ? ', even in enforce mode' : ''}) — git and VS Code's git extension may run commands from its config or hooks outside the sandbox; check it before opening that folder or running git there`,
    });
  }
  out.sort((a, b) => (a.path! < b.path! ? -1 : 1));
  if (!after.complete) {
    out.push({
      runId,
      time: new Date().toISOString(),
      kind: 'file',
      action: 'warned',
      severity: 'warning',
      rule: 'filesystem.nestedRepository',
      message: `The check for nested git repositories stopped after ${NESTED_SCAN_ENTRIES} entries of the workspace: repositories created further in were not looked for`,
    });
  }
  return out;
}
