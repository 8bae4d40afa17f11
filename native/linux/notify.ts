// Host side of seccomp user notifications, the calls the supervisor's worker thread makes: receive and
// answer notifications, a blocking poll() over every listener plus a wake pipe (on the worker's own thread,
// so Node's thread pool is never tied up), read the target's memory, and the socket calls that emulate the
// network calls whose pointer arguments could change under us.
import * as fs from 'node:fs';
import koffi from 'koffi';
import { openLibc } from './libc-open';
import { sysError, syscallNumbers } from './libc';

// ioctl numbers (include/uapi/linux/seccomp.h); DESIGN.md §5.
export const SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100;
export const SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101;
export const SECCOMP_IOCTL_NOTIF_ID_VALID = 0x40082102;
export const SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;
/** _IOW('!', 4, __u64): the flags are the ioctl's argument itself (Linux 6.6+). */
export const SECCOMP_IOCTL_NOTIF_SET_FLAGS = 0x40082104;
export const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1;

/** struct seccomp_data, field for field. */
export const SeccompDataStruct = koffi.struct('seccomp_data', {
  nr: 'int32_t',
  arch: 'uint32_t',
  instruction_pointer: 'uint64_t',
  args: koffi.array('uint64_t', 6),
});
/** struct seccomp_notif. */
export const SeccompNotifStruct = koffi.struct('seccomp_notif', {
  id: 'uint64_t',
  pid: 'uint32_t',
  flags: 'uint32_t',
  data: SeccompDataStruct,
});
/** struct seccomp_notif_resp. */
export const SeccompNotifRespStruct = koffi.struct('seccomp_notif_resp', {
  id: 'uint64_t',
  val: 'int64_t',
  error: 'int32_t',
  flags: 'uint32_t',
});
/** struct iovec and struct msghdr (x86_64 and aarch64 layout), for sendmsg from the supervisor's own copies. */
export const IoVecStruct = koffi.struct('sb_iovec', { iov_base: 'void *', iov_len: 'size_t' });
export const MsgHdrStruct = koffi.struct('sb_msghdr', {
  msg_name: 'void *',
  msg_namelen: 'uint32_t',
  msg_iov: koffi.pointer(IoVecStruct),
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
});
/** struct open_how. */
export const OpenHowStruct = koffi.struct('sb_open_how', { flags: 'uint64_t', mode: 'uint64_t', resolve: 'uint64_t' });
/** openat2 has the same number on x86_64 and aarch64 (the unified table). */
export const NR_OPENAT2 = 437;

/** struct pollfd. */
export const PollfdStruct = koffi.struct('pollfd', { fd: 'int', events: 'short', revents: 'short' });

export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

export interface Notification {
  id: bigint;
  pid: number;
  nr: number;
  arch: number;
  args: bigint[];
}

export interface NotifyCalls {
  /** Receives one pending notification; null when the target died meanwhile (ENOENT). */
  recv(listener: number): Notification | null;
  /** Answers; false when the target is gone or the syscall was interrupted (ENOENT). */
  respond(listener: number, id: bigint, r: { val?: bigint; error?: number; continue?: boolean }): boolean;
  idValid(listener: number, id: bigint): boolean;
  /**
   * Asks the kernel to wake the target synchronously on our answer (and us on its call), on the same CPU
   * where it can: a round trip without a trip through the scheduler's queues. false where unsupported.
   */
  setSyncWakeUp(listener: number): boolean;
  /**
   * Blocks every signal it may in the calling thread (the supervisor's worker, which needs none), so that no
   * call of an answer is interrupted half-way: SECCOMP_IOCTL_NOTIF_ADDFD with FLAG_SEND, interrupted, left the
   * target's open() returning 0 with no fd installed (6.18). Stop signals cannot be blocked, hence an addfd
   * without FLAG_SEND and a separate answer (notify-addfd.ts).
   */
  blockSignals(): void;
  /** Blocking poll(), for the supervisor's own worker thread: [fd, events] in, [fd, revents] out. */
  pollSync(fds: Array<[number, number]>, timeoutMs: number): Array<[number, number]>;
  /** Drains a non-blocking fd (the wake pipe). */
  drain(fd: number): void;
  /** Writes one byte (wakes a poller). */
  poke(fd: number): void;
  pidfdOpen(pid: number): number;
  pidfdGetfd(pidfd: number, fd: number): number;
  /** A pipe whose write end wakes the supervisor's pollSync when the set of listeners changes. */
  pipe(): [number, number];
  close(fd: number): void;
  // Socket calls used to emulate connect/bind/sendto from the supervisor, with our own copy of the address.
  connect(fd: number, addr: Buffer): number; // 0 or -errno
  bind(fd: number, addr: Buffer): number;
  sendto(fd: number, data: Buffer, flags: number, addr: Buffer): number; // bytes or -errno
  getsockoptInt(fd: number, level: number, opt: number): number; // value or -errno
  getfl(fd: number): number;
  setfl(fd: number, flags: number): void;
  /** sendmsg with our own copies: one data buffer, an optional address and control block. Bytes or -errno. */
  sendmsg(fd: number, m: { name: Buffer | null; data: Buffer; control: Buffer | null }, flags: number): number;
  /** openat2(dirfd, path, how): fd or -errno. */
  openat2(dirfd: number, path: string, flags: number, resolve: number): number;
}

export function loadNotifyCalls(arch: string = process.arch): NotifyCalls {
  const nr = syscallNumbers(arch);
  const lib = openLibc();
  const ioctlRecv = lib.func('ioctl', 'int', ['int', 'ulong', 'void *']);
  const ioctlId = lib.func('ioctl', 'int', ['int', 'ulong', koffi.pointer('uint64_t')]);
  const ioctlVal = lib.func('ioctl', 'int', ['int', 'ulong', 'ulong']);
  const poll = lib.func('poll', 'int', ['void *', 'ulong', 'int']);
  const sigprocmask = lib.func('sigprocmask', 'int', ['int', 'void *', 'void *']);
  const sys_i_u32 = lib.func('syscall', 'long', ['long', 'int', 'uint32_t']);
  const sys_i_i_u32 = lib.func('syscall', 'long', ['long', 'int', 'int', 'uint32_t']);
  const c_pipe2 = lib.func('pipe2', 'int', ['void *', 'int']);
  const c_close = lib.func('close', 'int', ['int']);
  const c_connect = lib.func('connect', 'int', ['int', 'void *', 'uint32_t']);
  const c_bind = lib.func('bind', 'int', ['int', 'void *', 'uint32_t']);
  const c_sendto = lib.func('sendto', 'long', ['int', 'void *', 'size_t', 'int', 'void *', 'uint32_t']);
  const c_getsockopt = lib.func('getsockopt', 'int', ['int', 'int', 'int', koffi.out(koffi.pointer('int')), koffi.inout(koffi.pointer('uint32_t'))]);
  const c_fcntl = lib.func('fcntl', 'int', ['int', 'int', 'int']);
  const c_read = lib.func('read', 'long', ['int', 'void *', 'size_t']);
  const c_sendmsg = lib.func('sendmsg', 'long', ['int', koffi.pointer(MsgHdrStruct), 'int']);
  const sys_openat2 = lib.func('syscall', 'long', ['long', 'int', 'str', koffi.pointer(OpenHowStruct), 'size_t']);
  const c_write = lib.func('write', 'long', ['int', 'void *', 'size_t']);

  const notifSize = koffi.sizeof(SeccompNotifStruct);
  const respSize = koffi.sizeof(SeccompNotifRespStruct);
  const offArgs = koffi.offsetof(SeccompNotifStruct, 'data') + koffi.offsetof(SeccompDataStruct, 'args');
  const offNr = koffi.offsetof(SeccompNotifStruct, 'data') + koffi.offsetof(SeccompDataStruct, 'nr');
  const offArch = koffi.offsetof(SeccompNotifStruct, 'data') + koffi.offsetof(SeccompDataStruct, 'arch');
  const offPid = koffi.offsetof(SeccompNotifStruct, 'pid');
  const offRespVal = koffi.offsetof(SeccompNotifRespStruct, 'val');
  const offRespErr = koffi.offsetof(SeccompNotifRespStruct, 'error');
  const offRespFlags = koffi.offsetof(SeccompNotifRespStruct, 'flags');
  const ENOENT = 2;
  const negErrno = () => -koffi.errno();
  // One buffer each for the hot loop (a NotifyCalls belongs to one thread): no allocation per notification.
  const recvBuf = Buffer.alloc(notifSize);
  const respBuf = Buffer.alloc(respSize);
  let pollBuf = Buffer.alloc(0);

  return {
    recv(listener) {
      // The buffer must be zeroed: the kernel rejects RECV with a non-zero struct (EINVAL).
      const buf = recvBuf.fill(0);
      if (ioctlRecv(listener, SECCOMP_IOCTL_NOTIF_RECV, buf) < 0) {
        const e = koffi.errno();
        if (e === ENOENT || e === 11 /* EAGAIN */ || e === 4 /* EINTR */) return null;
        throw sysError('ioctl(SECCOMP_IOCTL_NOTIF_RECV)', e);
      }
      const args: bigint[] = [];
      for (let i = 0; i < 6; i++) args.push(buf.readBigUInt64LE(offArgs + 8 * i));
      return { id: buf.readBigUInt64LE(0), pid: buf.readUInt32LE(offPid), nr: buf.readInt32LE(offNr), arch: buf.readUInt32LE(offArch), args };
    },
    respond(listener, id, r) {
      const buf = respBuf;
      buf.writeBigUInt64LE(id, 0);
      buf.writeBigInt64LE(r.val ?? 0n, offRespVal);
      buf.writeInt32LE(r.continue ? 0 : -(r.error ?? 0), offRespErr);
      buf.writeUInt32LE(r.continue ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0, offRespFlags);
      if (ioctlRecv(listener, SECCOMP_IOCTL_NOTIF_SEND, buf) < 0) {
        const e = koffi.errno();
        if (e === ENOENT) return false;
        throw sysError('ioctl(SECCOMP_IOCTL_NOTIF_SEND)', e);
      }
      return true;
    },
    idValid(listener, id) {
      return ioctlId(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, [id]) === 0;
    },
    blockSignals() {
      // SIG_BLOCK, every signal: per thread on Linux; glibc keeps its own (cancellation, setxid) out of the set.
      if (sigprocmask(0, Buffer.alloc(128, 0xff), null) !== 0) throw sysError('sigprocmask', koffi.errno());
    },
    setSyncWakeUp(listener) {
      return ioctlVal(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) === 0;
    },
    pollSync(fds, timeoutMs) {
      const size = koffi.sizeof(PollfdStruct);
      if (pollBuf.length < size * fds.length) pollBuf = Buffer.alloc(size * fds.length * 2);
      const buf = pollBuf.fill(0, 0, size * fds.length);
      fds.forEach(([fd, ev], i) => {
        buf.writeInt32LE(fd, i * size);
        buf.writeInt16LE(ev, i * size + 4);
      });
      const n = poll(buf, fds.length, timeoutMs);
      if (n <= 0) return [];
      const ready: Array<[number, number]> = [];
      fds.forEach(([fd], i) => {
        const rev = buf.readInt16LE(i * size + 6);
        if (rev) ready.push([fd, rev]);
      });
      return ready;
    },
    drain(fd) {
      const b = Buffer.alloc(256);
      while (c_read(fd, b, b.length) > 0) {
        // keep reading until EAGAIN
      }
    },
    poke(fd) {
      c_write(fd, Buffer.from([1]), 1);
    },
    pidfdOpen(pid) {
      const r = Number(sys_i_u32(nr.pidfd_open, pid, 0));
      if (r < 0) throw sysError('pidfd_open', koffi.errno());
      return r;
    },
    pidfdGetfd(pidfd, fd) {
      const r = Number(sys_i_i_u32(nr.pidfd_getfd, pidfd, fd, 0));
      if (r < 0) throw sysError('pidfd_getfd', koffi.errno());
      return r;
    },
    pipe() {
      const fds = Buffer.alloc(8); // int[2]
      if (c_pipe2(fds, 0o2000000 /* O_CLOEXEC */ | 0o4000 /* O_NONBLOCK */) < 0) throw sysError('pipe2', koffi.errno());
      return [fds.readInt32LE(0), fds.readInt32LE(4)];
    },
    close(fd) {
      c_close(fd);
    },
    connect: (fd, addr) => (c_connect(fd, addr, addr.length) < 0 ? negErrno() : 0),
    bind: (fd, addr) => (c_bind(fd, addr, addr.length) < 0 ? negErrno() : 0),
    sendto(fd, data, flags, addr) {
      const n = Number(c_sendto(fd, data, data.length, flags, addr, addr.length));
      return n < 0 ? negErrno() : n;
    },
    getsockoptInt(fd, level, opt) {
      const v = [0];
      const len = [4];
      return c_getsockopt(fd, level, opt, v, len) < 0 ? negErrno() : v[0]!;
    },
    getfl(fd) {
      const r = c_fcntl(fd, 3 /* F_GETFL */, 0);
      if (r < 0) throw sysError('fcntl(F_GETFL)', koffi.errno());
      return r;
    },
    setfl(fd, flags) {
      if (c_fcntl(fd, 4 /* F_SETFL */, flags) < 0) throw sysError('fcntl(F_SETFL)', koffi.errno());
    },
    sendmsg(fd, m, flags) {
      const hdr = {
        msg_name: m.name,
        msg_namelen: m.name ? m.name.length : 0,
        msg_iov: [{ iov_base: m.data.length ? m.data : null, iov_len: m.data.length }],
        msg_iovlen: 1,
        msg_control: m.control,
        msg_controllen: m.control ? m.control.length : 0,
        msg_flags: 0,
      };
      const n = Number(c_sendmsg(fd, hdr, flags));
      return n < 0 ? negErrno() : n;
    },
    openat2(dirfd, p, flags, resolve) {
      const r = Number(sys_openat2(NR_OPENAT2, dirfd, p, { flags: BigInt(flags), mode: 0n, resolve: BigInt(resolve) }, koffi.sizeof(OpenHowStruct)));
      return r < 0 ? negErrno() : r;
    },
  };
}

/** The largest /proc/<pid>/mem offset read (2^53 - 1, what node:fs accepted before). */
const MAX_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);
/** readString's first read: most paths end (their NUL) well within it. */
const FIRST_READ = 512;

/** Reads a target process's memory through /proc/<pid>/mem (same access check as process_vm_readv). */
/** struct iovec, on our side (a buffer) and on the target's (an address in its memory). */
const LocalIovecStruct = koffi.struct('ss_local_iovec', { base: 'void *', len: 'size_t' });
const RemoteIovecStruct = koffi.struct('ss_remote_iovec', { base: 'uint64_t', len: 'size_t' });

export class TargetMemory {
  /**
   * process_vm_readv: the memory of the process the pid names now. Not a cached /proc/<pid>/mem fd: such an
   * fd stays on the address space it was opened on, and a process that shares it (clone CLONE_VM, as
   * posix_spawn does) keeps that space alive after an exec, so the fd read the old memory and the supervisor
   * decided on what another process had written there (red team rt20). A pid reused by another process is no
   * risk: a notification still pending means its thread is alive, and an answer to one that is not goes
   * nowhere.
   */
  private readonly vmRead = openLibc().func('process_vm_readv', 'long', ['int', koffi.pointer(LocalIovecStruct), 'unsigned long', koffi.pointer(RemoteIovecStruct), 'unsigned long', 'unsigned long']);

  /** One page, reused by readString (a TargetMemory belongs to one thread): no allocation per path read. */
  private readonly page = Buffer.allocUnsafe(4096);

  read(pid: number, addr: bigint, len: number): Buffer | null {
    if (addr === 0n || len <= 0) return null;
    // Beyond what a Number offset can say is no address of a process we supervise (as node:fs refused it).
    if (addr > MAX_OFFSET) return null;
    const buf = Buffer.alloc(len);
    const n = this.readAt(pid, Number(addr), buf, len);
    return n > 0 ? buf.subarray(0, n) : null;
  }

  /** Reads up to len bytes at addr (at most MAX_OFFSET) into buf; the count read (0 when nothing could be read). */
  private readAt(pid: number, addr: number, buf: Buffer, len: number): number {
    const n = Number(this.vmRead(pid, { base: buf, len }, 1, { base: addr, len }, 1, 0));
    return n > 0 ? n : 0;
  }

  /** Exactly len bytes, or null: a short read (unmapped memory, process gone) is no argument to decide on. */
  readExact(pid: number, addr: bigint, len: number): Buffer | null {
    if (len === 0) return Buffer.alloc(0);
    const b = this.read(pid, addr, len);
    return b && b.length === len ? b : null;
  }

  /** Writes into the target's memory (a result field the kernel would fill in); false when it could not. */
  write(pid: number, addr: bigint, data: Buffer): boolean {
    if (addr === 0n) return false;
    let fd: number;
    try {
      fd = fs.openSync(`/proc/${pid}/mem`, 'r+');
    } catch {
      return false;
    }
    try {
      return fs.writeSync(fd, data, 0, data.length, Number(addr)) === data.length;
    } catch {
      return false;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** A NUL-terminated string of at most max bytes; reads page-wise so it never crosses into unmapped memory. */
  readString(pid: number, addr: bigint, max = 4096): string | null {
    if (addr === 0n || addr > MAX_OFFSET) return null;
    const page = this.page;
    let parts: Buffer[] | null = null;
    let cur = Number(addr);
    let total = 0;
    while (total < max) {
      // The first read stops short of the page's end: a path is seldom longer, and copying less costs less.
      const toPage = 4096 - (cur % 4096);
      const want = Math.min(toPage, max - total, parts === null && total === 0 ? FIRST_READ : 4096);
      const got = this.readAt(pid, cur, page, want);
      if (got <= 0) return null;
      // The page buffer holds older reads past `got`: a NUL there is none of this string's.
      const nul = page.indexOf(0);
      if (nul >= 0 && nul < got) {
        if (parts === null) return page.toString('utf8', 0, nul);
        parts.push(page.subarray(0, nul));
        return Buffer.concat(parts).toString('utf8');
      }
      // The page buffer is read again next round: keep a copy of this part.
      (parts ??= []).push(Buffer.from(page.subarray(0, got)));
      total += got;
      cur += got;
    }
    return null; // longer than max: treat as unreadable
  }

}
