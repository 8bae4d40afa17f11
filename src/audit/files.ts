// The files of one chain: audit.jsonl and its rotated siblings audit.1.jsonl (newest) … audit.N.jsonl.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `audit.jsonl` → `audit.3.jsonl`; a name without extension gets `.3` appended. */
export function rotatedPath(file: string, n: number): string {
  const ext = path.extname(file);
  return ext ? `${file.slice(0, -ext.length)}.${n}${ext}` : `${file}.${n}`;
}

/** Rotated siblings of `file` that exist, as { n, path }, newest (n = 1) first. */
export function rotatedSiblings(file: string): Array<{ n: number; path: string }> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const ext = path.extname(base);
  const stem = ext ? base.slice(0, -ext.length) : base;
  const re = new RegExp(`^${escapeRe(stem)}\\.(\\d+)${escapeRe(ext)}$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ n: number; path: string }> = [];
  for (const name of names) {
    const m = re.exec(name);
    if (m && Number(m[1]) > 0) out.push({ n: Number(m[1]), path: path.join(dir, name) });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** Every file of the chain that exists, oldest first: audit.N.jsonl … audit.1.jsonl, audit.jsonl. */
export function auditChainFiles(file: string): string[] {
  const files = rotatedSiblings(file)
    .reverse()
    .map((s) => s.path);
  if (fs.existsSync(file)) files.push(file);
  return files;
}

/** Whether a file name is a rotated one (audit.3.jsonl): only those may start mid-chain. */
export function isRotatedName(file: string): boolean {
  return /\.\d+(\.[^./]+)?$/.test(path.basename(file));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
