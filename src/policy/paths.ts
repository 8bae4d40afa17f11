// Path and glob helpers shared by resolve and evaluate. POSIX paths; pure (no file system access).
import * as path from 'node:path';
import { minimatch } from 'minimatch';

const MM = { dot: true, nocomment: true, nonegate: true } as const;

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/');
}

/** Normalises an absolute path: no `.`/`..` segments, no doubled or trailing slash. */
export function normalizeAbs(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** `p` is `root` or inside it. Both absolute and normalised. */
export function isUnder(p: string, root: string): boolean {
  if (root === '/') return p.startsWith('/');
  return p === root || p.startsWith(root + '/');
}

/** Escapes glob magic in a literal path so it can prefix a glob. */
export function escapeGlob(s: string): string {
  return s.replace(/[\\*?[\]{}()]/g, '\\$&');
}

function unescapeGlob(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

const MAGIC = /(^|[^\\])(?:\\\\)*[*?[{(]/;

export function hasMagic(segment: string): boolean {
  return MAGIC.test(segment);
}

/** The literal directory part of a glob before its first wildcard segment: `/a/b/*.txt` → `/a/b`. */
export function globStaticPrefix(glob: string): string {
  const parts = glob.split('/');
  const idx = parts.findIndex((s) => hasMagic(s));
  const lit = idx === -1 ? parts : parts.slice(0, idx);
  const joined = unescapeGlob(lit.join('/'));
  return joined === '' ? '/' : joined;
}

/** Whether an absolute glob covers a path: the glob matches it, or matches a directory above it. */
export function globCovers(glob: string, p: string): boolean {
  if (glob === '/' || glob === '/**') return p.startsWith('/');
  if (!hasMagic(glob)) return isUnder(p, unescapeGlob(glob));
  // `X/**` is X's subtree, X included: what a file rule on X (Landlock) covers.
  if (glob.endsWith('/**') && !hasMagic(glob.slice(0, -3))) return isUnder(p, normalizeAbs(unescapeGlob(glob.slice(0, -3)) || '/'));
  if (minimatch(p, glob, MM)) return true;
  return minimatch(p, glob.replace(/\/+$/, '') + '/**', MM);
}

/** Whether a glob names `target` (or something inside it) explicitly: its literal prefix lies in `target`.
 *  `/**`, `~/**` or `~` do not name `~/.ssh`; `~/.ssh`, `~/.ssh/config` and `~/.ssh/*.pub` do. */
export function globNames(glob: string, target: string): boolean {
  return isUnder(globStaticPrefix(glob), target);
}

/** Expands a protected entry (`~/…`, `/…`, workspace-relative) to an absolute path. */
export function expandEntry(entry: string, home: string, workspace: string): string {
  if (entry === '~') return home;
  if (entry.startsWith('~/')) return normalizeAbs(home + '/' + entry.slice(2));
  if (isAbsolutePath(entry)) return normalizeAbs(entry);
  return normalizeAbs(workspace + '/' + entry);
}

/** Shows an absolute path with the home directory as `~`. */
export function displayPath(p: string, home: string): string {
  if (home && home !== '/' && isUnder(p, home)) return '~' + p.slice(home.length);
  return p;
}
