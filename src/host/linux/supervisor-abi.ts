// Linux ABI numbers the supervisor's worker uses (errno values, open and resolve flags, socket options, the
// msghdr layout) and its bounds on the work one notification may cost.
export const EPERM = 1;
export const EACCES = 13;
export const ENXIO = 6;
export const EBADF = 9;
export const EINPROGRESS = 115;
export const EMSGSIZE = 90;
export const ENOBUFS = 105;
export const O_NONBLOCK = 0o4000;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_DOMAIN = 39;
export const SO_TYPE = 3;
export const AT_FDCWD = -100;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_IN_ROOT = 0x10;
export const EAGAIN = 11;
export const EINVAL = 22;
export const ENOTSOCK = 88;
export const EOPNOTSUPP = 95;
export const ECONNREFUSED = 111;
export const SO_PROTOCOL = 38;
export { AF_INET, AF_INET6, AF_UNIX } from '../../../native/linux/sockaddr';
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const IPPROTO_TCP = 6;
export const IPPROTO_MPTCP = 262;
export const MSG_DONTWAIT = 0x40;
export const MSG_FASTOPEN = 0x20000000;
export const SCM_RIGHTS = 1;
/** struct msghdr is 56 bytes, struct mmsghdr 64 (msghdr + msg_len + padding), struct iovec 16. */
export const MSGHDR = 56;
export const MMSGHDR = 64;
/** The kernel's own cap on sendmmsg's vlen and on msg_iovlen: every message it would send is checked. */
export const UIO_MAXIOV = 1024;
/** Largest payload the supervisor copies for one emulated message (a datagram is at most 64 KiB anyway). */
export const MAX_SEND = 256 * 1024;
export const MAX_CONTROL = 64 * 1024;
/** Most payload one sendmmsg has copied before the supervisor stops taking further messages. */
export const MAX_BATCH = 4 * 1024 * 1024;

// The fallback tier's file emulation (supervisor-emulate*.ts).
export const EEXIST = 17;
export const ENOENT = 2;
export const O_EXCL = 0o200;
export const O_NOFOLLOW = 0o400000;
export const O_TMPFILE = 0o20000000 | O_DIRECTORY;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RENAME_EXCHANGE = 2;
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
