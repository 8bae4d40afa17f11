// Path and glob helpers shared by resolve and evaluate. POSIX paths; pure (no file system access).
import * as path from 'node:path';
import { GLOB_OPTIONS, globMatch, type GlobMatcher } from './glob-match';

const MM = GLOB_OPTIONS;

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/');
}

/**
 * How a run's paths are spelled, decided by the run (its workspace), never by the OS this code runs on: a
 * policy for a Windows plan is resolved on Linux in tests, and a Linux path means nothing to Windows.
 */
export type PathStyle = 'posix' | 'win32';

/** A Windows absolute path as Node for Windows gives it (`C:\…`, `C:/…`, `\\server\share\…`). */
const WINDOWS_ABSOLUTE = /^(?:[A-Za-z]:[\\/]|\\\\[^\\/]+[\\/][^\\/]+)/;

/** The style of a workspace as given (before resolve) or as resolved (`C:/…`, `//server/share/…`). */
export function pathStyleOf(workspace: string): PathStyle {
  return WINDOWS_ABSOLUTE.test(workspace) || /^\/\/[^/]+\/[^/]/.test(workspace) ? 'win32' : 'posix';
}

/**
 * A Windows path in the policy's spelling: `/` separators (Windows names cannot hold `\`, so it is a separator
 * there, never a glob escape), an upper-case drive letter, normalised; a UNC path keeps its two leading slashes.
 */
export function windowsPolicyPath(p: string): string {
  const slashed = p.replace(/\\/g, '/').replace(/^[a-z]:/, (d) => d.toUpperCase());
  return slashed.startsWith('//') ? '/' + normalizeAbs(slashed.slice(1)) : normalizeAbs(slashed);
}

/**
 * Whether a policy path is absolute for its run: on Windows `C:\x`, `C:/x`, `\\server\share` and a
 * root-relative `/x` (path.win32), on Linux and macOS only `/x` (path.posix). A drive-relative `C:x` is neither.
 */
export function isAbsoluteFor(p: string, style: PathStyle): boolean {
  return style === 'win32' ? path.win32.isAbsolute(p) && !/^[A-Za-z]:(?![\\/])/.test(p) : path.posix.isAbsolute(p);
}

/** A policy path made absolute for its run: `~` is home, relative is under the workspace; normalised. */
export function absoluteFor(p: string, style: PathStyle, home: string, workspace: string): string {
  if (style === 'posix') return normalizeAbs(p === '~' ? home : p.startsWith('~/') ? home + '/' + p.slice(2) : isAbsolutePath(p) ? p : workspace + '/' + p);
  const s = p.replace(/\\/g, '/');
  if (s === '~') return home;
  if (s.startsWith('~/')) return windowsPolicyPath(home + '/' + s.slice(2));
  if (isAbsoluteFor(p, 'win32')) return windowsPolicyPath(s);
  return windowsPolicyPath(workspace + '/' + s);
}

/** Normalises an absolute path: no `.`/`..` segments, no doubled or trailing slash. */
export function normalizeAbs(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * A path of a resolved policy, normalised again. Resolve leaves no doubled slash in a Linux or macOS path, so a
 * leading `//` there is a Windows UNC root (`//server/share/…`) and is kept: path.posix.normalize would make
 * it `/server/share/…`, a folder on the current drive, and every rule on the share would miss.
 */
export function normalizePolicyPath(p: string): string {
  return /^\/\/[^/]/.test(p) ? '/' + normalizeAbs(p.slice(1)) : normalizeAbs(p);
}

/**
 * Whether a policy path is spelled for Windows (`C:/…`, `//server/share/…`, as resolve writes them). Such
 * names compare case-insensitively, as NTFS and SMB compare them: `C:/Users/U/.SSH` is `c:/users/u/.ssh`.
 * A Linux or macOS path never starts so (resolve makes it `/…` with no doubled slash).
 */
export function isWindowsSpelled(p: string): boolean {
  return /^(?:[A-Za-z]:\/|\/\/[^/])/.test(p);
}

/**
 * `rel` (a value from git config or a `.git` file) resolved against the absolute folder `base` of a resolved
 * policy. On a Windows base, `C:\x`, `C:/x` and `\\server\share` are absolute and `/x` is the base's drive
 * root: path.posix.resolve would put this process's cwd in front of `C:/…` and every discovered hook path
 * would name nothing.
 */
export function resolveFrom(base: string, rel: string): string {
  if (!isWindowsSpelled(base)) return normalizeAbs(path.posix.resolve(base, rel));
  if (/^[\\/](?![\\/])/.test(rel)) return windowsPolicyPath(`${/^(?:[A-Za-z]:|\/\/[^/]+\/[^/]+)/.exec(base)?.[0] ?? ''}${rel}`);
  return isAbsoluteFor(rel, 'win32') ? windowsPolicyPath(rel) : windowsPolicyPath(`${base}/${rel}`);
}

/** `p` is `root` or inside it. Both absolute and normalised; case-insensitive for a Windows-spelled root. */
export function isUnder(p: string, root: string): boolean {
  if (root === '/') return p.startsWith('/');
  if (isWindowsSpelled(root)) {
    const [a, b] = [p.toUpperCase(), root.toUpperCase()];
    return a === b || a.startsWith(b + '/');
  }
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

/** Whether an absolute glob covers a path: the glob matches it, or matches a directory above it. `m`: compiled
 *  patterns of a caller that matches many paths. */
export function globCovers(glob: string, p: string, m?: GlobMatcher): boolean {
  if (glob === '/' || glob === '/**') return p.startsWith('/');
  if (!hasMagic(glob)) return isUnder(p, unescapeGlob(glob));
  // `X/**` is X's subtree, X included: what a file rule on X (Landlock) covers.
  if (glob.endsWith('/**') && !hasMagic(glob.slice(0, -3))) return isUnder(p, normalizePolicyPath(unescapeGlob(glob.slice(0, -3)) || '/'));
  const mm = isWindowsSpelled(glob) ? { ...MM, nocase: true } : MM;
  if (globMatch(p, glob, mm, m)) return true;
  return globMatch(p, glob.replace(/\/+$/, '') + '/**', mm, m);
}

/** Whether a glob names `target` (or something inside it) explicitly: its literal prefix lies in `target`.
 *  `/**`, `~/**` or `~` do not name `~/.ssh`; `~/.ssh`, `~/.ssh/config` and `~/.ssh/*.pub` do. */
export function globNames(glob: string, target: string): boolean {
  return isUnder(globStaticPrefix(glob), target);
}

/** Expands a protected entry (`~/…`, `/…`, workspace-relative; on Windows also `C:\…`) to an absolute path. */
export function expandEntry(entry: string, home: string, workspace: string, style: PathStyle = pathStyleOf(workspace)): string {
  if (entry === '~') return home;
  return absoluteFor(entry, style, home, workspace);
}

/** Shows an absolute path with the home directory as `~`. */
export function displayPath(p: string, home: string): string {
  if (home && home !== '/' && isUnder(p, home)) return '~' + p.slice(home.length);
  return p;
}
