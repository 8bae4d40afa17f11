// A run's deny globs with the links on their ways followed (src/policy/glob-links.ts), read from the disk
// before the run: the compiled rules, the carving and the supervisor all see the globs at the links' targets
// too. A link whose target cannot be known before the run leaves its glob unkept there: enforce refuses.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { SandboxError } from '../errors';
import type { ResolvedPolicy } from '../policy/schema';
import { globLinks, type LinkFs } from '../policy/glob-links';
import { isUnder, pathStyleOf } from '../policy/paths';
import { decidePath } from '../policy/evaluate';

export const diskLinkFs: LinkFs = {
  lstat(p) {
    try {
      const st = fs.lstatSync(p);
      return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other';
    } catch {
      return null;
    }
  },
  readlink(p) {
    try {
      return fs.readlinkSync(p);
    } catch {
      return null;
    }
  },
  readdir(dir) {
    try {
      return fs.readdirSync(dir);
    } catch {
      return null;
    }
  },
};

export interface LinkedPolicy {
  policy: ResolvedPolicy;
  /** The links found on a deny glob's way or at a match: the supervisor refuses to move them (glob-links.ts). */
  links: string[];
  /** Warn mode: what enforce would have refused, one line each; [] otherwise. */
  notes: string[];
}

/**
 * The policy with each deny glob added again at the targets of the links on its way. Disabled mode and a
 * Windows policy are returned as they are (no mechanism follows globs there). Throws MECHANISM_UNAVAILABLE in
 * enforce when a link's target cannot be known before the run, naming the link and the glob.
 */
export function withDenyGlobLinks(p: ResolvedPolicy, disk: LinkFs = diskLinkFs): LinkedPolicy {
  if (p.mode === 'disabled' || pathStyleOf(p.workspace) === 'win32') return { policy: p, links: [], notes: [] };
  // What the script may replace: an entry the policy lets it write (the workspace, allowWrite, the shared temp
  // folders, anywhere outside the system under writeOutsideSystem: decidePath, the supervisor's own
  // evaluation, asked of the entry itself: a probe name could match a deny glob the entry does not, red team
  // rt15), and, whatever TMPDIR says, anything in the temp folders and /dev/shm.
  const temp = [os.tmpdir(), '/tmp', '/var/tmp', '/dev/shm'];
  const replaceable = (x: string) => temp.some((t) => isUnder(x, t)) || decidePath(p, x, 'write').allowed;
  const opts = { replaceable, pinned: (x: string) => isUnder(p.workspace, x) };
  const r = globLinks(p.filesystem.denyRead, disk, opts);
  const w = globLinks(p.filesystem.denyWrite, disk, opts);
  const unknown = [...r.unknown, ...w.unknown].map((u) => `${u.glob}: ${u.why}; where it leads cannot be known before the run`);
  // The first few name the problem; a glob over a tree of system links could list hundreds (red team rt17).
  const shown = unknown.length > 5 ? [...unknown.slice(0, 5), `and ${unknown.length - 5} more`] : unknown;
  if (unknown.length && p.mode === 'enforce') {
    throw new SandboxError('MECHANISM_UNAVAILABLE', `enforce mode cannot keep a deny glob through a link: ${shown.join('; ')}; make the link's folders exist or point it elsewhere, or use --mode warn`);
  }
  const links = [...new Set([...r.links, ...w.links])];
  if (!r.aliases.length && !w.aliases.length) return { policy: p, links, notes: shown };
  const fsp = p.filesystem;
  const linkedGlobs = { ...fsp.linkedGlobs, ...r.origins, ...w.origins };
  return { policy: { ...p, filesystem: { ...fsp, denyRead: [...fsp.denyRead, ...r.aliases], denyWrite: [...fsp.denyWrite, ...w.aliases], linkedGlobs } }, links, notes: shown };
}
