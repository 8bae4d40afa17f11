// Reading git's configuration as git does, for the paths the filesystem model protects: config text, `.git`
// files, and the files a config includes.
import * as path from 'node:path';
import type { FsModelFs } from './fs-model-types';
import { normalizePolicyPath, resolveFrom } from './paths';

/** One `key = value` of git-config text: section lower-cased, subsection as written (null when none), key
 *  lower-cased, value decoded as git does. */
export interface GitConfigEntry {
  section: string;
  subsection: string | null;
  key: string;
  value: string;
}

/** The entries of git-config text, in order. Parsed as git does for what the model reads: `[section]`,
 *  `[section "sub"]` (and the old `[section.sub]`), keys case-insensitive, a value's inline `#`/`;` comment
 *  and unquoted trailing whitespace dropped, whitespace inside quotes kept (`"hooks "` is `hooks `), the
 *  escapes `\"` `\\` `\n` `\t` `\b`, and a backslash at the end of a line continuing the value. */
export function gitConfigEntries(text: string): GitConfigEntry[] {
  const out: GitConfigEntry[] = [];
  const lines = text.split(/\r?\n/);
  let section = '';
  let subsection: string | null = null;
  for (let li = 0; li < lines.length; li++) {
    let line = lines[li].replace(/^\s+/, '');
    for (;;) {
      if (!line || line.startsWith('#') || line.startsWith(';')) break;
      if (line.startsWith('[')) {
        const sec = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
        if (!sec) break;
        const name = sec[1];
        if (sec[2] !== undefined) {
          section = name.toLowerCase();
          subsection = sec[2].replace(/\\(.)/g, '$1');
        } else {
          const dot = name.indexOf('.');
          section = (dot === -1 ? name : name.slice(0, dot)).toLowerCase();
          subsection = dot === -1 ? null : name.slice(dot + 1).toLowerCase();
        }
        line = line.slice(sec[0].length).replace(/^\s+/, ''); // `[core] hooksPath = x` on one line
        continue;
      }
      const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(=?)/.exec(line);
      if (!kv) break;
      if (!kv[2]) break; // a bare key (boolean true): no path
      let rest = line.slice(kv[0].length);
      let value = '';
      let quoted = false;
      let spaces = '';
      let started = false;
      for (let i = 0; ; i++) {
        if (i >= rest.length) {
          break;
        }
        const c = rest[i];
        if (c === '\\') {
          if (i + 1 >= rest.length) {
            // continuation: the value goes on on the next line
            if (li + 1 < lines.length) {
              rest = lines[++li];
              i = -1;
              continue;
            }
            break;
          }
          const n = rest[++i];
          value += spaces + (n === 'n' ? '\n' : n === 't' ? '\t' : n === 'b' ? '\b' : n);
          spaces = '';
          started = true;
        } else if (c === '"') {
          quoted = !quoted;
          value += spaces;
          spaces = '';
          started = true;
        } else if (!quoted && (c === '#' || c === ';')) break;
        else if (!quoted && /\s/.test(c)) {
          if (started) spaces += ' ';
        } else {
          value += spaces + c;
          spaces = '';
          started = true;
        }
      }
      out.push({ section, subsection, key: kv[1].toLowerCase(), value });
      break;
    }
  }
  return out;
}

/** Values of `section.key` in git-config text, in order (sections and keys case-insensitive, any
 *  subsection). */
export function gitConfigValues(text: string, section: string, key: string): string[] {
  const s = section.toLowerCase();
  const k = key.toLowerCase();
  return gitConfigEntries(text)
    .filter((e) => e.section === s && e.key === k)
    .map((e) => e.value);
}

/** The path a `.git` file points to (`gitdir: <path>`, relative to the worktree root), or null. */
export function parseGitFile(text: string, worktree: string): string | null {
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
  return m ? resolveFrom(worktree, m[1]) : null;
}

const GIT_CONFIG_INCLUDE_DEPTH = 10;

/** A path from git config: `~` is the home folder, a relative path is relative to `base`. */
export function configPath(v: string, home: string, base: string): string {
  return v === '~' || v.startsWith('~/') ? normalizePolicyPath(home + v.slice(1)) : resolveFrom(base, v);
}

/** Config files and the files they include (include.path, includeIf.*.path: relative to the including file's
 *  folder), followed transitively, with their entries. Conditions of includeIf are not evaluated: every file
 *  git might include counts. */
export function readConfigs(files: readonly string[], home: string, fs: FsModelFs): { file: string; included: boolean; entries: GitConfigEntry[] }[] {
  const out: { file: string; included: boolean; entries: GitConfigEntry[] }[] = [];
  const seen = new Set<string>();
  const visit = (file: string, included: boolean, depth: number) => {
    if (seen.has(file) || depth > GIT_CONFIG_INCLUDE_DEPTH) return;
    seen.add(file);
    const entries = gitConfigEntries(fs.readFile(file) ?? '');
    out.push({ file, included, entries });
    for (const e of entries) {
      if ((e.section === 'include' || e.section === 'includeif') && e.key === 'path' && e.value) {
        visit(configPath(e.value, home, path.posix.dirname(file)), true, depth + 1);
      }
    }
  };
  for (const f of files) visit(f, false, 0);
  return out;
}
