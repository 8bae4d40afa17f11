// The supervisor's file calls: opens and the calls that create, move or remove names. Each is decided on our
// own copy of the path, resolved the way the kernel will resolve it for the target; an allowed call goes on
// under Landlock, which stays the boundary.
import * as path from 'node:path';
import type { Notification } from '../../../native/linux/notify';
import { loadPathProbe } from '../../../native/linux/path-probe';
import { decideFile, setIdVerdict } from './supervisor-decide';
import { isOwnFdObject, resolveInTree, RootFdTree, RootLinkTree, targetSelfLinks, type TargetTree } from './target-path';
import { unreadable, type Answering, type RunState } from './supervisor-answer';
import { EACCES, EPERM, AT_FDCWD, O_ACCMODE, O_CREAT, O_TRUNC } from './supervisor-abi';

/**
 * The path argument as a string, or null when it cannot be read exactly: bytes that are not UTF-8 decode to
 * U+FFFD, which names another file (or none), so a decision on it would be about a name the kernel never
 * sees (red team: a link named \xff to `.` carried a write past a deny glob).
 */
function readPath(s: Answering, note: Notification, arg: number): string | null {
  const written = s.mem.readString(note.pid, note.args[arg]!);
  return written === null || written.includes('\uFFFD') ? null : written;
}

export class FileCalls {
  /** The walk's disk questions as bare libc calls (no exceptions, no Stats objects on the hot path). */
  private readonly probe = loadPathProbe();

  constructor(private readonly s: Answering) {}

  onOpen(r: RunState, note: Notification, name: string): void {
    let dirfd = AT_FDCWD;
    let pathArg = 0;
    let flags: number;
    if (name === 'openat' || name === 'openat2') {
      dirfd = Number(BigInt.asIntN(32, note.args[0]!));
      pathArg = 1;
    }
    if (name === 'openat2') {
      const how = this.s.mem.readExact(note.pid, note.args[2]!, 16);
      if (!how) return this.s.refuse(r, note, name, unreadable(name, 'file'), EACCES);
      flags = Number(how.readBigUInt64LE(0) & 0xffffffffn);
      // The mode the filter cannot read (seccomp/set-id-rules.ts): no set-ID file, in any mode.
      if ((how.readBigUInt64LE(8) & 0o6000n) !== 0n) return this.s.refuse(r, note, name, setIdVerdict(name), EPERM, true);
    } else if (name === 'creat') flags = 0o1101;
    else flags = Number(note.args[name === 'open' ? 1 : 2]! & 0xffffffffn);
    const written = readPath(this.s, note, pathArg);
    // Fail closed: a path we cannot read (a non-dumpable process, a bad pointer) is refused, never let through.
    if (written === null) return this.s.refuse(r, note, name, unreadable(name, 'file'), EACCES);
    const write = (flags & O_ACCMODE) !== 0 || (flags & (O_CREAT | O_TRUNC)) !== 0;
    this.checkPath(r, note, name, written, dirfd, write ? 'write' : 'read');
  }

  /** Path arguments per call: [dirfd arg or -1, path arg], and whether the call moves or removes it. */
  static readonly PATH_ARGS: Record<string, { paths: Array<[number, number]>; moves: boolean }> = {
    unlink: { paths: [[-1, 0]], moves: true },
    unlinkat: { paths: [[0, 1]], moves: true },
    rmdir: { paths: [[-1, 0]], moves: true },
    mkdir: { paths: [[-1, 0]], moves: false },
    mkdirat: { paths: [[0, 1]], moves: false },
    rename: { paths: [[-1, 0], [-1, 1]], moves: true },
    renameat: { paths: [[0, 1], [2, 3]], moves: true },
    renameat2: { paths: [[0, 1], [2, 3]], moves: true },
    // link: the source matters (a second name for a protected file), and the new name.
    link: { paths: [[-1, 0], [-1, 1]], moves: false },
    linkat: { paths: [[0, 1], [2, 3]], moves: false },
    truncate: { paths: [[-1, 0]], moves: false },
    // The new name only: a link's target is text, decided when something opens through it.
    symlink: { paths: [[-1, 1]], moves: false },
    symlinkat: { paths: [[1, 2]], moves: false },
    mknod: { paths: [[-1, 0]], moves: false },
    mknodat: { paths: [[0, 1]], moves: false },
  };

  onPathWrite(r: RunState, note: Notification, name: string): void {
    const spec = FileCalls.PATH_ARGS[name]!;
    for (const [dirArg, pathArg] of spec.paths) {
      const dirfd = dirArg < 0 ? AT_FDCWD : Number(BigInt.asIntN(32, note.args[dirArg]!));
      const written = readPath(this.s, note, pathArg);
      if (written === null) return this.s.refuse(r, note, name, unreadable(name, 'file'), EACCES);
      // These calls act on the last component itself (unlinking a symlink does not touch its target), so it
      // is not followed; truncate follows links.
      const at = this.resolveFor(r, note, dirfd, written, name === 'truncate');
      if (!at) return this.s.refuse(r, note, name, unreadable(name, 'file'), EACCES);
      const verdict = decideFile(r, written, at.abs, at.resolved, 'write', spec.moves, r.allowedFiles);
      if (verdict) return this.s.refuse(r, note, name, verdict, EACCES);
    }
    this.s.cont(r, note);
  }

  checkPath(r: RunState, note: Notification, name: string, written: string, dirfd: number, access: 'read' | 'write'): void {
    const at = this.resolveFor(r, note, dirfd, written, true);
    if (!at) return this.s.refuse(r, note, name, unreadable(name, 'file'), EACCES);
    if (isOwnFdObject(at.resolved, note.pid)) return this.s.cont(r, note);
    const verdict = decideFile(r, written, at.abs, at.resolved, access, false, r.allowedFiles);
    if (!verdict) return this.s.cont(r, note);
    // Deciding on our own copy of the path and denying outright is race-free; an allowed open continues
    // under Landlock, which stays the boundary.
    this.s.refuse(r, note, name, verdict, EACCES);
  }

  /**
   * The path as written made absolute (for messages), and the path the kernel will reach: resolved inside
   * the target's root, from its cwd or dirfd, one component at a time, following each link where it stands
   * (so `lnk/../x` with `lnk -> .git/hooks` is `.git/x`, not `x`). null when the target's view cannot be read.
   */
  resolveFor(r: RunState, note: Notification, dirfd: number, p: string, followLast: boolean): { abs: string; resolved: string } | null {
    const pid = note.pid;
    let base = '/';
    if (!p.startsWith('/')) {
      const link = this.procLink(r, pid, dirfd === AT_FDCWD ? 'cwd' : `fd/${dirfd}`);
      if (link === null) return null;
      if (!link.startsWith('/')) return null; // a dirfd that is no directory (pipe:[…]): nothing to resolve
      base = link;
    }
    // A plain name needs no normalising (the kernel's cwd and fd links are canonical paths).
    const abs = p.indexOf('/') === -1 && p !== '' && p !== '.' && p !== '..' ? (base === '/' ? `/${p}` : `${base}/${p}`) : path.resolve(base, p);
    const root = `/proc/${pid}/root`;
    // The root link is checked as the cwd link was (the same ptrace access check, the same task->fs), so
    // after reading the cwd it is not asked again.
    if ((p.startsWith('/') || dirfd !== AT_FDCWD) && this.procLink(r, pid, 'root/', true) === null) return null;
    const resolved = resolveInTree(this.treeOf(r, note, root), base, p, followLast, targetSelfLinks(pid));
    return resolved === null ? null : { abs, resolved };
  }

  /**
   * A link of /proc/<pid> (`cwd`, `fd/<n>`), read from a cached fd of that directory: the same access check
   * on every read, without the procfs lookup of /proc/<pid> each time. `kindOnly`: whether the link can be
   * followed at all ('' when it can, null when not), for `root/`. Such an fd stays with the process it was
   * opened for and answers nothing once that process is gone, so a null from a cached fd is asked again of
   * /proc/<pid> as it is now (a pid reused within the run).
   */
  private procLink(r: RunState, pid: number, rel: string, kindOnly = false): string | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      let dfd = r.procDirs.get(pid);
      const fresh = dfd === undefined;
      if (dfd === undefined) {
        dfd = this.probe.openDir(`/proc/${pid}`);
        if (dfd < 0) return null;
        r.procDirs.set(pid, dfd);
      }
      const answer = kindOnly ? (this.probe.kindAt(dfd, rel) === 'missing' ? null : '') : this.probe.readlinkAt(dfd, rel);
      if (answer !== null || fresh) return answer;
      this.probe.close(dfd);
      r.procDirs.delete(pid);
    }
    return null;
  }

  /**
   * The target's tree for the walk. In enforce mode every process of a run has the run's root for good
   * (chroot, pivot_root, setns and new mount namespaces are refused), so it is opened once per run and each
   * component is looked up from that fd: the magic link /proc/<pid>/root costs a procfs lookup and an access
   * check per component. The access check stays, once per call, on the cwd, fd or root link above. In warn
   * mode those calls may go through, so the walk goes through the link each time, as before.
   */
  private treeOf(r: RunState, note: Notification, root: string): TargetTree {
    if (r.violation === 'refuse') {
      if (r.rootFd === undefined) {
        const fd = this.probe.openDir(root);
        // Opened from the caller's pid: only while the notification is pending is that pid the caller.
        if (fd >= 0 && this.s.n.idValid(r.listener, note.id)) r.rootFd = fd;
        else if (fd >= 0) this.probe.close(fd);
      }
      if (r.rootFd !== undefined) {
        this.atRoot.fd = r.rootFd;
        return this.atRoot;
      }
    }
    this.underRoot.root = root;
    return this.underRoot;
  }

  /** The two views of the target's tree, pointed at the call's root before each walk (no allocation per call). */
  private readonly atRoot = new RootFdTree(this.probe);
  private readonly underRoot = new RootLinkTree(this.probe);
}
