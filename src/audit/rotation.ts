// Rotation by size: audit.jsonl → audit.1.jsonl → audit.2.jsonl …, dropping beyond `keep`. Paths given
// here reach the files through the log folder's fd (./safe-dir.ts), and rename/unlink act on names, never
// through a link. The chain goes on in the new file: its first line's prev is the link of the rotated
// file's last line, so verify follows the chain across files.
import * as fs from 'node:fs';
import { rotatedPath, rotatedSiblings } from './files';

/** Moves `file` to its .1 sibling, shifting older ones up and dropping those beyond keep. */
export function rotateFiles(file: string, keep: number): void {
  // Highest first, so every rename's target has already moved on.
  for (const r of rotatedSiblings(file).reverse()) {
    if (r.n >= keep) fs.rmSync(r.path, { force: true });
    else fs.renameSync(r.path, rotatedPath(file, r.n + 1));
  }
  fs.renameSync(file, rotatedPath(file, 1));
}

/** fsync a folder after renames in it; some file systems refuse, and the renames happened anyway. */
export function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // nothing to do
  } finally {
    if (fd != null) fs.closeSync(fd);
  }
}
