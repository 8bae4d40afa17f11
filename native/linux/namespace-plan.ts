// compile, namespace part: which paths the run's mount namespace makes writable, read-only or hidden. Reads
// the disk (what exists, where symlinks lead, what a `.git` file points to); the host makes the placeholders
// for entries that do not exist yet (see src/host/ns-placeholders.ts) before the launcher binds them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedPolicy } from '../../src/policy/schema';
import { ALWAYS_PROTECTED } from '../../src/policy/presets';
import type { NamespacePlan } from '../plan';
import type { Grant } from './compile-plan';

/** Inside a read-only git dir: what git writes for commits, fetches and reflogs, bound back read-write. */
const GIT_WRITABLE = ['objects', 'refs', 'logs'];

/**
 * The namespace plan of an enforce run. `.git` is read-only as a whole (a bind over `.git/config` alone would
 * leave `.git/commondir` and friends creatable), with objects/refs/logs writable again: git commands that read
 * work in the sandbox, ones that change the index, HEAD or config fail with EROFS (index.lock cannot be made).
 */
export function namespacePlanFor(p: ResolvedPolicy, req: { tmpDir: string }, grants: Grant[]): NamespacePlan {
  const writable = dedupe(
    grants
      .filter((g) => g.access.includes('make_reg'))
      .flatMap((g) => g.paths)
      .concat(req.tmpDir)
      .map(realOrNull)
      .filter((x): x is string => x !== null),
  );
  const inWritable = (x: string) => writable.some((w) => under(x, w));
  const ws = realOrNull(p.workspace) ?? p.workspace;
  const readOnly: string[] = [];
  const hidden: string[] = [];
  const backWritable: string[] = [];

  const unlocked = (abs: string) => p.filesystem.allowWrite.some((g) => g === abs || g.startsWith(abs + '/'));
  const entries = ALWAYS_PROTECTED.filter((e) => !e.write);
  let gitProtected = false;
  for (const e of entries) {
    const rel = !e.path.startsWith('~/') && !e.path.startsWith('/');
    const abs = e.path.startsWith('~/') ? path.join(p.home, e.path.slice(2)) : rel ? path.join(p.workspace, e.path) : e.path;
    if (unlocked(abs)) continue;
    if (rel && (e.path === '.git' || e.path.startsWith('.git/'))) {
      gitProtected = true;
      continue;
    }
    const target = resolveLoose(abs);
    if (!inWritable(target)) continue; // read-only already
    const list = e.path === '.sandbox' ? hidden : readOnly;
    if (fs.existsSync(target)) list.push(target);
    else if (rel) {
      const ph = placeholderFor(target, ws);
      if (ph && inWritable(ph)) list.push(ph);
    }
    // Missing outside the workspace (an rc file in a writable home): no placeholder; compile keeps a
    // Landlock carve-out for it (uncoveredProtected).
  }

  if (gitProtected) {
    const dotGit = resolveLoose(path.join(ws, '.git'));
    if (inWritable(dotGit)) {
      if (!fs.existsSync(dotGit)) readOnly.push(dotGit); // placeholder: no repository can be made here
      else {
        readOnly.push(dotGit);
        for (const gitDir of gitDirsOf(dotGit)) {
          if (!inWritable(gitDir)) continue;
          readOnly.push(gitDir);
          for (const sub of GIT_WRITABLE) {
            const d = path.join(gitDir, sub);
            if (fs.existsSync(d) && fs.lstatSync(d).isDirectory()) backWritable.push(d);
          }
        }
      }
    }
  }
  // core.hooksPath (e.g. .husky) names hooks git runs outside the sandbox, like .git/hooks.
  if (gitProtected) {
    for (const h of gitHooksPaths(p.workspace, p.home)) {
      const t = resolveLoose(h);
      if (inWritable(t) && fs.existsSync(t)) readOnly.push(t);
    }
  }
  return {
    writable: dedupe([...writable, ...backWritable]),
    readOnly: dedupe(readOnly),
    hidden: dedupe(hidden),
    isolateNetwork: p.mode === 'enforce' && p.network.preset === 'none',
  };
}

/** Protected paths (absolute, as given) that no readOnly or hidden entry covers: they stay Landlock carve-outs. */
export function uncoveredProtected(ns: NamespacePlan, protectedPaths: string[]): string[] {
  const covers = [...ns.readOnly, ...ns.hidden];
  return protectedPaths.filter((x) => {
    const r = resolveLoose(x);
    return !covers.some((c) => under(r, c));
  });
}

/**
 * Directories named by `core.hooksPath` in the workspace repository's config (absolute, `~/` or relative to
 * the work tree, as git reads it). The global config is outside the workspace and already protected.
 */
export function gitHooksPaths(workspace: string, home: string): string[] {
  const dotGit = path.join(workspace, '.git');
  if (!fs.existsSync(dotGit)) return [];
  const out: string[] = [];
  for (const gitDir of gitDirsOf(dotGit)) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(gitDir, 'config'), 'utf8');
    } catch {
      continue;
    }
    let section = '';
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      const sec = /^\[\s*([^\]\s"]+)[^\]]*\]/.exec(line);
      if (sec) section = sec[1]!.toLowerCase();
      const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line);
      if (!kv || section !== 'core' || kv[1]!.toLowerCase() !== 'hookspath') continue;
      const v = kv[2]!.replace(/^"(.*)"$/, '$1').trim();
      if (!v) continue;
      out.push(v.startsWith('~/') ? path.join(home, v.slice(2)) : path.resolve(workspace, v));
    }
  }
  return dedupe(out);
}

/**
 * The git dirs a workspace's `.git` stands for: itself when a directory; for a `.git` file (worktree,
 * submodule) the dir it names and that dir's commondir (where config and hooks live).
 */
function gitDirsOf(dotGit: string): string[] {
  const st = fs.lstatSync(dotGit);
  if (st.isDirectory()) return [dotGit];
  const out: string[] = [];
  try {
    const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
    if (!m) return out;
    const gitDir = realOrNull(path.resolve(path.dirname(dotGit), m[1]!.trim()));
    if (!gitDir) return out;
    out.push(gitDir);
    const common = fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim();
    const c = realOrNull(path.resolve(gitDir, common));
    if (c) out.push(c);
  } catch {
    // no commondir: a submodule's gitdir is its own common dir
  }
  return out;
}

/**
 * The entry to create as an empty directory so that a missing `target` can be bound over: the target itself
 * when its parent exists, else its highest missing ancestor below the workspace (`.git` for `.git/hooks` in a
 * directory that is no repository). null when nothing below the workspace is missing.
 */
export function placeholderFor(target: string, workspace: string): string | null {
  let cur = target;
  while (!fs.existsSync(path.dirname(cur))) {
    if (path.dirname(cur) === cur) return null;
    cur = path.dirname(cur);
  }
  if (!under(cur, workspace) || cur === workspace) return null;
  return cur;
}

function realOrNull(x: string): string | null {
  try {
    return fs.realpathSync(x);
  } catch {
    return null;
  }
}

/** realpath of the longest existing prefix, with the missing rest appended. */
function resolveLoose(x: string): string {
  const rest: string[] = [];
  let cur = path.resolve(x);
  for (;;) {
    const r = realOrNull(cur);
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
