// A folder as the kernel reaches it. The workspace and home a caller names may be, or lie below, a symlink (a
// home on another disk, macOS's /tmp -> /private/tmp); Landlock's rules and the namespace mounts are made on
// the real folder, and the supervisor resolves every name the script uses physically, so the policy must name
// the real folder too: with the link's spelling a new name at the workspace root was outside the workspace
// for the supervisor, and refused.
import * as fs from 'node:fs';

/** The real path of an existing folder; the path itself when it cannot be resolved, or when it is not a POSIX
 *  path (a Windows folder keeps its drive letter and spelling: a realpath may turn it into a UNC path). */
export function canonicalFolder(p: string): string {
  if (!p.startsWith('/') || p.startsWith('//')) return p;
  try {
    return fs.realpathSync.native(p);
  } catch {
    return p;
  }
}
