// Pseudo-terminals for runs. The host makes the pair (posix_openpt/grantpt/unlockpt/ptsname_r) and keeps the
// master; the launcher opens the slave by path, makes it its controlling terminal in the session it leads
// (TIOCSCTTY) and puts it on fds 0-2, so the script gets a real terminal: line discipline (Ctrl+C, Ctrl+D,
// Ctrl+Z), echo, window size, isatty(). Its own bindings (not libc.ts): only these few calls need them.
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';
import { sysError } from './libc';
import { SandboxError } from '../../src/errors';
import type { PtyCalls, TerminalSize } from '../backend';

export type { PtyCalls, TerminalSize };

// asm-generic/fcntl.h and ioctls.h: the same numbers on x86_64 and aarch64.
const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
export const TIOCSCTTY = 0x540e;
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const TIOCSTI = 0x5412;

/** struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; } */
export const WinsizeStruct = koffi.struct({ ws_row: 'uint16_t', ws_col: 'uint16_t', ws_xpixel: 'uint16_t', ws_ypixel: 'uint16_t' });

function openLibc(): LibraryHandle {
  try {
    return koffi.load('libc.so.6');
  } catch {
    return koffi.load(null);
  }
}

function check(call: string, ret: number): number {
  if (ret < 0) throw sysError(call, koffi.errno());
  return ret;
}

/** Window sizes outside 1..65535 would wrap in the kernel's unsigned short. */
export function clampSize(s: TerminalSize): TerminalSize {
  const c = (n: number) => Math.min(0xffff, Math.max(1, Math.floor(Number.isFinite(n) ? n : 1)));
  return { rows: c(s.rows), cols: c(s.cols) };
}

export function loadPtyCalls(): PtyCalls {
  const lib = openLibc();
  const posix_openpt = lib.func('posix_openpt', 'int', ['int']);
  const grantpt = lib.func('grantpt', 'int', ['int']);
  const unlockpt = lib.func('unlockpt', 'int', ['int']);
  const ptsname_r = lib.func('ptsname_r', 'int', ['int', 'void *', 'size_t']);
  // open and ioctl are variadic; fixed declarations are call-compatible on x86_64 and aarch64 Linux.
  const c_open = lib.func('open', 'int', ['str', 'int', 'uint32_t']);
  const c_ioctl_ws = lib.func('ioctl', 'int', ['int', 'ulong', koffi.inout(koffi.pointer(WinsizeStruct))]);
  const c_ioctl_i = lib.func('ioctl', 'int', ['int', 'ulong', 'long']);
  const c_fcntl = lib.func('fcntl', 'int', ['int', 'int', 'int']);
  const c_dup2 = lib.func('dup2', 'int', ['int', 'int']);
  const c_close = lib.func('close', 'int', ['int']);
  const c_isatty = lib.func('isatty', 'int', ['int']);

  const setSize = (fd: number, size: TerminalSize) => {
    const s = clampSize(size);
    check('ioctl(TIOCSWINSZ)', c_ioctl_ws(fd, TIOCSWINSZ, { ws_row: s.rows, ws_col: s.cols, ws_xpixel: 0, ws_ypixel: 0 }));
  };

  return {
    open(size) {
      const master = check('posix_openpt', posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
      try {
        // grantpt and unlockpt return -1 with errno, like ptsname_r returns the error number itself.
        check('grantpt', grantpt(master));
        check('unlockpt', unlockpt(master));
        const buf = Buffer.alloc(128);
        const err = ptsname_r(master, buf, buf.length);
        if (err !== 0) throw sysError('ptsname_r', err);
        const slave = buf.subarray(0, buf.indexOf(0)).toString('utf8');
        if (!/^\/dev\/pts\/\d+$/.test(slave)) throw new SandboxError('SETUP_FAILED', `ptsname_r gave an unexpected name: ${slave}`, { call: 'ptsname_r' });
        // Non-blocking: a script that does not read its input must never block the host on a write.
        const fl = check('fcntl(F_GETFL)', c_fcntl(master, F_GETFL, 0));
        check('fcntl(F_SETFL)', c_fcntl(master, F_SETFL, fl | O_NONBLOCK));
        setSize(master, size);
        return { master, slave };
      } catch (e) {
        c_close(master);
        throw e;
      }
    },
    resize: setSize,
    size(fd) {
      const ws = { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
      check('ioctl(TIOCGWINSZ)', c_ioctl_ws(fd, TIOCGWINSZ, ws));
      return { rows: ws.ws_row, cols: ws.ws_col };
    },
    attach(slave) {
      if (!/^\/dev\/pts\/\d+$/.test(slave)) throw new SandboxError('SETUP_FAILED', `not a pty slave: ${slave}`, { call: 'open' });
      // O_NOCTTY and an explicit TIOCSCTTY: the terminal becomes ours only by the call that says so, and
      // TIOCSCTTY with 0 never steals a terminal that is another session's.
      const fd = check(`open ${slave}`, c_open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC, 0));
      try {
        if (c_isatty(fd) !== 1) throw new SandboxError('SETUP_FAILED', `${slave} is not a terminal`, { call: 'isatty' });
        check('ioctl(TIOCSCTTY)', c_ioctl_i(fd, TIOCSCTTY, 0));
        // dup2 clears close-on-exec on the copies; the original is closed below.
        for (const target of [0, 1, 2]) check('dup2', c_dup2(fd, target));
      } finally {
        if (fd > 2) c_close(fd);
      }
    },
    dup(fd) {
      return check('fcntl(F_DUPFD_CLOEXEC)', c_fcntl(fd, F_DUPFD_CLOEXEC, 3));
    },
    close(fd) {
      c_close(fd);
    },
  };
}
