// The calls the supervisor uses to perform a file operation for a target itself (the fallback tier's
// workspace root, which Landlock cannot grant without also granting its protected entries): directory-fd
// relative file calls, and SECCOMP_IOCTL_NOTIF_ADDFD to install an fd it opened in the target as the
// syscall's return value. Every call returns the result or -errno, never throws for an errno.
import * as fs from 'node:fs';
import koffi from 'koffi';

const O_PATH = 0o10000000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const EPERM = 1;

/** _IOW('!', 3, struct seccomp_notif_addfd), DESIGN.md §5. */
export const SECCOMP_IOCTL_NOTIF_ADDFD = 0x40182103;

/** struct seccomp_notif_addfd: id u64 @0, flags u32 @8, srcfd u32 @12, newfd u32 @16, newfd_flags u32 @20. */
export const SeccompNotifAddfdStruct = koffi.struct('seccomp_notif_addfd', {
  id: 'uint64_t',
  flags: 'uint32_t',
  srcfd: 'uint32_t',
  newfd: 'uint32_t',
  newfd_flags: 'uint32_t',
});

export interface FileOpCalls {
  /**
   * Installs our `srcfd` in the target (not answering): the new fd number there, or -errno. Not FLAG_SEND:
   * that form, interrupted by a stop signal (SIGSTOP, SIGTSTP: no mask holds them), left the target's call
   * returning 0 with nothing installed (red team rt7); this one reports whether it installed, or is restarted.
   */
  addfd(listener: number, id: bigint, srcfd: number, cloexec: boolean): number;
  openat(dirfd: number, name: string, flags: number, mode: number): number;
  mkdirat(dirfd: number, name: string, mode: number): number;
  unlinkat(dirfd: number, name: string, flags: number): number;
  renameat2(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags: number): number;
  symlinkat(target: string, dirfd: number, name: string): number;
  /** A FIFO only (mkfifoat): the supervisor never makes device nodes. */
  mkfifoat(dirfd: number, name: string, mode: number): number;
  linkat(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags: number): number;
  fchmod(fd: number, mode: number): number;
  ftruncate(fd: number, length: bigint): number;
  /**
   * The mode of a directory or FIFO the supervisor just made as `name`: never through a link, and only when the
   * name still is such an entry of ours. Another run's supervisor can put a link there in between (red team:
   * a swapped link to ~/.ssh/id_rsa got 04777), so the name is pinned O_PATH|O_NOFOLLOW and checked first.
   */
  chmodMade(dirfd: number, name: string, mode: number, kind: 'dir' | 'fifo'): number;
  /** chmod of the inode `fd` holds (O_PATH too), through its /proc/self/fd magic link: never a path walk. */
  chmodFd(fd: number, mode: number): number;
  /** fchownat(fd, "", uid, gid, AT_EMPTY_PATH): the inode `fd` holds (O_PATH too, a symlink itself). */
  chownFd(fd: number, uid: number, gid: number): number;
  /** utimensat(fd, "", times, AT_EMPTY_PATH): null = now; each [sec, nsec] (UTIME_NOW, UTIME_OMIT as nsec). */
  utimesFd(fd: number, times: [bigint, bigint][] | null): number;
}

export function loadFileOpCalls(): FileOpCalls {
  const lib = koffi.load('libc.so.6');
  const ioctlAddfd = lib.func('ioctl', 'int', ['int', 'ulong', koffi.pointer(SeccompNotifAddfdStruct)]);
  const c_openat = lib.func('openat', 'int', ['int', 'str', 'int', 'uint32_t']);
  const c_mkdirat = lib.func('mkdirat', 'int', ['int', 'str', 'uint32_t']);
  const c_unlinkat = lib.func('unlinkat', 'int', ['int', 'str', 'int']);
  const c_renameat2 = lib.func('renameat2', 'int', ['int', 'str', 'int', 'str', 'uint32_t']);
  const c_symlinkat = lib.func('symlinkat', 'int', ['str', 'int', 'str']);
  const c_mkfifoat = lib.func('mkfifoat', 'int', ['int', 'str', 'uint32_t']);
  const c_linkat = lib.func('linkat', 'int', ['int', 'str', 'int', 'str', 'int']);
  const c_fchmod = lib.func('fchmod', 'int', ['int', 'uint32_t']);
  const c_ftruncate = lib.func('ftruncate', 'int', ['int', 'int64_t']);
  const c_fchmodat = lib.func('fchmodat', 'int', ['int', 'str', 'uint32_t', 'int']);
  const c_close = lib.func('close', 'int', ['int']);
  const c_fchownat = lib.func('fchownat', 'int', ['int', 'str', 'uint32_t', 'uint32_t', 'int']);
  const c_utimensat = lib.func('utimensat', 'int', ['int', 'str', 'void *', 'int']);
  const res = (r: number) => (r < 0 ? -koffi.errno() : r);
  return {
    addfd(listener, id, srcfd, cloexec) {
      return res(ioctlAddfd(listener, SECCOMP_IOCTL_NOTIF_ADDFD, { id, flags: 0, srcfd, newfd: 0, newfd_flags: cloexec ? O_CLOEXEC : 0 }));
    },
    openat: (d, n, f, m) => res(c_openat(d, n, f, m)),
    mkdirat: (d, n, m) => res(c_mkdirat(d, n, m)),
    unlinkat: (d, n, f) => res(c_unlinkat(d, n, f)),
    renameat2: (od, on, nd, nn, f) => res(c_renameat2(od, on, nd, nn, f)),
    symlinkat: (t, d, n) => res(c_symlinkat(t, d, n)),
    mkfifoat: (d, n, m) => res(c_mkfifoat(d, n, m)),
    linkat: (od, on, nd, nn, f) => res(c_linkat(od, on, nd, nn, f)),
    fchmod: (fd, m) => res(c_fchmod(fd, m)),
    ftruncate: (fd, len) => res(c_ftruncate(fd, len)),
    chmodFd: (fd, m) => res(c_fchmodat(AT_FDCWD, `/proc/self/fd/${fd}`, m, 0)),
    chownFd: (fd, u, g) => res(c_fchownat(fd, '', u >>> 0, g >>> 0, AT_EMPTY_PATH)),
    utimesFd(fd, times) {
      let buf: Buffer | null = null;
      if (times) {
        buf = Buffer.alloc(32);
        times.forEach(([sec, nsec], i) => {
          buf!.writeBigInt64LE(sec, i * 16);
          buf!.writeBigInt64LE(nsec, i * 16 + 8);
        });
      }
      return res(c_utimensat(fd, '', buf, AT_EMPTY_PATH));
    },
    chmodMade(d, n, m, kind) {
      // AT_SYMLINK_NOFOLLOW is EOPNOTSUPP for fchmodat before fchmodat2 (Linux 6.6): the entry is pinned instead,
      // and its mode set through the pinned inode's /proc/self/fd link (a magic link, never a path walk).
      const fd = c_openat(d, n, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
      if (fd < 0) return -koffi.errno();
      try {
        const st = fs.fstatSync(fd);
        if (!(kind === 'dir' ? st.isDirectory() : st.isFIFO()) || st.uid !== process.geteuid?.()) return -EPERM;
        return res(c_fchmodat(AT_FDCWD, `/proc/self/fd/${fd}`, m, 0));
      } finally {
        c_close(fd);
      }
    },
  };
}
