// One notification's emulation for the fallback tier (see supervisor-emulate.ts for why): the call is
// performed from the supervisor's own copy of the arguments, beneath the grant root, never continued.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Notification, NotifyCalls, TargetMemory } from '../../../native/linux/notify';
import type { FileOpCalls } from '../../../native/linux/notify-addfd';
import { grantsAllow, isUnder } from '../../policy';
import { globMayMatchBelow } from '../../policy/glob-kernel-paths';
import type { GlobMatcher } from '../../policy/glob-match';
import { carriesRuleInto, carvingGlobs, entryExists, fileWithoutRule, inGlobEntry, linkOnGlobWay, linkOutOfReach, movedOntoGlobWay, renameCarriesMatches, sameInHostView } from './supervisor-emulate-globs';
import type { SupervisedRun } from './supervisor-protocol';
import { setIdVerdict, type Verdict } from './supervisor-decide';
import { integrityAllows, integrityVerdict, policyVerdict, type EmulatedName, type WarnSide } from './supervisor-emulate-verdicts';
import { resolveComponents, targetSelfLinks } from './target-path';
import { linkInParents, openInParent, removeIfSame, renameAllowed } from './supervisor-emulate-perform';
// The script's credentials (dac.ts): what is performed for it never exceeds what the kernel would let it do.
import { credsOf, mayAccess, mayChangeDir, mayRemove, statAt, umaskOf, MAY_WRITE } from './dac';
import { AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, EACCES, EINVAL, EPERM, ENXIO, O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_TMPFILE, O_TRUNC, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS } from './supervisor-abi';

/** performOpen's fd for "not ours to open": the kernel decides (a read of something not a file or folder). */
const CONTINUE_TO_KERNEL = -1_000_000;

/** How the worker reports a refusal (a violation plus the errno: in enforce mode, or in any when `kept`). */
export type Refuse = (v: Verdict, errno: number, kept?: boolean) => void;

/** A name as the target wrote it, absolute (for messages), and physical (every link resolved as the kernel would). */
type Entry = EmulatedName;

/** One notification's emulation. */
export class OneCall {
  constructor(
    protected readonly n: NotifyCalls,
    protected readonly ops: FileOpCalls,
    protected readonly mem: TargetMemory,
    protected readonly r: SupervisedRun,
    protected readonly note: Notification,
    private readonly carved: Set<string>,
    private readonly made: Set<string>,
    protected readonly refuse: Refuse,
    protected readonly globs?: GlobMatcher,
    private readonly warn?: WarnSide,
  ) {}

  /** Warn mode: what enforce would block of this call, reported once the call is performed. */
  private readonly wouldBlock: Verdict[] = [];

  protected arg32(i: number): number {
    return Number(BigInt.asIntN(32, this.note.args[i]!));
  }

  /** Our copy of a path argument, resolved for the target; null when unreadable (the worker refuses then). */
  protected entry(dirfd: number, ptr: bigint, followLast: boolean): Entry | null {
    return this.entryOf(dirfd, this.mem.readString(this.note.pid, ptr), followLast);
  }

  /** entry() of a path already read (once) into our memory. */
  protected entryOf(dirfd: number, written: string | null, followLast: boolean): Entry | null {
    // A name that is not UTF-8 would be re-encoded on the way through JavaScript: not the same name.
    if (written === null || written.includes('\uFFFD') || written === '') return null;
    let base = '/';
    if (!written.startsWith('/')) {
      try {
        base = fs.readlinkSync(dirfd === AT_FDCWD ? `/proc/${this.note.pid}/cwd` : `/proc/${this.note.pid}/fd/${dirfd}`);
      } catch {
        return null;
      }
      if (!base.startsWith('/')) return null;
    }
    const root = `/proc/${this.note.pid}/root`;
    const resolved = resolveComponents(root, base, written, followLast, targetSelfLinks(this.note.pid));
    return resolved === null ? null : { written, abs: path.posix.resolve(base, written), resolved };
  }

  /** Below what the supervisor made, or in a deny glob's folder entry whose rule lacks `access` (inGlobEntry):
   *  Landlock gives no rule for it, the supervisor performs it. */
  private inMade(p: string, access: 'read' | 'write' = 'write'): boolean {
    for (const m of this.made) if (isUnder(p, m)) return true;
    return inGlobEntry(this.r, p, access, this.globs);
  }

  /** A name whose directory has no Landlock rule for creating or removing entries. */
  protected uncoveredName(p: string): boolean {
    return this.carved.has(path.posix.dirname(p)) || this.inMade(path.posix.dirname(p));
  }

  /** Refuses the call (EACCES unless said) when there is a verdict; whether it did. */
  protected refused(v: Verdict | null, errno = EACCES): boolean {
    if (v) this.refuse(v, errno);
    return v !== null;
  }

  /** Whether the call may be performed (null) or the verdict that refuses it: the policy's (policyVerdict) in
   *  enforce; in warn mode the integrity set's only. */
  protected decide(call: string, e: Entry, moves: boolean, access: 'read' | 'write' = 'write'): Verdict | null {
    if (!this.warn) return policyVerdict(this.r, call, e, moves, access, this.globs);
    // Warn: the integrity set is refused; anything else is performed, and what enforce would block reported.
    const would = policyVerdict(this.warn.policyRun, call, e, moves, access, this.globs);
    if (!integrityAllows(this.warn.kernel, e.resolved, access, moves)) return would ?? integrityVerdict(call, e);
    if (would) this.wouldBlock.push(would);
    return null;
  }

  /** Warn mode: the call was performed; what enforce would have blocked of it is reported now. */
  protected reportWouldBlock(): void {
    for (const v of this.wouldBlock.splice(0)) this.warn?.report(v);
  }

  protected unreadable(call: string): boolean {
    this.refuse({ kind: 'file', severity: 'warning', rule: 'unreadable-argument', what: call, why: 'its arguments could not be read from the process, so it was refused' }, EACCES);
    return true;
  }

  protected answer(res: number): void {
    this.n.respond(this.r.listener, this.note.id, res < 0 ? { error: -res } : { val: BigInt(res) });
  }

  /**
   * The directory holding `p`, opened beneath the write grant that contains it. RESOLVE_NO_SYMLINKS, not
   * just RESOLVE_BENEATH: `p` was resolved and decided as a physical path, so a link met now means the tree
   * changed after the decision (a planted `h -> .git/hooks` that BENEATH alone would follow, staying inside
   * the root); the call then fails (ELOOP) instead of landing somewhere undecided.
   */
  private openParent(p: string, right: 'write_file' | 'read_file' = 'write_file'): number {
    const roots = this.r.grants.filter((g) => g.access.includes(right)).flatMap((g) => g.paths).filter((root) => isUnder(p, root) && p !== root);
    if (roots.length === 0) return -EACCES;
    const root = roots.sort((a, b) => b.length - a.length)[0]!;
    const rootFd = this.n.openat2(AT_FDCWD, root, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_NO_MAGICLINKS);
    if (rootFd < 0) return rootFd;
    try {
      const rel = path.posix.relative(root, path.posix.dirname(p)) || '.';
      return this.n.openat2(rootFd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    } finally {
      this.n.close(rootFd);
    }
  }

  open(name: string): boolean {
    let dirfd = AT_FDCWD;
    let pathArg = 0;
    let flags: number;
    let mode: number;
    if (name === 'openat' || name === 'openat2') {
      dirfd = this.arg32(0);
      pathArg = 1;
    }
    if (name === 'openat2') {
      const how = this.mem.readExact(this.note.pid, this.note.args[2]!, 24);
      if (!how) return this.unreadable(name);
      flags = Number(how.readBigUInt64LE(0) & 0xffffffffn);
      // The target's own RESOLVE_* restrictions are not reproduced: such a creation in a carved directory is
      // refused, saying why; anything else is left to the worker (and Landlock).
      if (how.readBigUInt64LE(16) !== 0n) return (flags & O_CREAT) !== 0 && this.declined(name, this.entry(this.arg32(0), this.note.args[1]!, true));
      mode = Number(how.readBigUInt64LE(8) & 0o7777n);
      if ((mode & 0o6000) !== 0) return this.refused(setIdVerdict(name), EPERM); // set-id-rules.ts has the other opens
    } else if (name === 'creat') {
      flags = 0o1101;
      mode = Number(this.note.args[1]! & 0o7777n);
    } else {
      flags = Number(this.note.args[name === 'open' ? 1 : 2]! & 0xffffffffn);
      mode = Number(this.note.args[name === 'open' ? 2 : 3]! & 0o7777n);
    }
    const write = (flags & O_ACCMODE) !== 0 || (flags & (O_CREAT | O_TRUNC)) !== 0;
    // Read opens reach the supervisor in enforce mode only for this emulation (compile-plan.ts) unless the
    // policy reports reads: for any other path they go on under Landlock, as an unsupervised open would.
    const readsForUs = !write && !this.r.policy.filesystem.reportReads;
    const pass = (): boolean => {
      if (!readsForUs) return false;
      this.n.respond(this.r.listener, this.note.id, { continue: true });
      return true;
    };
    // Deny-read globs that are not subtrees: their directories are carved for reading (globNewNameCuts).
    const denyReadGlobs = carvingGlobs(this.r.policy, 'read');
    // Nothing made yet and nothing carved for reading: no read can need the emulation, and the path need not
    // even be read (the common case).
    if ((!write && this.made.size === 0 && denyReadGlobs.length === 0) || (flags & O_TMPFILE) === O_TMPFILE || (flags & O_PATH) !== 0) return pass();
    // Nothing made or carved (the namespace tier's usual case): the worker decides, without a second path walk.
    if (write && this.made.size === 0 && this.carved.size === 0) return false;
    const e = this.entry(dirfd, this.note.args[pathArg]!, (flags & O_NOFOLLOW) === 0);
    // Going on is safe for a read: Landlock gives a new name in a carved directory no read right.
    if (!e) return pass();
    if (!write) {
      if (!this.inMade(e.resolved, 'read') && !this.readCarved(e.resolved, denyReadGlobs)) return pass();
      if (this.refused(this.decide(name, e, false, 'read'))) return true;
      return this.performOpen(e, flags, 0, false);
    }
    const exists = entryExists(e.resolved);
    // Landlock covers existing names in carved directories (the snapshot) and everything below them, but for
    // files in a deny glob's folders (fileWithoutRule); what the supervisor made, and new names, it does not.
    const uncovered = !exists ? (flags & O_CREAT) !== 0 && this.carved.has(path.posix.dirname(e.resolved)) : fileWithoutRule(this.r, e.resolved, 'write');
    if (!this.inMade(e.resolved) && !uncovered) return false;
    if (this.refused(this.decide(name, e, false))) return true;
    return this.performOpen(e, flags, mode, true);
  }

  /**
   * A name on a deny-read glob's way whose directory is carved for reading: Landlock reads only subfolders
   * that existed at the start, so a file there (a name made since, by anyone, or one renamed since) is read
   * through the emulation, or not at all.
   */
  private readCarved(p: string, denyReadGlobs: string[]): boolean {
    const dir = path.posix.dirname(p);
    if (!sameInHostView(this.r, p) || !denyReadGlobs.some((g) => globMayMatchBelow(dir, g, this.globs)) || !grantsAllow(this.r.grants, p, 'read', true)) return false;
    return !grantsAllow(this.r.grants, p, 'read', false) || fileWithoutRule(this.r, p, 'read');
  }

  /** Opens `e` beneath its grant with the target's flags plus O_NOFOLLOW and installs the fd in the target. */
  private performOpen(e: Entry, flags: number, mode: number, write: boolean): boolean {
    if (!this.n.idValid(this.r.listener, this.note.id)) return true;
    const parent = this.openParent(e.resolved, write ? 'write_file' : 'read_file');
    if (parent < 0) {
      this.answer(parent);
      return true;
    }
    const base = path.posix.basename(e.resolved);
    try {
      // Never waits on a FIFO (one moved into a carved folder stalled the supervisor): non-blocking, then checked.
      const opened = openInParent(this.n, this.ops, parent, base, flags | O_NONBLOCK, credsOf(this.note.pid));
      const made = opened.fd >= 0 && opened.created ? fs.fstatSync(opened.fd) : null;
      const fd = this.plainObject(opened.fd, flags, write);
      if (fd === CONTINUE_TO_KERNEL) {
        // Not a file or directory (a FIFO, a socket, a device): the kernel decides; Landlock gives a name made
        // since the start no read right here, and the glob's matches at the start are carve-outs.
        this.n.respond(this.r.listener, this.note.id, { continue: true });
        return true;
      }
      // The mode last, on the fd the script gets: a file created 0444 still opens for writing, as in the kernel.
      if (fd >= 0 && made) this.ops.fchmod(fd, mode & ~umaskOf(this.note.pid) /* the target's, not ours */ & 0o7777);
      // Installs the fd, then answers with its number (FileOpCalls.addfd says why not in one step).
      const installed = fd < 0 ? fd : this.ops.addfd(this.r.listener, this.note.id, fd, (flags & O_CLOEXEC) !== 0);
      if (fd >= 0) this.n.close(fd);
      // A create that fails after all (its reopen, a full fd table: EMFILE) leaves nothing, as the kernel's.
      if (made && installed < 0) removeIfSame(this.ops, parent, base, made);
      else if (made) this.made.add(e.resolved);
      if (installed >= 0) this.reportWouldBlock();
      this.answer(installed);
      return true;
    } finally {
      this.n.close(parent);
    }
  }

  /** The fd if a file or directory, reopened (same inode) without an O_NONBLOCK the target did not ask for; else
   *  closed: a read goes on to the kernel (CONTINUE_TO_KERNEL), a write is refused, as Landlock would. */
  private plainObject(fd: number, flags: number, write: boolean): number {
    if (fd < 0) return write && fd === -ENXIO ? -EACCES : fd; // a FIFO with no reader (O_NONBLOCK), a socket
    const st = fs.fstatSync(fd);
    if (!st.isFile() && !st.isDirectory()) {
      this.n.close(fd);
      return write ? -EACCES : CONTINUE_TO_KERNEL;
    }
    if ((flags & O_NONBLOCK) !== 0) return fd;
    const again = this.ops.openat(AT_FDCWD, `/proc/self/fd/${fd}`, (flags & ~(O_CREAT | O_TRUNC | O_NOFOLLOW)) | O_CLOEXEC, 0);
    this.n.close(fd);
    return again;
  }

  mkdir(name: string): boolean {
    const at = name === 'mkdirat';
    const e = this.entry(at ? this.arg32(0) : AT_FDCWD, this.note.args[at ? 1 : 0]!, false);
    if (!e || !this.uncoveredName(e.resolved)) return false;
    if (this.refused(this.decide(name, e, false))) return true;
    const mode = Number(this.note.args[at ? 2 : 1]! & 0o7777n);
    return this.perform([e.resolved], (fds) => {
      const base = path.posix.basename(e.resolved);
      const c = credsOf(this.note.pid);
      if (!c || !mayChangeDir(fs.fstatSync(fds[0]!), c)) return -EACCES;
      const res = this.ops.mkdirat(fds[0]!, base, 0o700);
      if (res === 0) {
        this.ops.chmodMade(fds[0]!, base, mode & ~umaskOf(this.note.pid) /* the target's, not ours */ & 0o7777, 'dir');
        this.made.add(e.resolved);
      }
      return res;
    });
  }

  unlink(name: string): boolean {
    const at = name === 'unlinkat';
    const e = this.entry(at ? this.arg32(0) : AT_FDCWD, this.note.args[at ? 1 : 0]!, false);
    if (!e || !this.uncoveredName(e.resolved)) return false;
    if (this.refused(this.decide(name, e, true))) return true;
    const flags = name === 'rmdir' ? AT_REMOVEDIR : at ? this.arg32(2) & AT_REMOVEDIR : 0;
    return this.perform([e.resolved], (fds) => {
      const base = path.posix.basename(e.resolved);
      const c = credsOf(this.note.pid);
      const entry = statAt(fds[0]!, base);
      if (!c || (entry && !mayRemove(fs.fstatSync(fds[0]!), entry, c))) return -EACCES;
      return this.ops.unlinkat(fds[0]!, base, flags);
    });
  }

  rename(name: string): boolean {
    const two = name === 'rename';
    const from = this.entry(two ? AT_FDCWD : this.arg32(0), this.note.args[two ? 0 : 1]!, false);
    const to = this.entry(two ? AT_FDCWD : this.arg32(2), this.note.args[two ? 1 : 3]!, false);
    if (!from || !to) return false;
    if (!this.uncoveredName(from.resolved) && !this.uncoveredName(to.resolved)) return false;
    const flags = name === 'renameat2' ? this.arg32(4) >>> 0 : 0;
    const settled = this.uncoveredName(from.resolved) && this.uncoveredName(to.resolved);
    const [exchange, into] = [(flags & 2) !== 0, (a: Entry, b: Entry) => carriesRuleInto(this.r, name, a, b, this.globs) ?? movedOntoGlobWay(this.r, name, a, b, this.globs)];
    if (this.refused(this.decide(name, from, true) ?? this.decide(name, to, true) ?? into(from, to) ?? (exchange ? into(to, from) : null) ?? renameCarriesMatches(this.r.policy, name, from, to, exchange, settled, this.globs))) return true;
    // Only RENAME_NOREPLACE and RENAME_EXCHANGE: RENAME_WHITEOUT needs CAP_MKNOD the script does not have.
    if ((flags & ~3) !== 0) {
      this.answer(-EINVAL);
      return true;
    }
    return this.perform([from.resolved, to.resolved], (fds) => {
      const [fromBase, toBase] = [path.posix.basename(from.resolved), path.posix.basename(to.resolved)];
      if (!renameAllowed(fds[0]!, fromBase, fds[1]!, toBase, flags, credsOf(this.note.pid))) return -EACCES;
      const res = this.ops.renameat2(fds[0]!, fromBase, fds[1]!, toBase, flags);
      if (res === 0) this.made.add(to.resolved);
      if (res === 0 && (flags & 2) !== 0) this.made.add(from.resolved);
      return res;
    });
  }

  link(name: string): boolean {
    const at = name === 'linkat';
    const flags = at ? this.arg32(4) : 0;
    if ((flags & AT_EMPTY_PATH) !== 0) return this.declined(name, this.entry(this.arg32(2), this.note.args[3]!, false));
    const from = this.entry(at ? this.arg32(0) : AT_FDCWD, this.note.args[at ? 1 : 0]!, (flags & AT_SYMLINK_FOLLOW) !== 0);
    const to = this.entry(at ? this.arg32(2) : AT_FDCWD, this.note.args[at ? 3 : 1]!, false);
    if (!from || !to) return false;
    if (!this.uncoveredName(to.resolved) && !this.inMade(path.posix.dirname(from.resolved))) return false; // from a folder with no refer right too
    // A second name for a protected file would be an unprotected way to write it: the source is decided too.
    // The new name as a move: a link (of a symlink) at a folder on the way to a protected path would lead it elsewhere.
    if (this.refused(this.decide(name, from, false) ?? this.decide(name, to, true) ?? linkOutOfReach(this.r, name, from, to, this.globs) ?? linkOnGlobWay(this.r, name, to, this.globs))) return true;
    return this.perform([from.resolved, to.resolved], (fds) => {
      const res = linkInParents(this.n, this.ops, fds[0]!, path.posix.basename(from.resolved), fds[1]!, path.posix.basename(to.resolved), credsOf(this.note.pid));
      if (res === 0) this.made.add(to.resolved);
      return res;
    });
  }

  /**
   * A call the emulation does not perform, on a name in a carved directory that the policy allows: refused
   * with the real reason (the tier), not the misleading "outside what the profile grants". false: not such
   * a name, the worker decides as before.
   */
  private declined(call: string, e: Entry | null): boolean {
    if (!e || !this.uncoveredName(e.resolved) || this.decide(call, e, false)) return false;
    this.refuse(
      {
        kind: 'file',
        severity: 'warning',
        rule: this.r.fileTier === 'fallback' ? 'fallback-tier' : 'supervised-folder',
        what: `${call} of ${e.written}`,
        why: `the supervisor cannot perform ${call} with these flags in ${path.posix.dirname(e.resolved)}, where Landlock leaves such calls to it (protected entries or a deny glob's folder)${this.r.fileTier === 'fallback' ? '; enable user namespaces for the namespace tier' : ''}`,
        path: e.written,
        resolvedPath: e.resolved,
      },
      EACCES,
    );
    return true;
  }

  /** truncate(2) of what the supervisor made or a file in a deny glob's folder (no Landlock rule): done here. */
  truncate(name: string): boolean {
    const e = this.entry(AT_FDCWD, this.note.args[0]!, true);
    if (!e || !(this.inMade(e.resolved) || fileWithoutRule(this.r, e.resolved, 'write'))) return false;
    if (this.refused(this.decide(name, e, false))) return true;
    const length = BigInt.asIntN(64, this.note.args[1]!);
    return this.perform([e.resolved], (fds) => {
      const fd = this.ops.openat(fds[0]!, path.posix.basename(e.resolved), 1 /* O_WRONLY */ | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
      if (fd < 0) return fd;
      const c = credsOf(this.note.pid);
      if (!c || !mayAccess(fs.fstatSync(fd), c, MAY_WRITE)) {
        this.n.close(fd);
        return -EACCES;
      }
      const res = this.ops.ftruncate(fd, length);
      this.n.close(fd);
      return res;
    });
  }

  /** Opens each path's parent beneath its grant, runs `op` on them, answers with its result. */
  protected perform(paths: string[], op: (parents: number[]) => number): boolean {
    if (!this.n.idValid(this.r.listener, this.note.id)) return true;
    const fds: number[] = [];
    try {
      for (const p of paths) {
        const fd = this.openParent(p);
        if (fd < 0) {
          this.answer(fd);
          return true;
        }
        fds.push(fd);
      }
      const res = op(fds);
      if (res >= 0) this.reportWouldBlock(); // a call that fails anyway (EEXIST of mkdir -p) blocked nothing
      this.answer(res);
    } finally {
      fds.forEach((fd) => this.n.close(fd));
    }
    return true;
  }
}
