// SBPL (Seatbelt profile language) atoms: quoted strings, path filters and case-folded regexes, and the
// canonical form of a path as Seatbelt sees it. Pure; no macOS needed, so every escape is unit-tested here.
//
// Seatbelt matches the path the kernel resolved, never the one the script wrote: /tmp, /var and /etc are
// symlinks into /private, so a rule on "/tmp/x" would never match anything (PLATFORMS.md §2.2).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SandboxError } from '../../src/errors';
import { normalizeAbs } from '../../src/policy/paths';

/** The firmlinks/symlinks of / that point into /private on every macOS since 10.0. */
export const PRIVATE_ALIASES: readonly string[] = Object.freeze(['/tmp', '/var', '/etc']);

/** `/tmp/x` → `/private/tmp/x` (and /var, /etc); everything else unchanged. Pure: no disk access. */
export function privateCanonical(p: string): string {
  const n = normalizeAbs(p);
  for (const a of PRIVATE_ALIASES) if (n === a || n.startsWith(a + '/')) return '/private' + n;
  return n;
}

/**
 * The canonical path on this machine: realpath of the longest existing prefix (symlinks in the user's own
 * folders too), the rest appended, then the /private mapping for what does not exist. Used by the host on
 * macOS; unit tests use privateCanonical alone.
 */
export function realpathCanonical(p: string): string {
  const n = normalizeAbs(p);
  const rest: string[] = [];
  for (let cur = n; ; cur = path.posix.dirname(cur)) {
    try {
      const real = fs.realpathSync.native(cur);
      return privateCanonical(rest.length ? path.posix.join(real, ...rest.reverse()) : real);
    } catch {
      if (cur === '/') return privateCanonical(n);
      rest.push(path.posix.basename(cur));
    }
  }
}

/**
 * A string literal. SBPL strings take `\\` and `\"`; a control character or a lone surrogate (a path that is
 * not valid UTF-8) has no safe spelling, so the profile is refused rather than guessed.
 */
export function sbplString(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s) || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)) {
    throw new SandboxError('POLICY_INVALID', `path ${JSON.stringify(s)} has a control character or invalid UTF-16: Seatbelt cannot name it safely`);
  }
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** Every character that means something in a POSIX extended regex, escaped with a backslash. */
export function regexEscape(s: string): string {
  return s.replace(/[.[\](){}*+?|^$\\]/g, '\\$&');
}

/** ASCII letters as `[Aa]`: APFS is case-insensitive by default, so `.GIT` names the same folder as `.git`. */
function caseFold(escaped: string): string {
  return escaped.replace(/[A-Za-z]/g, (c) => `[${c.toUpperCase()}${c.toLowerCase()}]`);
}

/**
 * The path and everything below it, any ASCII case, as regexes: one per Unicode normal form the name may be
 * stored in (APFS keeps names as created, NFC or NFD). Used only to deny (a carve-out), beside the exact
 * `subpath`, so a wider match can only refuse more.
 */
export function subtreeRegexes(p: string): string[] {
  const forms = [...new Set([p, p.normalize('NFC'), p.normalize('NFD')])];
  return forms.map((f) => `^${caseFold(regexEscape(f))}(/.*)?$`);
}

export type PathFilter = { kind: 'literal' | 'subpath' | 'regex'; value: string };

export function renderFilter(f: PathFilter): string {
  return `(${f.kind} ${sbplString(f.value)})`;
}

/** The filters that match `p` and everything below it for a carve-out: exact subpath, then case-folded. */
export function subtreeDenyFilters(p: string): PathFilter[] {
  return [{ kind: 'subpath', value: p }, ...subtreeRegexes(p).map((r): PathFilter => ({ kind: 'regex', value: r }))];
}
