// Path resolution as the kernel's path walk does it, seen through another process's root
// (/proc/<pid>/root): each component is looked up where it stands, `..` goes to the parent of what was
// reached, a symlink is replaced by its target (absolute targets start again at the root). Never lexical.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Walks `p` from `base` (both in the target's view, seen through `root`), as the kernel's path walk does:
 * `..` goes to the parent of what was reached so far, a symlink is replaced by its target where it stands.
 * Past the first component that does not exist the rest is joined as text (the kernel fails there anyway).
 */
export function resolveComponents(root: string, base: string, p: string, followLast: boolean): string {
  let cur = p.startsWith('/') ? '/' : base;
  const rest = p.split('/').filter((c) => c !== '' && c !== '.');
  let links = 0;
  while (rest.length) {
    const c = rest.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      cur = path.posix.dirname(cur);
      continue;
    }
    const next = cur === '/' ? `/${c}` : `${cur}/${c}`;
    let st: fs.Stats | undefined;
    try {
      // A missing name (a file about to be created) is the common miss: no exception built for it.
      st = fs.lstatSync(root + next, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (!st) return path.posix.join(next, ...rest);
    if (st.isSymbolicLink() && (rest.length > 0 || followLast)) {
      if (++links > 40) return path.posix.join(next, ...rest); // ELOOP in the kernel
      let target: string;
      try {
        target = fs.readlinkSync(root + next);
      } catch {
        return path.posix.join(next, ...rest);
      }
      if (target.startsWith('/')) cur = '/';
      rest.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    cur = next;
  }
  return cur;
}

