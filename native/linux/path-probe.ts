// The two questions the supervisor's path walk asks of each component (missing, a link or something else;
// and a link's text), as one libc call each: no exception for an errno and no Stats object. node:fs builds
// both, which on the supervised-call hot path cost about as much as the system call itself (issue 11).
import koffi from 'koffi';
import { openLibc } from './libc-open';

export type PathKind = 'missing' | 'link' | 'other';

export interface PathProbe {
  /** lstat's answer reduced to what the walk needs; any error (ENOENT, ENOTDIR, EACCES, …) is 'missing'. */
  kind(p: string): PathKind;
  /** The link's text, or null when it is no link or cannot be read. */
  readlink(p: string): string | null;
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_TYPE = 0x1;
/** struct statx is 256 bytes; stx_mode (u16) is at offset 28 on every architecture. */
const STATX_SIZE = 256;
const STX_MODE = 28;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** PATH_MAX: a longer link text is cut by readlink, which the walk treats as unreadable. */
const LINK_MAX = 4096;

export function loadPathProbe(): PathProbe {
  const lib = openLibc();
  const statx = lib.func('statx', 'int', ['int', 'str', 'int', 'uint32_t', 'void *']);
  const readlink = lib.func('readlink', 'long', ['str', 'void *', 'size_t']);
  // One buffer each (a probe belongs to one thread): no allocation per component.
  const stx = Buffer.alloc(STATX_SIZE);
  const link = Buffer.allocUnsafe(LINK_MAX);
  return {
    kind(p) {
      if (statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_TYPE, stx) < 0) return 'missing';
      return (stx.readUInt16LE(STX_MODE) & S_IFMT) === S_IFLNK ? 'link' : 'other';
    },
    readlink(p) {
      const n = Number(readlink(p, link, LINK_MAX));
      // A text that fills the buffer may have been cut: no answer rather than a wrong one.
      if (n < 0 || n >= LINK_MAX) return null;
      return link.toString('utf8', 0, n);
    },
  };
}
