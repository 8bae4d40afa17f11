// Where in a script a violation belongs: the texts the script may have used for the blocked path, host or
// address (as written: $HOME/…, ~/…, relative), and the first line that contains one. Pure, so unit-tested.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Violation } from '../policy/violation';

/** The texts a script may use for what the violation names, most specific first. */
export function candidatesFor(v: Violation, cwd: string, home = os.homedir()): string[] {
  const out: string[] = [];
  const addPath = (p: string | undefined) => {
    if (!p) return;
    out.push(p);
    if (home && (p === home || p.startsWith(home + '/'))) {
      const rest = p.slice(home.length);
      out.push(`$HOME${rest}`, `\${HOME}${rest}`, `~${rest}`);
    }
    if (path.isAbsolute(p)) {
      const rel = path.relative(cwd, p);
      if (rel && !rel.startsWith('..')) out.push(rel);
    }
  };
  addPath(v.path);
  addPath(v.resolvedPath);
  if (v.host) out.push(v.host);
  if (v.address) {
    if (v.port != null) out.push(`${v.address}:${v.port}`);
    out.push(v.address);
  }
  // Last resort for paths: the file name, when it is distinctive enough not to match everything.
  for (const p of [v.path, v.resolvedPath]) {
    const base = p ? path.basename(p) : '';
    if (base.length >= 4) out.push(base);
  }
  return [...new Set(out.filter((s) => s.length > 0))];
}

export interface Mention {
  /** 0-based line; start and end are columns on it. */
  line: number;
  start: number;
  end: number;
}

/** Where the first candidate occurs (earlier candidates win over earlier lines); else the first code line. */
export function findMention(text: string, candidates: string[]): Mention {
  const lines = text.split(/\r?\n/);
  for (const c of candidates) {
    for (let i = 0; i < lines.length; i++) {
      const col = lines[i]!.indexOf(c);
      if (col >= 0) return { line: i, start: col, end: col + c.length };
    }
  }
  const line = Math.max(0, lines.findIndex((l) => l.trim() && !l.startsWith('#!')));
  return { line, start: 0, end: lines[line]?.length ?? 0 };
}
