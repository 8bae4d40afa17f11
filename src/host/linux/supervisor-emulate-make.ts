// Symlinks and FIFOs made in carved directories (supervisor-emulate.ts): Landlock gives a new name there no
// right, so without this `ln -s`, `mkfifo` and `python3 -m venv` fail wherever a deny glob carved the
// workspace (the namespace tier's root is carved as the way to `data/*.key`). The supervisor makes them from
// its own copy of the arguments, refusing a name the policy refuses (a glob's match, a protected path).
// A link's target text is data, not a path the supervisor follows: everything it does later on a path
// resolves links as the kernel would for the target and decides on the physical result, and its own opens
// use RESOLVE_NO_SYMLINKS beneath the grant root. FIFOs only from mknod: never a device, regular file or
// socket (those go on to the kernel, which has no rule for them here and refuses). A unix socket bound in a
// carved directory stays refused: bind needs the script's socket, which the supervisor cannot act on from
// its side (SECCOMP_IOCTL_NOTIF_ADDFD installs fds in the target, it does not bring the target's back).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OneCall } from './supervisor-emulate-call';
import { linkOnGlobWay } from './supervisor-emulate-globs';
import { credsOf, mayChangeDir, umaskOf } from './dac';
import { AT_FDCWD, EACCES } from './supervisor-abi';

const S_IFMT = 0o170000;
const S_IFIFO = 0o010000;

export class MakeCall extends OneCall {
  /** symlink(target, linkpath), symlinkat(target, newdirfd, linkpath). */
  symlink(name: string): boolean {
    const at = name === 'symlinkat';
    const e = this.entry(at ? this.arg32(1) : AT_FDCWD, this.note.args[at ? 2 : 1]!, false);
    if (!e || !this.uncoveredName(e.resolved)) return false;
    // `moves`: a link at a missing folder on the way to a protected path would lead that path elsewhere
    // (red team rt21: `ln -s /tmp/x ~/.config`, then ~/.config/git/config is the script's).
    if (this.refused(this.decide(name, e, true) ?? linkOnGlobWay(this.r, name, e, this.globs))) return true;
    const target = this.mem.readString(this.note.pid, this.note.args[0]!);
    // Not UTF-8: re-encoded on its way through JavaScript, it would not be the script's text.
    if (target === null || target === '' || target.includes('\uFFFD')) return this.unreadable(name);
    return this.perform([e.resolved], (fds) => {
      const c = credsOf(this.note.pid);
      if (!c || !mayChangeDir(fs.fstatSync(fds[0]!), c)) return -EACCES;
      return this.ops.symlinkat(target, fds[0]!, path.posix.basename(e.resolved));
    });
  }

  /** mknod(path, mode, dev), mknodat(dirfd, path, mode, dev): FIFOs only. */
  mknod(name: string): boolean {
    const at = name === 'mknodat';
    const mode = Number(this.note.args[at ? 2 : 1]! & 0xffffffffn);
    if ((mode & S_IFMT) !== S_IFIFO) return false;
    const e = this.entry(at ? this.arg32(0) : AT_FDCWD, this.note.args[at ? 1 : 0]!, false);
    if (!e || !this.uncoveredName(e.resolved)) return false;
    if (this.refused(this.decide(name, e, false))) return true;
    return this.perform([e.resolved], (fds) => {
      const base = path.posix.basename(e.resolved);
      const c = credsOf(this.note.pid);
      if (!c || !mayChangeDir(fs.fstatSync(fds[0]!), c)) return -EACCES;
      const res = this.ops.mkfifoat(fds[0]!, base, 0o600);
      // The target's umask, not ours; never through a link another run put at the name meanwhile (chmodMade).
      if (res === 0) this.ops.chmodMade(fds[0]!, base, mode & ~umaskOf(this.note.pid) & 0o7777, 'fifo');
      return res;
    });
  }
}
