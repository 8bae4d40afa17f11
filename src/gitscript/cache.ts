// The git-script cache: mirrors, checkouts and approvals under one root, removed by one command.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function cleanGitCache(cacheRoot: string): { removed: number; bytes: number } {
  let removed = 0;
  let bytes = 0;
  const size = (p: string): number => {
    const st = fs.lstatSync(p);
    if (!st.isDirectory()) return st.size;
    return fs.readdirSync(p).reduce((n, e) => n + size(path.join(p, e)), 0);
  };
  if (!fs.existsSync(cacheRoot)) return { removed, bytes };
  for (const e of fs.readdirSync(cacheRoot)) {
    const p = path.join(cacheRoot, e);
    bytes += size(p);
    fs.rmSync(p, { recursive: true, force: true });
    removed++;
  }
  return { removed, bytes };
}
