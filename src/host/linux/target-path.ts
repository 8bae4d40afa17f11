// Path resolution as the kernel's path walk does it, seen through another process's root
// (/proc/<pid>/root): each component is looked up where it stands, `..` goes to the parent of what was
// reached, a symlink is replaced by its target (absolute targets start again at the root). Never lexical.
// procfs's self links answer for whoever reads them, so they are asked of the target, not read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PathKind, PathProbe, PathProbeAt } from '../../../native/linux/path-probe';

/**
 * The target's own answer for procfs's `self` and `thread-self` links (`<tgid>`, `<tgid>/task/<tid>` in its
 * pid namespace): read through the root they would answer for the reader, the supervisor.
 */
export type SelfLinks = (which: 'self' | 'thread-self') => string | null;

/** The walk's questions through node:fs: every error is a miss, as the raw probe answers them. */
export const nodeFsProbe: PathProbe = {
  kind(p) {
    let st: fs.Stats | undefined;
    try {
      // A missing name (a file about to be created) is the common miss: no exception built for it.
      st = fs.lstatSync(p, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    return !st ? 'missing' : st.isSymbolicLink() ? 'link' : 'other';
  },
  readlink(p) {
    try {
      return fs.readlinkSync(p);
    } catch {
      return null;
    }
  },
};

/**
 * The target's file tree, asked by absolute paths in its own view (a `/`-led path that is not `/` itself):
 * through /proc/<pid>/root as a path prefix, or from an fd of that root (TargetRoot).
 */
export interface TargetTree {
  kind(abs: string): PathKind;
  readlink(abs: string): string | null;
}

/** The target's tree through a path prefix, its root link /proc/<pid>/root (`root` may be pointed elsewhere). */
export class RootLinkTree implements TargetTree {
  constructor(
    private readonly probe: PathProbe = nodeFsProbe,
    public root = '/',
  ) {}
  kind(abs: string): PathKind {
    return this.probe.kind(this.root + abs);
  }
  readlink(abs: string): string | null {
    return this.probe.readlink(this.root + abs);
  }
}

/** The target's tree looked up from an fd of its root (`fd` may be pointed elsewhere): `/a/b` is `a/b` there. */
export class RootFdTree implements TargetTree {
  constructor(
    private readonly probe: PathProbeAt,
    public fd = -1,
  ) {}
  private rel(abs: string): string {
    let i = 0;
    while (abs.charCodeAt(i) === 47 /* / */) i++;
    return i === abs.length ? '.' : abs.slice(i);
  }
  kind(abs: string): PathKind {
    return this.probe.kindAt(this.fd, this.rel(abs));
  }
  readlink(abs: string): string | null {
    return this.probe.readlinkAt(this.fd, this.rel(abs));
  }
}

/**
 * Walks `p` from `base` (both in the target's view, seen through `root`), as the kernel's path walk does:
 * `..` goes to the parent of what was reached so far, a symlink is replaced by its target where it stands.
 * Past the first component that does not exist the rest is joined as text (the kernel fails there anyway).
 * null: a link on the way could not be read (a magic link of a process we may not inspect), so the path the
 * kernel will reach is unknown. `probe` asks the disk (the supervisor's worker passes libc's calls, see
 * native/linux/path-probe.ts; both answer alike).
 */
export function resolveComponents(root: string, base: string, p: string, followLast: boolean, self?: SelfLinks, probe: PathProbe = nodeFsProbe): string | null {
  return resolveInTree(new RootLinkTree(probe, root), base, p, followLast, self);
}

/** resolveComponents over any view of the target's tree (the supervisor's worker passes a TargetRoot). */
export function resolveInTree(tree: TargetTree, base: string, p: string, followLast: boolean, self?: SelfLinks): string | null {
  // One plain name from the cwd or a dirfd (`file.txt`), the common supervised open: the walk below without
  // its arrays. A link to follow goes on to the walk, which asks again.
  if (p.indexOf('/') === -1 && p !== '' && p !== '.' && p !== '..') {
    const next = base === '/' ? `/${p}` : `${base}/${p}`;
    const kind = tree.kind(next);
    if (kind === 'missing') return path.posix.join(next);
    if (kind === 'other' || !followLast) return next;
  }
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
    const kind = tree.kind(next);
    if (kind === 'missing') return path.posix.join(next, ...rest);
    if (kind === 'link' && (rest.length > 0 || followLast)) {
      if (++links > 40) return path.posix.join(next, ...rest); // ELOOP in the kernel
      let target: string | null;
      if (self && (next === '/proc/self' || next === '/proc/thread-self')) {
        target = self(next === '/proc/self' ? 'self' : 'thread-self');
      } else {
        target = tree.readlink(next);
      }
      if (target === null) return null;
      if (target.startsWith('/')) cur = '/';
      rest.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    cur = next;
  }
  return cur;
}

/** A target thread's ids in its own pid namespace (host-view tid in), from /proc/<tid>/status; null: gone. */
export function targetIds(tid: number): { tgid: string; tid: string } | null {
  try {
    const status = fs.readFileSync(`/proc/${tid}/status`, 'utf8');
    // NStgid/NSpid list the ids from the outermost namespace in; the last is the target's own view.
    const last = (key: string) => new RegExp(`^${key}:[ \\t]+([\\d \\t]+)$`, 'm').exec(status)?.[1]?.trim().split(/[ \t]+/).pop() ?? null;
    const g = last('NStgid');
    const t = last('NSpid');
    return g && t ? { tgid: g, tid: t } : null;
  } catch {
    return null;
  }
}

/** SelfLinks for a target thread (host-view tid), its ids read once, when a walk first meets a self link. */
export function targetSelfLinks(tid: number): SelfLinks {
  let ids: { tgid: string; tid: string } | null | undefined;
  return (which) => {
    if (ids === undefined) ids = targetIds(tid);
    if (!ids) return null;
    return which === 'self' ? ids.tgid : `${ids.tgid}/task/${ids.tid}`;
  };
}

/**
 * The walk ended on one of the target's own fds that is no file (`/dev/stdout` is /proc/self/fd/1, a pipe or
 * socket the host gave it): reopening it reaches an object the script already holds, which no path rule
 * covers (Landlock lets such opens of internal filesystems through too). Another process's fds never count.
 */
export function isOwnFdObject(resolved: string, tid: number): boolean {
  const m = /^\/proc\/(\d+)\/(?:task\/\d+\/)?fd\/(?:pipe|socket):\[\d+\]$/.exec(resolved);
  return !!m && targetIds(tid)?.tgid === m[1];
}
