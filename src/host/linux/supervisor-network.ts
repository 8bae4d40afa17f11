// The supervisor's network calls: connect, bind, sendto, sendmsg and sendmmsg. An allowed call is performed
// by the supervisor itself, on its copy of the target's socket, with its own copy of the address (and data),
// so nothing the target changes after the check is used.
import * as fs from 'node:fs';
import type { Notification } from '../../../native/linux/notify';
import { decideBind, decideConnect } from './supervisor-decide';
import { describeAddr, parseSockaddr, unixSockaddr } from '../../../native/linux/sockaddr';
import { unreadable, type Answering, type OutMessage, type RunState } from './supervisor-answer';
import { EPERM, EACCES, EBADF, EINPROGRESS, EMSGSIZE, ENOBUFS, O_NONBLOCK, SOL_SOCKET, SO_ERROR, SO_DOMAIN, SO_TYPE, AT_FDCWD, O_DIRECTORY, O_CLOEXEC, O_PATH, RESOLVE_NO_MAGICLINKS, RESOLVE_IN_ROOT, EAGAIN, EINVAL, ENOTSOCK, EOPNOTSUPP, ECONNREFUSED, SO_PROTOCOL, AF_UNIX, AF_INET, AF_INET6, SOCK_STREAM, SOCK_SEQPACKET, IPPROTO_TCP, IPPROTO_MPTCP, MSG_DONTWAIT, MSG_FASTOPEN, SCM_RIGHTS, MSGHDR, MMSGHDR, UIO_MAXIOV, MAX_SEND, MAX_CONTROL, MAX_BATCH } from './supervisor-abi';

export class NetworkCalls {
  constructor(private readonly s: Answering) {}

  /**
   * Opens, with O_PATH, the file a unix socket path names, resolved as the kernel resolves it for the target:
   * inside the target's root, from its cwd for a relative path, following every link component by component
   * (openat2 RESOLVE_IN_ROOT, no magic links). The caller checks the resolved path and connects to
   * /proc/self/fd/<fd>, so the file checked is the file used.
   */
  openUnixPath(pid: number, p: string): { fd: number; resolved: string } | { errno: number; unreadable?: true } {
    let abs = p;
    if (!p.startsWith('/')) {
      try {
        // Joined as text, never normalised: `lnk/../x` must follow lnk before `..`, as the kernel does.
        abs = `${fs.readlinkSync(`/proc/${pid}/cwd`)}/${p}`;
      } catch {
        return { errno: EACCES, unreadable: true };
      }
    }
    const root = this.s.n.openat2(AT_FDCWD, `/proc/${pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (root < 0) return { errno: EACCES, unreadable: true };
    let fd: number;
    try {
      fd = this.s.n.openat2(root, abs, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    } finally {
      this.s.n.close(root);
    }
    if (fd < 0) return { errno: -fd };
    try {
      const st = fs.fstatSync(fd);
      if (!st.isSocket()) {
        this.s.n.close(fd);
        return { errno: ECONNREFUSED };
      }
      return { fd, resolved: fs.readlinkSync(`/proc/self/fd/${fd}`) };
    } catch {
      this.s.n.close(fd);
      return { errno: EACCES, unreadable: true };
    }
  }

  /**
   * The destination our copy of a sockaddr names, decided: either a refusal (reported), or the bytes to use
   * (for a unix path: /proc/self/fd/<O_PATH fd> of the checked file, which the caller closes).
   */
  destination(r: RunState, note: Notification, name: string, raw: Buffer): { refused: true } | { buf: Buffer; opath: number | null } {
    const addr = parseSockaddr(raw);
    if (!addr) {
      this.s.refuse(r, note, name, unreadable(name), EACCES);
      return { refused: true };
    }
    if (addr.family === 'unix' && addr.abstract) {
      // Landlock scopes abstract sockets to the run's own processes, but only for calls the target makes:
      // a connect by the supervisor would escape that scope, and letting the call continue would let a thread
      // turn the name into a path after our check. So the kernel's scope cannot be kept race-free here.
      if (r.violation !== 'refuse') return { buf: raw, opath: null };
      this.s.refuse(r, note, name, { kind: 'network', severity: 'warning', rule: 'unix-abstract-socket', what: `${name} to ${describeAddr(addr)}`, why: 'abstract unix sockets cannot be checked race-free by the supervisor; use a socket file in the workspace or the run\'s TMPDIR' }, EACCES);
      return { refused: true };
    }
    if (addr.family === 'unix' && !addr.unnamed) {
      const o = this.openUnixPath(note.pid, addr.path);
      if ('errno' in o) {
        if (o.unreadable) {
          this.s.refuse(r, note, name, unreadable(name), EACCES);
          return { refused: true };
        }
        // No socket file there (or a link loop, or a directory it may not search): nothing to connect to and
        // nothing to decide; the answer is the kernel's own (ENOENT for an absent nscd socket, say).
        if (r.violation === 'refuse') this.s.answer(r, note, -o.errno);
        else this.s.cont(r, note);
        return { refused: true };
      }
      const verdict = decideConnect(r, { ...addr, path: o.resolved });
      if (verdict) {
        this.s.n.close(o.fd);
        this.s.refuse(r, note, name, o.resolved !== addr.path ? { ...verdict, what: `${verdict.what} (written ${addr.path})` } : verdict, EACCES);
        return { refused: true };
      }
      const buf = unixSockaddr(`/proc/self/fd/${o.fd}`)!;
      return { buf, opath: o.fd };
    }
    const verdict = decideConnect(r, addr);
    if (verdict) {
      this.s.refuse(r, note, name, verdict, EACCES);
      return { refused: true };
    }
    // Other families and unnamed addresses: our copy goes to the kernel, which applies its own family checks.
    return { buf: raw, opath: null };
  }

  /**
   * The destination of a connect or sendto (its pointer and length arguments), read and decided. null when
   * the notification is answered already: refused, unreadable, or let go on in warn mode (the supervisor
   * performs a call only in enforce). The caller closes `opath` when it is set.
   */
  private allowedDestination(r: RunState, note: Notification, name: string, ptrArg: number, lenArg: number): { buf: Buffer; opath: number | null } | null {
    const raw = this.s.readAddr(note, ptrArg, lenArg);
    if (!raw) {
      this.s.refuse(r, note, name, unreadable(name), EACCES);
      return null;
    }
    const dest = this.destination(r, note, name, raw);
    if ('refused' in dest) return null;
    if (r.violation !== 'refuse') {
      if (dest.opath !== null) this.s.n.close(dest.opath);
      this.s.cont(r, note);
      return null;
    }
    return dest;
  }

  onConnect(r: RunState, note: Notification, name: string): void {
    const dest = this.allowedDestination(r, note, name, 1, 2);
    if (!dest) return;
    // Allowed: always performed with our own copy, so a thread rewriting the address after the check (or
    // turning one family into another) changes nothing.
    const fd = this.s.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) {
      if (dest.opath !== null) this.s.n.close(dest.opath);
      return void this.s.n.respond(r.listener, note.id, { error: EBADF });
    }
    const flags = this.s.n.getfl(fd);
    const blocking = (flags & O_NONBLOCK) === 0;
    if (blocking) this.s.n.setfl(fd, flags | O_NONBLOCK);
    const res = this.s.n.connect(fd, dest.buf);
    if (dest.opath !== null) this.s.n.close(dest.opath);
    if (res === -EINPROGRESS && blocking) {
      // The target expects a blocking connect: finish it when the socket is writable, without stalling others.
      const finish = () => {
        const err = this.s.n.getsockoptInt(fd, SOL_SOCKET, SO_ERROR);
        this.s.n.setfl(fd, flags);
        this.s.n.close(fd);
        this.s.n.respond(r.listener, note.id, err !== 0 ? { error: err < 0 ? -err : err } : { val: 0n });
        return true;
      };
      const drop = () => {
        this.s.n.setfl(fd, flags);
        this.s.n.close(fd);
      };
      this.s.pending.set(fd, { run: r, note, fd, retry: finish, drop });
      return;
    }
    if (blocking) this.s.n.setfl(fd, flags);
    this.s.n.close(fd);
    this.s.answer(r, note, res < 0 ? res : 0);
  }

  onBind(r: RunState, note: Notification, name: string): void {
    const raw = this.s.readAddr(note, 1, 2);
    const addr = raw ? parseSockaddr(raw) : null;
    if (!raw || !addr) return this.s.refuse(r, note, name, unreadable('bind'), EACCES);
    const verdict = decideBind(r, addr);
    if (verdict) return this.s.refuse(r, note, name, verdict, EACCES);
    if (r.violation !== 'refuse') return this.s.cont(r, note);
    const fd = this.s.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) return void this.s.n.respond(r.listener, note.id, { error: EBADF });
    const domain = this.s.n.getsockoptInt(fd, SOL_SOCKET, SO_DOMAIN);
    if (domain !== AF_INET && domain !== AF_INET6) {
      // A unix or netlink socket accepts only its own family's addresses, so no rewrite can make this an IP
      // bind; a unix socket file is created by the target itself, under Landlock.
      this.s.n.close(fd);
      return this.s.cont(r, note);
    }
    const res = this.s.n.bind(fd, raw);
    this.s.n.close(fd);
    this.s.answer(r, note, res < 0 ? res : 0);
  }

  onSendto(r: RunState, note: Notification, name: string): void {
    // BPF only notifies sendto with a destination address (args[4] != NULL).
    const dest = this.allowedDestination(r, note, name, 4, 5);
    if (!dest) return;
    const len = Number(note.args[2]!);
    const data = len > MAX_SEND ? null : this.s.mem.readExact(note.pid, note.args[1]!, len);
    if (!data) {
      if (dest.opath !== null) this.s.n.close(dest.opath);
      if (len > MAX_SEND) return void this.s.n.respond(r.listener, note.id, { error: EMSGSIZE });
      return this.s.refuse(r, note, name, unreadable(name), EACCES);
    }
    this.emulateSend(r, note, [{ name: dest.buf, data, control: null, fds: dest.opath !== null ? [dest.opath] : [] }], Number(note.args[3]! & 0xffffffffn), false);
  }

  /**
   * sendmsg/sendmmsg carry their addresses inside msghdr structures in the target's memory. On sockets whose
   * kernel code ignores msg_name (TCP without MSG_FASTOPEN, unix stream and seqpacket) and on netlink the
   * call goes on untouched; everywhere else every message is copied, checked and sent by the supervisor
   * from its copy (data, address, control with SCM_RIGHTS fds taken over), so nothing the target changes
   * after the check is used.
   */
  onSendmsg(r: RunState, note: Notification, name: string): void {
    const flags = Number(note.args[name === 'sendmsg' ? 2 : 3]! & 0xffffffffn);
    const sock = this.s.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (sock === null) {
      if (r.violation !== 'refuse') return this.s.cont(r, note);
      return void this.s.n.respond(r.listener, note.id, { error: EBADF });
    }
    const domain = this.s.n.getsockoptInt(sock, SOL_SOCKET, SO_DOMAIN);
    const type = this.s.n.getsockoptInt(sock, SOL_SOCKET, SO_TYPE);
    const proto = this.s.n.getsockoptInt(sock, SOL_SOCKET, SO_PROTOCOL);
    this.s.n.close(sock);
    if (domain < 0) return void this.s.n.respond(r.listener, note.id, { error: domain === -ENOTSOCK ? ENOTSOCK : -domain });
    const nameIgnored =
      (domain === AF_UNIX && (type === SOCK_STREAM || type === SOCK_SEQPACKET)) ||
      ((domain === AF_INET || domain === AF_INET6) && type === SOCK_STREAM && (proto === IPPROTO_TCP || proto === IPPROTO_MPTCP) && (flags & MSG_FASTOPEN) === 0);
    if (nameIgnored || (domain !== AF_UNIX && domain !== AF_INET && domain !== AF_INET6)) return this.s.cont(r, note);
    const count = name === 'sendmsg' ? 1 : Math.min(Number(note.args[2]! & 0xffffffffn), UIO_MAXIOV);
    if (count === 0) return r.violation === 'refuse' ? this.s.answer(r, note, 0) : this.s.cont(r, note);
    const msgs: OutMessage[] = [];
    const release = () => msgs.forEach((m) => m.fds.forEach((fd) => this.s.n.close(fd)));
    let copied = 0;
    for (let i = 0; i < count; i++) {
      const at = note.args[1]! + BigInt(i * MMSGHDR);
      const m = this.copyMessage(r, note, name, at);
      if ('errno' in m) {
        release();
        if (m.errno === EACCES) return this.s.refuse(r, note, name, unreadable(name), EACCES);
        if (r.violation !== 'refuse') return this.s.cont(r, note);
        return void this.s.n.respond(r.listener, note.id, { error: m.errno });
      }
      if ('refused' in m) {
        release();
        return;
      }
      msgs.push(m);
      copied += m.data.length;
      // Bounded work per call: past MAX_BATCH bytes the rest is not sent (sendmmsg may send fewer than asked
      // and says how many); nothing unchecked is ever sent.
      if (copied > MAX_BATCH) break;
    }
    if (r.violation !== 'refuse') {
      release();
      return this.s.cont(r, note);
    }
    this.emulateSend(r, note, msgs, flags, name === 'sendmmsg');
  }

  /** One msghdr at `at`, copied and its destination decided; an errno for what the kernel would refuse too. */
  copyMessage(r: RunState, note: Notification, name: string, at: bigint): OutMessage | { errno: number } | { refused: true } {
    const hdr = this.s.mem.readExact(note.pid, at, MSGHDR);
    if (!hdr) return { errno: EACCES };
    const namePtr = hdr.readBigUInt64LE(0);
    const nameLen = hdr.readUInt32LE(8);
    const iovPtr = hdr.readBigUInt64LE(16);
    const iovLen = Number(hdr.readBigUInt64LE(24));
    const ctlPtr = hdr.readBigUInt64LE(32);
    const ctlLen = Number(hdr.readBigUInt64LE(40));
    if (iovLen > UIO_MAXIOV) return { errno: EMSGSIZE };
    if (nameLen > 128) return { errno: EINVAL };
    const fds: number[] = [];
    let dest: Buffer | null = null;
    if (namePtr !== 0n && nameLen > 0) {
      const raw = this.s.mem.readExact(note.pid, namePtr, nameLen);
      if (!raw) return { errno: EACCES };
      const d = this.destination(r, note, name, raw);
      if ('refused' in d) return d;
      dest = d.buf;
      if (d.opath !== null) fds.push(d.opath);
    }
    const fail = (errno: number) => {
      fds.forEach((fd) => this.s.n.close(fd));
      return { errno };
    };
    const parts: Buffer[] = [];
    let total = 0;
    if (iovLen > 0) {
      const iov = this.s.mem.readExact(note.pid, iovPtr, iovLen * 16);
      if (!iov) return fail(EACCES);
      for (let k = 0; k < iovLen; k++) {
        const len = Number(iov.readBigUInt64LE(k * 16 + 8));
        total += len;
        if (total > MAX_SEND) return fail(EMSGSIZE);
        const part = this.s.mem.readExact(note.pid, iov.readBigUInt64LE(k * 16), len);
        if (!part) return fail(EACCES);
        parts.push(part);
      }
    }
    let control: Buffer | null = null;
    if (ctlPtr !== 0n && ctlLen > 0) {
      if (ctlLen > MAX_CONTROL) return fail(ENOBUFS);
      const c = this.s.mem.readExact(note.pid, ctlPtr, ctlLen);
      if (!c) return fail(EACCES);
      control = Buffer.from(c);
      // Walk the cmsghdrs (len u64, level i32, type i32, data, 8-aligned): fds passed with SCM_RIGHTS are
      // numbers in the target's table, so they are replaced with our copies of the same files.
      for (let off = 0; off + 16 <= control.length; ) {
        const len = Number(control.readBigUInt64LE(off));
        if (len < 16 || off + len > control.length) return fail(EINVAL);
        const level = control.readInt32LE(off + 8);
        const type = control.readInt32LE(off + 12);
        if (level === SOL_SOCKET && type === SCM_RIGHTS) {
          for (let q = off + 16; q + 4 <= off + len; q += 4) {
            const mine = this.s.stealFd(r, note, control.readInt32LE(q));
            if (mine === null) return fail(EBADF);
            fds.push(mine);
            control.writeInt32LE(mine, q);
          }
        } else if (level === SOL_SOCKET) {
          // SCM_CREDENTIALS would be checked against the supervisor's pid, not the target's.
          return fail(EPERM);
        }
        off += (len + 7) & ~7;
      }
    }
    return { name: dest, data: Buffer.concat(parts, total), control, fds };
  }

  /**
   * Sends our copies on our copy of the target's socket. The target's own blocking mode is kept: a send that
   * would block waits (in the poll loop, not stalling other runs) until the socket is writable.
   */
  emulateSend(r: RunState, note: Notification, msgs: OutMessage[], flags: number, mmsg: boolean): void {
    const release = () => msgs.forEach((m) => m.fds.forEach((fd) => this.s.n.close(fd)));
    if ((flags & MSG_FASTOPEN) !== 0) {
      // TCP Fast Open would connect inside the send, and a non-blocking one cannot be finished for a blocking
      // caller; the kernel's answer when the client side is off is EOPNOTSUPP, and clients fall back to connect.
      release();
      return void this.s.n.respond(r.listener, note.id, { error: EOPNOTSUPP });
    }
    const fd = this.s.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) {
      release();
      return void this.s.n.respond(r.listener, note.id, { error: EBADF });
    }
    const blocking = (flags & MSG_DONTWAIT) === 0 && (this.s.n.getfl(fd) & O_NONBLOCK) === 0;
    let sent = 0;
    const finish = (res: number) => {
      this.s.n.close(fd);
      release();
      this.s.answer(r, note, res);
    };
    const attempt = (): boolean => {
      while (sent < msgs.length) {
        const m = msgs[sent]!;
        const res = this.s.n.sendmsg(fd, m, flags | MSG_DONTWAIT);
        if (res === -EAGAIN && blocking && sent === 0) return false;
        if (res < 0) {
          finish(sent > 0 ? sent : res);
          return true;
        }
        if (mmsg) {
          const len = Buffer.alloc(4);
          len.writeUInt32LE(res);
          this.s.mem.write(note.pid, note.args[1]! + BigInt(sent * MMSGHDR + MSGHDR), len);
        }
        sent++;
        if (!mmsg) {
          finish(res);
          return true;
        }
      }
      finish(sent);
      return true;
    };
    if (!attempt()) this.s.pending.set(fd, { run: r, note, fd, retry: attempt, drop: () => (this.s.n.close(fd), release()) });
  }
}
