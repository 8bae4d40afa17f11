// The two questions the supervisor's path walk asks of each component (missing, a link or something else;
// and a link's text), as one libc call each: no exception for an errno and no Stats object. node:fs builds
// both, which on the supervised-call hot path cost about as much as the system call itself (issue 11).
import { openLibc } from './libc-open';

export type PathKind = 'missing' | 'link' | 'other';

export interface PathProbe {
  /** lstat's answer reduced to what the walk needs; any error (ENOENT, ENOTDIR, EACCES, …) is 'missing'. */
  kind(p: string): PathKind;
  /** The link's text, or null when it is no link or cannot be read. */
  readlink(p: string): string | null;
}

/** The same questions of a name looked up from a directory fd (a relative `rel`), and that fd's making. */
export interface PathProbeAt extends PathProbe {
  kindAt(dirfd: number, rel: string): PathKind;
  readlinkAt(dirfd: number, rel: string): string | null;
  /** open(p, O_PATH | O_CLOEXEC), following links (procfs's magic ones too); -1 on any error. */
  openDir(p: string): number;
  close(fd: number): void;
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
/** The same on x86_64 and aarch64 (O_DIRECTORY is not, hence its absence). */
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const STATX_TYPE = 0x1;
/** struct statx is 256 bytes; stx_mode (u16) is at offset 28 on every architecture. */
const STATX_SIZE = 256;
const STX_MODE = 28;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** PATH_MAX: a longer link text is cut by readlink, which the walk treats as unreadable. */
const LINK_MAX = 4096;

export function loadPathProbe(): PathProbeAt {
  const lib = openLibc();
  const statx = lib.func('statx', 'int', ['int', 'str', 'int', 'uint32_t', 'void *']);
  const readlinkat = lib.func('readlinkat', 'long', ['int', 'str', 'void *', 'size_t']);
  const open = lib.func('open', 'int', ['str', 'int']);
  const close = lib.func('close', 'int', ['int']);
  // One buffer each (a probe belongs to one thread): no allocation per component.
  const stx = Buffer.alloc(STATX_SIZE);
  const link = Buffer.allocUnsafe(LINK_MAX);
  const kindAt = (dirfd: number, p: string): PathKind => {
    if (statx(dirfd, p, AT_SYMLINK_NOFOLLOW, STATX_TYPE, stx) < 0) return 'missing';
    return (stx.readUInt16LE(STX_MODE) & S_IFMT) === S_IFLNK ? 'link' : 'other';
  };
  const readlinkAt = (dirfd: number, p: string): string | null => {
    const n = Number(readlinkat(dirfd, p, link, LINK_MAX));
    // A text that fills the buffer may have been cut: no answer rather than a wrong one.
    if (n < 0 || n >= LINK_MAX) return null;
    return link.toString('utf8', 0, n);
  };
  return {
    kind: (p) => kindAt(AT_FDCWD, p),
    readlink: (p) => readlinkAt(AT_FDCWD, p),
    kindAt,
    readlinkAt,
    openDir(p) {
      const fd = open(p, O_PATH | O_CLOEXEC);
      return fd < 0 ? -1 : fd;
    },
    close(fd) {
      close(fd);
    },
  };
}
