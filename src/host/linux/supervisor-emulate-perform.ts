// The fallback tier's opens, links and renames in carved directories (or below what the supervisor made),
// performed for the script: never more than the kernel's DAC would give the script without capabilities (a
// root host's supervisor has DAC override and CAP_FOWNER, the script does not).
import * as fs from 'node:fs';
import type { NotifyCalls } from '../../../native/linux/notify';
import type { FileOpCalls } from '../../../native/linux/notify-addfd';
import { mayAccess, mayChangeDir, mayHardlink, mayRemove, openWants, statAt, MAY_WRITE, type Creds } from './dac';
import { AT_FDCWD, AT_SYMLINK_FOLLOW, EACCES, EEXIST, ENOENT, O_ACCMODE, O_CLOEXEC, O_CREAT, O_EXCL, O_NOFOLLOW, O_PATH, O_TRUNC, RENAME_EXCHANGE, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, S_IFDIR, S_IFMT } from './supervisor-abi';

/** fd (or -errno) and whether this open created the file. `c` null (unknown credentials): refused. */
export function openInParent(n: Pick<NotifyCalls, 'close'>, ops: FileOpCalls, parent: number, base: string, flags: number, c: Creds | null): { fd: number; created: boolean } {
  let fd = -EACCES;
  let created = false;
  // O_TRUNC only after the DAC check below (the open itself would truncate before it).
  const own = (flags & ~(O_CLOEXEC | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC;
  const mayCreate = c !== null && mayChangeDir(fs.fstatSync(parent), c);
  for (let attempt = 0; c && attempt < 3; attempt++) {
    if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) === 0) {
      // Created-or-opened, split so the supervisor knows whether it made the file (and so sets its mode).
      fd = mayCreate ? ops.openat(parent, base, own | O_EXCL, 0o600) : -EEXIST;
      if (fd >= 0) created = true;
      else if (fd === -EEXIST) fd = ops.openat(parent, base, own & ~O_CREAT, 0);
      if (fd === -ENOENT && !mayCreate) fd = -EACCES;
      if (fd === -ENOENT) continue; // removed in between: create again
    } else {
      fd = (flags & O_CREAT) !== 0 && !mayCreate ? -EACCES : ops.openat(parent, base, own, 0o600);
      created = fd >= 0 && (flags & O_CREAT) !== 0;
    }
    break;
  }
  if (fd >= 0 && !created && !mayAccess(fs.fstatSync(fd), c!, openWants(flags))) {
    n.close(fd);
    fd = -EACCES;
  }
  if (fd >= 0 && !created && (flags & O_TRUNC) !== 0) {
    // Through a second, write-only open of the same inode when the script's open is read-only.
    const w = (flags & O_ACCMODE) === 0 ? ops.openat(AT_FDCWD, `/proc/self/fd/${fd}`, 1 | O_CLOEXEC, 0) : fd;
    const res = w < 0 ? w : ops.ftruncate(w, 0n);
    if (w >= 0 && w !== fd) n.close(w);
    if (res < 0) {
      n.close(fd);
      fd = res;
    }
  }
  return { fd, created };
}

/**
 * link(2) of `fromBase` in `fromDir` as `toBase` in `toDir`: 0 or -errno. The source is pinned by an O_PATH
 * fd, checked by the protected_hardlinks rule for the script, and that very inode linked (through its
 * /proc/self/fd link), so it cannot be swapped after the check.
 */
export function linkInParents(n: Pick<NotifyCalls, 'close' | 'openat2'>, ops: FileOpCalls, fromDir: number, fromBase: string, toDir: number, toBase: string, c: Creds | null): number {
  const src = n.openat2(fromDir, fromBase, O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (src < 0) return src;
  try {
    if (!c || !mayHardlink(fs.fstatSync(src), c) || !mayChangeDir(fs.fstatSync(toDir), c)) return -EACCES;
    return ops.linkat(AT_FDCWD, `/proc/self/fd/${src}`, toDir, toBase, AT_SYMLINK_FOLLOW);
  } finally {
    n.close(src);
  }
}

/** Whether the script itself could rename (or, RENAME_EXCHANGE, swap) these names: directories and sticky bits. */
export function renameAllowed(fromDir: number, fromBase: string, toDir: number, toBase: string, flags: number, c: Creds | null): boolean {
  if (!c) return false;
  const [src, dst] = [statAt(fromDir, fromBase), statAt(toDir, toBase)];
  const [fd, td] = [fs.fstatSync(fromDir), fs.fstatSync(toDir)];
  if ((src && !mayRemove(fd, src, c)) || (dst ? !mayRemove(td, dst, c) : !mayChangeDir(td, c))) return false;
  // A directory moved to another parent has its `..` rewritten: write on it (on both, exchanged).
  const moved = fd.ino !== td.ino || fd.dev !== td.dev;
  const dirs = [src, (flags & RENAME_EXCHANGE) !== 0 ? dst : null].filter((x) => x && (x.mode & S_IFMT) === S_IFDIR);
  return !moved || dirs.every((x) => mayAccess(x!, c, MAY_WRITE));
}

/** Removes what a call created at `base` in `parent` once the call failed after all, if the name still holds
 *  that very file (`made`, its fstat at creation). */
export function removeIfSame(ops: FileOpCalls, parent: number, base: string, made: fs.Stats): void {
  let now: fs.Stats;
  try {
    now = fs.lstatSync(`/proc/self/fd/${parent}/${base}`);
  } catch {
    return; // gone already
  }
  if (now.ino === made.ino && now.dev === made.dev) ops.unlinkat(parent, base, 0);
}
