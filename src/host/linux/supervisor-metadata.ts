// The fallback tier's chmod, chown and utimes (no user namespaces, so no read-only mounts; Landlock does not
// mediate these calls). The filter sends them to the supervisor, which performs them itself from its own
// copy of the arguments, or refuses them (EPERM, reported):
// - the path is read once into our memory and resolved for the target (the last link followed unless the
//   call says not to); the decision is the policy's for a write there (warn mode: the integrity set's only,
//   what enforce would block reported); a mode or owner change of a non-directory with more than one name is
//   refused (another name could be a protected file);
// - performed on the physical path: its parent opened beneath the write grant with RESOLVE_NO_SYMLINKS, the
//   final name pinned O_PATH|O_NOFOLLOW, the call made on that pinned inode, never through a link the
//   decision did not resolve;
// - fd forms (fchmod, fchown, futimens, AT_EMPTY_PATH): on our copy of the target's fd (pidfd_getfd),
//   decided on its current path and inode;
// - the script's DAC emulated exactly: it holds no capabilities even as root (dac.ts), while a root host's
//   supervisor holds all of them.
// Extended attributes and file_setattr stay refused everywhere in this tier.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PERFORMED_METADATA_CALLS } from '../../../native/linux/seccomp/profile';
import { OneCall } from './supervisor-emulate-call';
import { isUnder } from '../../policy';
import { credsOf, mayAccess, MAY_WRITE, type Creds } from './dac';
import type { EmulatedName } from './supervisor-emulate-verdicts';
import type { Verdict } from './supervisor-decide';
import { AT_EMPTY_PATH, AT_FDCWD, EACCES, EBADF, EINVAL, EOPNOTSUPP, EPERM, O_CLOEXEC, O_NOFOLLOW, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS } from './supervisor-abi';

const ELOOP = 40;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_NOW = (1n << 30n) - 1n;
const UTIME_OMIT = (1n << 30n) - 2n;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IXGRP = 0o010;

/** The calls the supervisor performs in the fallback tier. */
export const PERFORMED_METADATA: ReadonlySet<string> = new Set(PERFORMED_METADATA_CALLS);

/** What a call changes: a mode, an owner (-1: unchanged), or times (null: now; [sec, nsec] with UTIME_*). */
type Change = { kind: 'mode'; mode: number } | { kind: 'owner'; uid: number; gid: number } | { kind: 'times'; times: [bigint, bigint][] | null };

/** The fields of an inode the rules read (fs.Stats). */
interface Node {
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
}

const inGroup = (c: Creds, gid: number): boolean => c.gid === gid || c.groups.includes(gid);

export class MetadataCall extends OneCall {
  /** Performs or refuses `name` (one of PERFORMED_METADATA); always answers. */
  metadata(name: string): boolean {
    const a = this.note.args;
    const mode = (i: number): Change => ({ kind: 'mode', mode: Number(a[i]! & 0o7777n) });
    const owner = (i: number): Change => ({ kind: 'owner', uid: this.arg32(i), gid: this.arg32(i + 1) });
    switch (name) {
      case 'chmod':
        return this.onPath(name, AT_FDCWD, this.read(0), true, mode(1));
      case 'fchmodat': // no flags argument: the kernel always follows
        return this.onPath(name, this.arg32(0), this.read(1), true, mode(2));
      case 'fchmodat2':
        return this.atForm(name, this.arg32(3), mode(2));
      case 'fchmod':
        return this.onFd(name, this.arg32(0), mode(1), false);
      case 'chown':
      case 'lchown':
        return this.onPath(name, AT_FDCWD, this.read(0), name === 'chown', owner(1));
      case 'fchown':
        return this.onFd(name, this.arg32(0), owner(1), false);
      case 'fchownat':
        return this.atForm(name, this.arg32(4), owner(2));
      case 'utime':
      case 'utimes':
      case 'futimesat': {
        const at = name === 'futimesat';
        const times = name === 'utime' ? this.utimbuf(a[1]!) : this.timevals(a[at ? 2 : 1]!);
        if (typeof times === 'number') return this.done(times);
        return this.onPath(name, at ? this.arg32(0) : AT_FDCWD, this.read(at ? 1 : 0), true, { kind: 'times', times });
      }
      case 'utimensat': {
        const times = this.timespecs(a[2]!);
        if (typeof times === 'number') return this.done(times);
        // A null path: the fd form (futimens), as the kernel reads it.
        if (a[1] === 0n) {
          if (this.arg32(0) === AT_FDCWD) return this.done(-14); // EFAULT: no fd, no path
          return (this.arg32(3) & ~AT_SYMLINK_NOFOLLOW) !== 0 ? this.done(-EINVAL) : this.onFd(name, this.arg32(0), { kind: 'times', times }, false);
        }
        return this.atForm(name, this.arg32(3), { kind: 'times', times });
      }
      default:
        return this.done(-EPERM);
    }
  }

  /** The path argument at `i`, read once into our memory (null: unreadable). */
  private read(i: number): string | null {
    return this.mem.readString(this.note.pid, this.note.args[i]!);
  }

  private done(res: number): boolean {
    if (this.n.idValid(this.r.listener, this.note.id)) this.answer(res);
    return true;
  }

  /** The *at forms with flags: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH (an empty path: the fd form). */
  private atForm(name: string, flags: number, change: Change): boolean {
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return this.done(-EINVAL);
    const dirfd = this.arg32(0);
    const written = this.read(1);
    if (written === '' && (flags & AT_EMPTY_PATH) !== 0) {
      // The working directory through AT_FDCWD: not emulated (rare), refused as before.
      if (dirfd === AT_FDCWD) return this.refuseWith(name, '(the working directory)', 'the supervisor does not perform this form (AT_FDCWD with AT_EMPTY_PATH)');
      return this.onFd(name, dirfd, change, true);
    }
    return this.onPath(name, dirfd, written, (flags & AT_SYMLINK_NOFOLLOW) === 0, change);
  }

  private refuseWith(call: string, written: string, why: string, resolved?: string): boolean {
    const v: Verdict = { kind: 'file', severity: 'error', rule: 'fallback-tier', what: `${call} of ${written}`, why, path: written, ...(resolved ? { resolvedPath: resolved } : {}) };
    this.refuse(v, EPERM);
    return true;
  }

  /** A change the supervisor does not make, refused saying why (otherwise false). */
  private otherNames(call: string, e: EmulatedName, st: Node, change: Change): boolean {
    const why = unsafeChange(st, e.resolved, change, this.keptInside(e.resolved));
    return why !== null && this.refuseWith(call, e.written, `${e.resolved}: ${why} (fallback tier: no user namespaces)`, e.resolved);
  }

  /** Whether a protected path lies strictly inside `p` (the run's, in their physical forms too). */
  private keptInside(p: string): boolean {
    const prot = [...(this.r.protected ?? []).map((x) => x.abs), ...(this.r.kernel?.protectedInWritable ?? []).map((x) => x.path), ...(this.r.kernel?.hidden ?? []).map((x) => x.path)];
    return prot.some((x) => x !== p && isUnder(x, p));
  }

  private onPath(name: string, dirfd: number, written: string | null, follow: boolean, change: Change): boolean {
    if (written === '') return this.done(-2 /* ENOENT */);
    const e = this.entryOf(dirfd, written, follow);
    if (!e) return this.refuseWith(name, written ?? '(unreadable)', 'its path could not be read from the process or resolved, so it was refused');
    const v = this.decide(name, e, false);
    if (v) {
      this.refuse(v, EPERM);
      return true;
    }
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(e.resolved);
    } catch {
      st = undefined;
    }
    if (st && this.otherNames(name, e, st, change)) return true;
    const writeRoots = this.r.grants.filter((g) => g.access.includes('write_file')).flatMap((g) => g.paths);
    // A grant's root itself, in no other grant (`tar -xf` of an archive with a `./` entry sets the workspace's
    // mode and times): pinned by its physical path, where the script can change nothing above it.
    if (writeRoots.includes(e.resolved) && !writeRoots.some((root) => root !== e.resolved && isUnder(e.resolved, root))) {
      if (!this.n.idValid(this.r.listener, this.note.id)) return true;
      const pin = this.n.openat2(AT_FDCWD, e.resolved, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
      if (pin < 0) return this.done(pin);
      try {
        const res = this.onPinned(pin, follow, change, e.resolved);
        if (res >= 0) this.reportWouldBlock();
        return this.done(res);
      } finally {
        this.n.close(pin);
      }
    }
    // Anything else: its parent opened beneath the grant with no symlinks (perform), the name pinned.
    return this.perform([e.resolved], ([parent]) => {
      const pin = this.n.openat2(parent!, path.posix.basename(e.resolved), O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
      if (pin < 0) return pin;
      try {
        return this.onPinned(pin, follow, change, e.resolved);
      } finally {
        this.n.close(pin);
      }
    });
  }

  /** The change on a name pinned O_PATH|O_NOFOLLOW where the decision resolved no link. */
  private onPinned(pin: number, follow: boolean, change: Change, p: string): number {
    const now = fs.fstatSync(pin);
    if ((now.mode & S_IFMT) === S_IFLNK) {
      // A link where the decision resolved none: the tree changed since; never followed.
      if (follow) return -ELOOP;
      if (change.kind === 'mode') return -EOPNOTSUPP; // what the kernel answers for a link's mode
    }
    // The checks made before, again on the inode pinned now (it may have changed since): refused unreported.
    if (unsafeChange(now, p, change, this.keptInside(p)) !== null) return -EPERM;
    return this.apply(pin, now, change);
  }

  /** Our copy of the target's fd, after making sure the notification (and so its pid) is still live; or -errno. */
  private ourCopy(fd: number): number {
    if (fd < 0) return -EBADF;
    let pidfd: number;
    try {
      // The thread group's leader: pidfd_open of another thread's id is EINVAL (rt22: Node's FileHandle.chmod
      // runs in libuv's pool), and every thread of the group shares the fd table.
      pidfd = this.n.pidfdOpen(threadGroupOf(this.note.pid));
    } catch {
      return -EBADF;
    }
    try {
      if (!this.n.idValid(this.r.listener, this.note.id)) return -EBADF;
      return this.n.pidfdGetfd(pidfd, fd);
    } catch {
      return -EBADF;
    } finally {
      this.n.close(pidfd);
    }
  }

  private onFd(name: string, fd: number, change: Change, pathForm: boolean): boolean {
    const ours = this.ourCopy(fd);
    if (ours < 0) return this.done(ours);
    try {
      // fchmod, fchown and futimens need a real open file; AT_EMPTY_PATH takes an O_PATH fd too.
      if (!pathForm) {
        const flags = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${ours}`, 'utf8'));
        if (!flags || (parseInt(flags[1]!, 8) & O_PATH) !== 0) return this.done(-EBADF);
      }
      let where: string;
      try {
        where = fs.readlinkSync(`/proc/self/fd/${ours}`);
      } catch {
        return this.refuseWith(name, `fd ${fd}`, 'the file it names could not be found, so it was refused');
      }
      // The file's current path, as the kernel names it: the decision is a write there.
      const e: EmulatedName = { written: where, abs: where, resolved: where };
      const v = this.decide(name, e, false);
      if (v) {
        this.refuse(v, EPERM);
        return true;
      }
      const st = fs.fstatSync(ours);
      if (this.otherNames(name, e, st, change)) return true; // on our copy's inode: no later re-check needed
      if ((st.mode & S_IFMT) === S_IFLNK && change.kind === 'mode') return this.done(-EOPNOTSUPP);
      if (!this.n.idValid(this.r.listener, this.note.id)) return true;
      this.reportWouldBlock();
      this.answer(this.apply(ours, st, change));
      return true;
    } finally {
      this.n.close(ours);
    }
  }

  /** The change on the inode `fd` holds, if the script itself could make it (its DAC, no capabilities). */
  private apply(fd: number, st: Node, change: Change): number {
    const c = credsOf(this.note.pid);
    if (!c) return -EPERM;
    const owner = st.uid === c.uid;
    switch (change.kind) {
      case 'mode': {
        if (!owner) return -EPERM;
        if (st.nlink > 1 && (st.mode & S_IFMT) !== S_IFDIR) return -EPERM; // gained a name since the check
        // A caller outside the file's group cannot set its set-group-ID bit (the kernel clears it, no error).
        return this.ops.chmodFd(fd, inGroup(c, st.gid) ? change.mode : change.mode & ~S_ISGID);
      }
      case 'owner': {
        const { uid, gid } = change;
        if (uid !== -1 && !(owner && uid === st.uid)) return -EPERM;
        if (gid !== -1 && !(owner && (gid === st.gid || inGroup(c, gid)))) return -EPERM;
        if (st.nlink > 1 && (st.mode & S_IFMT) !== S_IFDIR) return -EPERM;
        // What the kernel clears on a non-directory for a caller without CAP_FSETID (setattr_should_drop_sgid):
        // the supervisor may hold that capability, so it clears them itself, before the change.
        let kill = 0;
        if ((st.mode & S_IFMT) !== S_IFDIR) {
          if ((st.mode & S_ISUID) !== 0) kill |= S_ISUID;
          if ((st.mode & S_ISGID) !== 0 && ((st.mode & S_IXGRP) !== 0 || !inGroup(c, st.gid))) kill |= S_ISGID;
        }
        if (kill !== 0) {
          if (!owner) return -EPERM; // the mode change the kill implies needs the owner
          let m = st.mode & 0o7777 & ~kill;
          if (!inGroup(c, gid !== -1 ? gid : st.gid)) m &= ~S_ISGID;
          const res = this.ops.chmodFd(fd, m);
          if (res < 0) return res;
        }
        if (uid === -1 && gid === -1) return 0;
        return this.ops.chownFd(fd, uid, gid);
      }
      case 'times': {
        const t = change.times;
        const omit = t !== null && t[0]![1] === UTIME_OMIT && t[1]![1] === UTIME_OMIT;
        const now = t === null || (t[0]![1] === UTIME_NOW && t[1]![1] === UTIME_NOW);
        // Both omitted: nothing to check. Now: the owner or a writer. Any explicit time (or one omitted): the owner.
        if (!omit && !owner) {
          if (!now) return -EPERM;
          if (!mayAccess(st, c, MAY_WRITE)) return -EACCES;
        }
        return this.ops.utimesFd(fd, now ? null : t);
      }
    }
  }

  /** utime's struct utimbuf {actime, modtime} (seconds); null pointer: now. A number: -errno. */
  private utimbuf(ptr: bigint): [bigint, bigint][] | null | number {
    if (ptr === 0n) return null;
    const b = this.mem.readExact(this.note.pid, ptr, 16);
    if (!b) return -14; // EFAULT
    return [
      [b.readBigInt64LE(0), 0n],
      [b.readBigInt64LE(8), 0n],
    ];
  }

  /** utimes/futimesat's struct timeval[2]; microseconds outside 0..999999 are EINVAL. */
  private timevals(ptr: bigint): [bigint, bigint][] | null | number {
    if (ptr === 0n) return null;
    const b = this.mem.readExact(this.note.pid, ptr, 32);
    if (!b) return -14;
    const out: [bigint, bigint][] = [];
    for (const off of [0, 16]) {
      const usec = b.readBigInt64LE(off + 8);
      if (usec < 0n || usec >= 1_000_000n) return -EINVAL;
      out.push([b.readBigInt64LE(off), usec * 1000n]);
    }
    return out;
  }

  /** utimensat's struct timespec[2]; nanoseconds must be 0..999999999, UTIME_NOW or UTIME_OMIT. */
  private timespecs(ptr: bigint): [bigint, bigint][] | null | number {
    if (ptr === 0n) return null;
    const b = this.mem.readExact(this.note.pid, ptr, 32);
    if (!b) return -14;
    const out: [bigint, bigint][] = [];
    for (const off of [0, 16]) {
      const nsec = b.readBigInt64LE(off + 8);
      if (nsec !== UTIME_NOW && nsec !== UTIME_OMIT && (nsec < 0n || nsec > 999_999_999n)) return -EINVAL;
      out.push([b.readBigInt64LE(off), nsec]);
    }
    return out;
  }
}

const S_ISVTX = 0o1000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** The folders of shared temporary space themselves: their mode and times are the system's, not a run's. */
const SHARED_ROOTS: readonly string[] = ['/tmp', '/var/tmp', '/dev/shm'];

/**
 * Why the supervisor refuses a change it could make for the script (null: none), red team rt22: a device
 * (the host's /dev/null, a terminal); a file with other names (one could be protected); a
 * set-user-ID or set-group-ID file (left behind by a root script, a way in for every user of the machine); a
 * folder holding a protected path made writable by others, or a sticky folder made not sticky (others could
 * move the protected path away and put their own); the shared temp folders themselves.
 */
export function unsafeChange(st: Node, p: string, change: Change, keptInside: boolean): string | null {
  const type = st.mode & S_IFMT;
  if (type === S_IFCHR || type === S_IFBLK) return 'a device (the host\'s /dev/null, a terminal): the supervisor changes no device\'s metadata';
  if (SHARED_ROOTS.includes(p)) return 'a shared temporary folder itself: its mode and times are the system\'s';
  if (type !== S_IFDIR && st.nlink > 1) return `a file with ${st.nlink} names: another name of it could be a protected file, so the supervisor does not change its metadata`;
  if (change.kind !== 'mode') return null;
  if (type !== S_IFDIR && (change.mode & (S_ISUID | S_ISGID)) !== 0) return 'a set-user-ID or set-group-ID file would run with its owner\'s rights for every user of this machine';
  if (type === S_IFDIR && (st.mode & S_ISVTX) !== 0 && (change.mode & S_ISVTX) === 0) return 'clearing a folder\'s sticky bit would let others remove or rename its entries';
  if (type === S_IFDIR && keptInside && (change.mode & 0o022 & ~st.mode) !== 0) return 'a folder holding a protected path made writable by others: they could move the protected path away and put their own';
  return null;
}

/** The thread group (process) of a thread id, from /proc; the id itself when it cannot be read. */
function threadGroupOf(tid: number): number {
  try {
    const m = /^Tgid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${tid}/status`, 'utf8'));
    return m ? Number(m[1]) : tid;
  } catch {
    return tid;
  }
}
