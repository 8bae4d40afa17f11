// The supervisor's worker thread: one synchronous loop over every run's seccomp listener. Each notification
// is decided here (policy is data, so the worker holds a copy) and answered at once; violations go to the
// main thread as messages. Running on its own thread keeps a notification round trip at a few microseconds
// of koffi calls instead of a thread-pool hop per call.
import { parentPort, workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNotifyCalls, TargetMemory, POLLIN, POLLOUT, POLLHUP, type Notification, type NotifyCalls } from '../../native/linux/notify';
import type { Violation } from '../policy/violation';
import type { SupervisorControl, SupervisorEvent, SupervisedRun } from './supervisor-protocol';
import { decideConnect, decideBind, decideFile, decideDenied, type Verdict } from './supervisor-decide';
import { parseSockaddr, unixSockaddr, describeAddr } from './sockaddr';
import { resolveComponents } from './target-path';
import { FileEmulator } from './supervisor-emulate';
import { loadFileOpCalls } from '../../native/linux/notify-addfd';

const EPERM = 1;
const EACCES = 13;
const EBADF = 9;
const EINPROGRESS = 115;
const EMSGSIZE = 90;
const ENOBUFS = 105;
const O_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_DOMAIN = 39;
const SO_TYPE = 3;
const AT_FDCWD = -100;
const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;
const EAGAIN = 11;
const EINVAL = 22;
const ENOTSOCK = 88;
const EOPNOTSUPP = 95;
const ECONNREFUSED = 111;
const SO_PROTOCOL = 38;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_SEQPACKET = 5;
const IPPROTO_TCP = 6;
const IPPROTO_MPTCP = 262;
const MSG_DONTWAIT = 0x40;
const MSG_FASTOPEN = 0x20000000;
const SCM_RIGHTS = 1;
/** struct msghdr is 56 bytes, struct mmsghdr 64 (msghdr + msg_len + padding), struct iovec 16. */
const MSGHDR = 56;
const MMSGHDR = 64;
/** The kernel's own cap on sendmmsg's vlen and on msg_iovlen: every message it would send is checked. */
const UIO_MAXIOV = 1024;
/** Largest payload the supervisor copies for one emulated message (a datagram is at most 64 KiB anyway). */
const MAX_SEND = 256 * 1024;
const MAX_CONTROL = 64 * 1024;
/** Most payload one sendmmsg has copied before the supervisor stops taking further messages. */
const MAX_BATCH = 4 * 1024 * 1024;

interface RunState extends SupervisedRun {
  hup: boolean;
  pidfds: Map<number, number>;
  counts: Map<string, number>;
  /** Pids (tids) that made a supervised call: the worker's cached /proc/<pid>/mem fds to close with the run. */
  pids: Set<number>;
}

/** A run's remembered pids above which the ones that are gone are forgotten (a script forking many processes). */
const PID_SWEEP = 64;

/** A call the supervisor performs for the target that has to wait until our copy of its socket is writable. */
interface PendingOp {
  run: RunState;
  note: Notification;
  fd: number;
  /** Tries again; true when it answered the notification (and released what it held). */
  retry(): boolean;
  /** Releases what it holds without answering (the target is gone or was interrupted). */
  drop(): void;
}

/** One message of a sendmsg/sendmmsg, copied out of the target. */
interface OutMessage {
  name: Buffer | null;
  data: Buffer;
  control: Buffer | null;
  /** Our copies of the fds an SCM_RIGHTS block passes; closed after the send. */
  fds: number[];
}

class SupervisorLoop {
  private readonly runs = new Map<number, RunState>(); // by listener fd
  private readonly pending = new Map<number, PendingOp>(); // by our socket fd
  private readonly mem = new TargetMemory();
  private stopping = false;
  // --- fallback-tier file emulation (supervisor-emulate.ts) ---
  private readonly emulator: FileEmulator;

  constructor(
    private readonly n: NotifyCalls,
    private readonly control: MessagePort,
    private readonly wakeFd: number,
    private readonly names: Record<number, string>,
  ) {
    this.emulator = new FileEmulator(this.n, loadFileOpCalls(), this.mem); // fallback-tier file emulation
  }

  run(): void {
    while (!this.stopping) {
      this.drainControl();
      if (this.stopping) break;
      const fds: Array<[number, number]> = [[this.wakeFd, POLLIN]];
      for (const [fd, r] of this.runs) if (!r.hup) fds.push([fd, POLLIN]);
      for (const fd of this.pending.keys()) fds.push([fd, POLLOUT]);
      const ready = this.n.pollSync(fds, 1000);
      // A target killed or interrupted while we wait for its socket no longer needs the answer.
      for (const [fd, p] of this.pending) {
        if (this.n.idValid(p.run.listener, p.note.id)) continue;
        p.drop();
        this.pending.delete(fd);
      }
      for (const [fd, rev] of ready) {
        if (fd === this.wakeFd) {
          this.n.drain(fd);
          continue;
        }
        const p = this.pending.get(fd);
        if (p) {
          if (p.retry()) this.pending.delete(fd);
          continue;
        }
        const r = this.runs.get(fd);
        if (!r) continue;
        if (rev & POLLIN) this.handleOne(r);
        else if (rev & POLLHUP) {
          // No process is left under this filter.
          r.hup = true;
          this.forgetGone(r, true);
          this.post({ type: 'hup', runId: r.runId });
        }
      }
    }
    this.mem.dispose();
  }

  /**
   * Closes the cached /proc/<pid>/mem fds and pidfds of the run's pids that are gone (all of them when no
   * process is left under the filter). A pid reused meanwhile only costs a reopen: a stale mem fd reads as
   * empty and is reopened (TargetMemory.read), a stale pidfd is replaced (stealFd).
   */
  private forgetGone(r: RunState, all: boolean): void {
    for (const pid of r.pids) {
      if (!all && fs.existsSync(`/proc/${pid}`)) continue;
      this.mem.forget(pid);
      const pfd = r.pidfds.get(pid);
      if (pfd !== undefined) this.n.close(pfd);
      r.pidfds.delete(pid);
      r.pids.delete(pid);
    }
  }

  private post(e: SupervisorEvent): void {
    parentPort!.postMessage(e);
  }

  private drainControl(): void {
    for (;;) {
      const m = receiveMessageOnPort(this.control)?.message as SupervisorControl | { type: 'sync'; token: number } | undefined;
      if (!m) return;
      if (m.type === 'add') {
        this.runs.set(m.run.listener, { ...m.run, hup: false, pidfds: new Map(), counts: new Map(), pids: new Set() });
      } else if (m.type === 'remove') {
        for (const [fd, r] of this.runs) {
          if (r.runId !== m.runId) continue;
          for (const pfd of r.pidfds.values()) this.n.close(pfd);
          for (const pid of r.pids) this.mem.forget(pid);
          this.n.close(fd);
          this.runs.delete(fd);
          this.emulator.forget(r.runId); // fallback-tier file emulation
        }
      } else if (m.type === 'names') {
        for (const r of this.runs.values()) if (r.runId === m.runId) Object.assign(r.hostNames, m.names);
      } else if (m.type === 'stop') {
        this.stopping = true;
      } else if (m.type === 'sync') {
        // Messages to the main thread arrive in order: this reply follows every violation posted before it.
        parentPort!.postMessage({ type: 'synced', token: m.token });
      }
    }
  }

  private handleOne(r: RunState): void {
    const note = this.n.recv(r.listener);
    if (!note) return;
    const name = this.names[note.nr] ?? `syscall_${note.nr}`;
    if (!r.pids.has(note.pid)) {
      if (r.pids.size >= PID_SWEEP) this.forgetGone(r, false);
      r.pids.add(note.pid);
    }
    try {
      if (r.denied.includes(name)) return this.onDenied(r, note, name);
      // --- fallback-tier file emulation: calls on carved directories are performed, not continued ---
      if (this.emulator.handle(r, note, name, (v, errno) => this.refuse(r, note, name, v, errno))) return;
      // --- end ---
      switch (name) {
        case 'connect':
          return this.onConnect(r, note, name);
        case 'bind':
          return this.onBind(r, note, name);
        case 'sendto':
          return this.onSendto(r, note, name);
        case 'sendmsg':
        case 'sendmmsg':
          return this.onSendmsg(r, note, name);
        case 'open':
        case 'creat':
        case 'openat':
        case 'openat2':
          return this.onOpen(r, note, name);
        case 'unlink':
        case 'unlinkat':
        case 'rmdir':
        case 'mkdir':
        case 'mkdirat':
        case 'rename':
        case 'renameat':
        case 'renameat2':
        case 'link':
        case 'linkat':
        case 'truncate':
          return this.onPathWrite(r, note, name);
        default:
          return this.onDenied(r, note, name);
      }
    } catch (e) {
      // Fail closed: an answer we could not compute is a denial.
      this.n.respond(r.listener, note.id, { error: EPERM });
      this.post({ type: 'error', runId: r.runId, message: `supervisor: ${name}: ${(e as Error).message}` });
    }
  }

  private violation(r: RunState, note: Notification, syscall: string, v: Verdict): void {
    const key = `${v.kind}|${syscall}|${v.rule}|${v.path ?? ''}|${v.address ?? ''}|${v.port ?? ''}`;
    const seen = (r.counts.get(key) ?? 0) + 1;
    r.counts.set(key, seen);
    // The same attempt repeated in a loop is reported ten times, then counted silently.
    if (seen > 10) return;
    const action: Violation['action'] = r.mode === 'enforce' ? 'blocked' : 'warned';
    // warn: the reason still says what enforce would do, so the verb says it was let through.
    const verb = action === 'blocked' ? 'Blocked' : 'Allowed (warn mode), would block';
    const violation: Violation = {
      runId: r.runId,
      time: new Date().toISOString(),
      kind: v.kind,
      action,
      severity: v.severity,
      syscall,
      pid: note.pid,
      rule: v.rule,
      message: `${verb} ${v.what} — ${v.why}`,
      ...(v.path !== undefined ? { path: v.path } : {}),
      ...(v.resolvedPath !== undefined ? { resolvedPath: v.resolvedPath } : {}),
      ...(v.address !== undefined ? { address: v.address } : {}),
      ...(v.port !== undefined ? { port: v.port } : {}),
      ...(v.host !== undefined ? { host: v.host } : {}),
    };
    this.post({ type: 'violation', violation });
  }

  /** Blocks (enforce) or lets it go on (warn), reporting either way. */
  private refuse(r: RunState, note: Notification, syscall: string, v: Verdict, errno: number): void {
    if (!this.n.idValid(r.listener, note.id)) return;
    this.violation(r, note, syscall, v);
    if (r.mode === 'enforce') this.n.respond(r.listener, note.id, { error: errno });
    else this.n.respond(r.listener, note.id, { continue: true });
  }

  private cont(r: RunState, note: Notification): void {
    this.n.respond(r.listener, note.id, { continue: true });
  }

  private onDenied(r: RunState, note: Notification, name: string): void {
    this.refuse(r, note, name, decideDenied(r, name), EPERM);
  }

  private readAddr(note: Notification, ptrArg: number, lenArg: number): Buffer | null {
    const len = Number(note.args[lenArg]! & 0xffffffffn);
    // The kernel refuses a sockaddr over 128 bytes (EINVAL) before reading it; a shorter read is no address.
    if (len > 128) return null;
    return this.mem.readExact(note.pid, note.args[ptrArg]!, len);
  }

  /** A copy of the target's fd in our process, after making sure the notification (and so the pid) is still live. */
  private stealFd(r: RunState, note: Notification, fd: number): number | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      let pidfd = r.pidfds.get(note.pid);
      if (pidfd === undefined) {
        try {
          pidfd = this.n.pidfdOpen(note.pid);
        } catch {
          return null;
        }
        r.pidfds.set(note.pid, pidfd);
      }
      if (!this.n.idValid(r.listener, note.id)) return null;
      try {
        return this.n.pidfdGetfd(pidfd, fd);
      } catch {
        // A cached pidfd of an earlier process that had this pid (gone, ESRCH): open a fresh one once. The
        // notification checked live above means note.pid is the caller now.
        this.n.close(pidfd);
        r.pidfds.delete(note.pid);
      }
    }
    return null;
  }

  private answer(r: RunState, note: Notification, res: number): void {
    this.n.respond(r.listener, note.id, res < 0 ? { error: -res } : { val: BigInt(res) });
  }

  /**
   * Opens, with O_PATH, the file a unix socket path names, resolved as the kernel resolves it for the target:
   * inside the target's root, from its cwd for a relative path, following every link component by component
   * (openat2 RESOLVE_IN_ROOT, no magic links). The caller checks the resolved path and connects to
   * /proc/self/fd/<fd>, so the file checked is the file used.
   */
  private openUnixPath(pid: number, p: string): { fd: number; resolved: string } | { errno: number; unreadable?: true } {
    let abs = p;
    if (!p.startsWith('/')) {
      try {
        // Joined as text, never normalised: `lnk/../x` must follow lnk before `..`, as the kernel does.
        abs = `${fs.readlinkSync(`/proc/${pid}/cwd`)}/${p}`;
      } catch {
        return { errno: EACCES, unreadable: true };
      }
    }
    const root = this.n.openat2(AT_FDCWD, `/proc/${pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (root < 0) return { errno: EACCES, unreadable: true };
    let fd: number;
    try {
      fd = this.n.openat2(root, abs, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    } finally {
      this.n.close(root);
    }
    if (fd < 0) return { errno: -fd };
    try {
      const st = fs.fstatSync(fd);
      if (!st.isSocket()) {
        this.n.close(fd);
        return { errno: ECONNREFUSED };
      }
      return { fd, resolved: fs.readlinkSync(`/proc/self/fd/${fd}`) };
    } catch {
      this.n.close(fd);
      return { errno: EACCES, unreadable: true };
    }
  }

  /**
   * The destination our copy of a sockaddr names, decided: either a refusal (reported), or the bytes to use
   * (for a unix path: /proc/self/fd/<O_PATH fd> of the checked file, which the caller closes).
   */
  private destination(r: RunState, note: Notification, name: string, raw: Buffer): { refused: true } | { buf: Buffer; opath: number | null } {
    const addr = parseSockaddr(raw);
    if (!addr) {
      this.refuse(r, note, name, unreadable(name), EACCES);
      return { refused: true };
    }
    if (addr.family === 'unix' && addr.abstract) {
      // Landlock scopes abstract sockets to the run's own processes, but only for calls the target makes:
      // a connect by the supervisor would escape that scope, and letting the call continue would let a thread
      // turn the name into a path after our check. So the kernel's scope cannot be kept race-free here.
      if (r.mode !== 'enforce') return { buf: raw, opath: null };
      this.refuse(r, note, name, { kind: 'network', severity: 'warning', rule: 'unix-abstract-socket', what: `${name} to ${describeAddr(addr)}`, why: 'abstract unix sockets cannot be checked race-free by the supervisor; use a socket file in the workspace or the run\'s TMPDIR' }, EACCES);
      return { refused: true };
    }
    if (addr.family === 'unix' && !addr.unnamed) {
      const o = this.openUnixPath(note.pid, addr.path);
      if ('errno' in o) {
        if (o.unreadable) {
          this.refuse(r, note, name, unreadable(name), EACCES);
          return { refused: true };
        }
        // No socket file there (or a link loop, or a directory it may not search): nothing to connect to and
        // nothing to decide; the answer is the kernel's own (ENOENT for an absent nscd socket, say).
        if (r.mode === 'enforce') this.answer(r, note, -o.errno);
        else this.cont(r, note);
        return { refused: true };
      }
      const verdict = decideConnect(r, { ...addr, path: o.resolved });
      if (verdict) {
        this.n.close(o.fd);
        this.refuse(r, note, name, o.resolved !== addr.path ? { ...verdict, what: `${verdict.what} (written ${addr.path})` } : verdict, EACCES);
        return { refused: true };
      }
      const buf = unixSockaddr(`/proc/self/fd/${o.fd}`)!;
      return { buf, opath: o.fd };
    }
    const verdict = decideConnect(r, addr);
    if (verdict) {
      this.refuse(r, note, name, verdict, EACCES);
      return { refused: true };
    }
    // Other families and unnamed addresses: our copy goes to the kernel, which applies its own family checks.
    return { buf: raw, opath: null };
  }

  private onConnect(r: RunState, note: Notification, name: string): void {
    const raw = this.readAddr(note, 1, 2);
    if (!raw) return this.refuse(r, note, name, unreadable(name), EACCES);
    const dest = this.destination(r, note, name, raw);
    if ('refused' in dest) return;
    if (r.mode !== 'enforce') {
      if (dest.opath !== null) this.n.close(dest.opath);
      return this.cont(r, note);
    }
    // Allowed: always performed with our own copy, so a thread rewriting the address after the check (or
    // turning one family into another) changes nothing.
    const fd = this.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) {
      if (dest.opath !== null) this.n.close(dest.opath);
      return void this.n.respond(r.listener, note.id, { error: EBADF });
    }
    const flags = this.n.getfl(fd);
    const blocking = (flags & O_NONBLOCK) === 0;
    if (blocking) this.n.setfl(fd, flags | O_NONBLOCK);
    const res = this.n.connect(fd, dest.buf);
    if (dest.opath !== null) this.n.close(dest.opath);
    if (res === -EINPROGRESS && blocking) {
      // The target expects a blocking connect: finish it when the socket is writable, without stalling others.
      const finish = () => {
        const err = this.n.getsockoptInt(fd, SOL_SOCKET, SO_ERROR);
        this.n.setfl(fd, flags);
        this.n.close(fd);
        this.n.respond(r.listener, note.id, err !== 0 ? { error: err < 0 ? -err : err } : { val: 0n });
        return true;
      };
      const drop = () => {
        this.n.setfl(fd, flags);
        this.n.close(fd);
      };
      this.pending.set(fd, { run: r, note, fd, retry: finish, drop });
      return;
    }
    if (blocking) this.n.setfl(fd, flags);
    this.n.close(fd);
    this.answer(r, note, res < 0 ? res : 0);
  }

  private onBind(r: RunState, note: Notification, name: string): void {
    const raw = this.readAddr(note, 1, 2);
    const addr = raw ? parseSockaddr(raw) : null;
    if (!raw || !addr) return this.refuse(r, note, name, unreadable('bind'), EACCES);
    const verdict = decideBind(r, addr);
    if (verdict) return this.refuse(r, note, name, verdict, EACCES);
    if (r.mode !== 'enforce') return this.cont(r, note);
    const fd = this.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) return void this.n.respond(r.listener, note.id, { error: EBADF });
    const domain = this.n.getsockoptInt(fd, SOL_SOCKET, SO_DOMAIN);
    if (domain !== AF_INET && domain !== AF_INET6) {
      // A unix or netlink socket accepts only its own family's addresses, so no rewrite can make this an IP
      // bind; a unix socket file is created by the target itself, under Landlock.
      this.n.close(fd);
      return this.cont(r, note);
    }
    const res = this.n.bind(fd, raw);
    this.n.close(fd);
    this.answer(r, note, res < 0 ? res : 0);
  }

  private onSendto(r: RunState, note: Notification, name: string): void {
    // BPF only notifies sendto with a destination address (args[4] != NULL).
    const raw = this.readAddr(note, 4, 5);
    if (!raw) return this.refuse(r, note, name, unreadable(name), EACCES);
    const dest = this.destination(r, note, name, raw);
    if ('refused' in dest) return;
    if (r.mode !== 'enforce') {
      if (dest.opath !== null) this.n.close(dest.opath);
      return this.cont(r, note);
    }
    const len = Number(note.args[2]!);
    const data = len > MAX_SEND ? null : this.mem.readExact(note.pid, note.args[1]!, len);
    if (!data) {
      if (dest.opath !== null) this.n.close(dest.opath);
      if (len > MAX_SEND) return void this.n.respond(r.listener, note.id, { error: EMSGSIZE });
      return this.refuse(r, note, name, unreadable(name), EACCES);
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
  private onSendmsg(r: RunState, note: Notification, name: string): void {
    const flags = Number(note.args[name === 'sendmsg' ? 2 : 3]! & 0xffffffffn);
    const sock = this.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (sock === null) {
      if (r.mode !== 'enforce') return this.cont(r, note);
      return void this.n.respond(r.listener, note.id, { error: EBADF });
    }
    const domain = this.n.getsockoptInt(sock, SOL_SOCKET, SO_DOMAIN);
    const type = this.n.getsockoptInt(sock, SOL_SOCKET, SO_TYPE);
    const proto = this.n.getsockoptInt(sock, SOL_SOCKET, SO_PROTOCOL);
    this.n.close(sock);
    if (domain < 0) return void this.n.respond(r.listener, note.id, { error: domain === -ENOTSOCK ? ENOTSOCK : -domain });
    const nameIgnored =
      (domain === AF_UNIX && (type === SOCK_STREAM || type === SOCK_SEQPACKET)) ||
      ((domain === AF_INET || domain === AF_INET6) && type === SOCK_STREAM && (proto === IPPROTO_TCP || proto === IPPROTO_MPTCP) && (flags & MSG_FASTOPEN) === 0);
    if (nameIgnored || (domain !== AF_UNIX && domain !== AF_INET && domain !== AF_INET6)) return this.cont(r, note);
    const count = name === 'sendmsg' ? 1 : Math.min(Number(note.args[2]! & 0xffffffffn), UIO_MAXIOV);
    if (count === 0) return r.mode === 'enforce' ? this.answer(r, note, 0) : this.cont(r, note);
    const msgs: OutMessage[] = [];
    const release = () => msgs.forEach((m) => m.fds.forEach((fd) => this.n.close(fd)));
    let copied = 0;
    for (let i = 0; i < count; i++) {
      const at = note.args[1]! + BigInt(i * MMSGHDR);
      const m = this.copyMessage(r, note, name, at);
      if ('errno' in m) {
        release();
        if (m.errno === EACCES) return this.refuse(r, note, name, unreadable(name), EACCES);
        if (r.mode !== 'enforce') return this.cont(r, note);
        return void this.n.respond(r.listener, note.id, { error: m.errno });
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
    if (r.mode !== 'enforce') {
      release();
      return this.cont(r, note);
    }
    this.emulateSend(r, note, msgs, flags, name === 'sendmmsg');
  }

  /** One msghdr at `at`, copied and its destination decided; an errno for what the kernel would refuse too. */
  private copyMessage(r: RunState, note: Notification, name: string, at: bigint): OutMessage | { errno: number } | { refused: true } {
    const hdr = this.mem.readExact(note.pid, at, MSGHDR);
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
      const raw = this.mem.readExact(note.pid, namePtr, nameLen);
      if (!raw) return { errno: EACCES };
      const d = this.destination(r, note, name, raw);
      if ('refused' in d) return d;
      dest = d.buf;
      if (d.opath !== null) fds.push(d.opath);
    }
    const fail = (errno: number) => {
      fds.forEach((fd) => this.n.close(fd));
      return { errno };
    };
    const parts: Buffer[] = [];
    let total = 0;
    if (iovLen > 0) {
      const iov = this.mem.readExact(note.pid, iovPtr, iovLen * 16);
      if (!iov) return fail(EACCES);
      for (let k = 0; k < iovLen; k++) {
        const len = Number(iov.readBigUInt64LE(k * 16 + 8));
        total += len;
        if (total > MAX_SEND) return fail(EMSGSIZE);
        const part = this.mem.readExact(note.pid, iov.readBigUInt64LE(k * 16), len);
        if (!part) return fail(EACCES);
        parts.push(part);
      }
    }
    let control: Buffer | null = null;
    if (ctlPtr !== 0n && ctlLen > 0) {
      if (ctlLen > MAX_CONTROL) return fail(ENOBUFS);
      const c = this.mem.readExact(note.pid, ctlPtr, ctlLen);
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
            const mine = this.stealFd(r, note, control.readInt32LE(q));
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
  private emulateSend(r: RunState, note: Notification, msgs: OutMessage[], flags: number, mmsg: boolean): void {
    const release = () => msgs.forEach((m) => m.fds.forEach((fd) => this.n.close(fd)));
    if ((flags & MSG_FASTOPEN) !== 0) {
      // TCP Fast Open would connect inside the send, and a non-blocking one cannot be finished for a blocking
      // caller; the kernel's answer when the client side is off is EOPNOTSUPP, and clients fall back to connect.
      release();
      return void this.n.respond(r.listener, note.id, { error: EOPNOTSUPP });
    }
    const fd = this.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) {
      release();
      return void this.n.respond(r.listener, note.id, { error: EBADF });
    }
    const blocking = (flags & MSG_DONTWAIT) === 0 && (this.n.getfl(fd) & O_NONBLOCK) === 0;
    let sent = 0;
    const finish = (res: number) => {
      this.n.close(fd);
      release();
      this.answer(r, note, res);
    };
    const attempt = (): boolean => {
      while (sent < msgs.length) {
        const m = msgs[sent]!;
        const res = this.n.sendmsg(fd, m, flags | MSG_DONTWAIT);
        if (res === -EAGAIN && blocking && sent === 0) return false;
        if (res < 0) {
          finish(sent > 0 ? sent : res);
          return true;
        }
        if (mmsg) {
          const len = Buffer.alloc(4);
          len.writeUInt32LE(res);
          this.mem.write(note.pid, note.args[1]! + BigInt(sent * MMSGHDR + MSGHDR), len);
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
    if (!attempt()) this.pending.set(fd, { run: r, note, fd, retry: attempt, drop: () => (this.n.close(fd), release()) });
  }

  private onOpen(r: RunState, note: Notification, name: string): void {
    let dirfd = AT_FDCWD;
    let pathArg = 0;
    let flags: number;
    if (name === 'openat' || name === 'openat2') {
      dirfd = Number(BigInt.asIntN(32, note.args[0]!));
      pathArg = 1;
    }
    if (name === 'openat2') {
      const how = this.mem.readExact(note.pid, note.args[2]!, 8);
      if (!how) return this.refuse(r, note, name, unreadable(name, 'file'), EACCES);
      flags = Number(how.readBigUInt64LE(0) & 0xffffffffn);
    } else if (name === 'creat') flags = 0o1101;
    else flags = Number(note.args[name === 'open' ? 1 : 2]! & 0xffffffffn);
    const written = this.mem.readString(note.pid, note.args[pathArg]!);
    // Fail closed: a path we cannot read (a non-dumpable process, a bad pointer) is refused, never let through.
    if (written === null) return this.refuse(r, note, name, unreadable(name, 'file'), EACCES);
    const write = (flags & O_ACCMODE) !== 0 || (flags & (O_CREAT | O_TRUNC)) !== 0;
    this.checkPath(r, note, name, written, dirfd, write ? 'write' : 'read');
  }

  /** Path arguments per call: [dirfd arg or -1, path arg], and whether the call moves or removes it. */
  private static readonly PATH_ARGS: Record<string, { paths: Array<[number, number]>; moves: boolean }> = {
    unlink: { paths: [[-1, 0]], moves: true },
    unlinkat: { paths: [[0, 1]], moves: true },
    rmdir: { paths: [[-1, 0]], moves: true },
    mkdir: { paths: [[-1, 0]], moves: false },
    mkdirat: { paths: [[0, 1]], moves: false },
    rename: { paths: [[-1, 0], [-1, 1]], moves: true },
    renameat: { paths: [[0, 1], [2, 3]], moves: true },
    renameat2: { paths: [[0, 1], [2, 3]], moves: true },
    // link: the source matters (a second name for a protected file), and the new name.
    link: { paths: [[-1, 0], [-1, 1]], moves: false },
    linkat: { paths: [[0, 1], [2, 3]], moves: false },
    truncate: { paths: [[-1, 0]], moves: false },
  };

  private onPathWrite(r: RunState, note: Notification, name: string): void {
    const spec = SupervisorLoop.PATH_ARGS[name]!;
    for (const [dirArg, pathArg] of spec.paths) {
      const dirfd = dirArg < 0 ? AT_FDCWD : Number(BigInt.asIntN(32, note.args[dirArg]!));
      const written = this.mem.readString(note.pid, note.args[pathArg]!);
      if (written === null) return this.refuse(r, note, name, unreadable(name, 'file'), EACCES);
      // These calls act on the last component itself (unlinking a symlink does not touch its target), so it
      // is not followed; truncate follows links.
      const at = this.resolveFor(note.pid, dirfd, written, name === 'truncate');
      if (!at) return this.refuse(r, note, name, unreadable(name, 'file'), EACCES);
      const verdict = decideFile(r, written, at.abs, at.resolved, 'write', spec.moves);
      if (verdict) return this.refuse(r, note, name, verdict, EACCES);
    }
    this.cont(r, note);
  }

  private checkPath(r: RunState, note: Notification, name: string, written: string, dirfd: number, access: 'read' | 'write'): void {
    const at = this.resolveFor(note.pid, dirfd, written, true);
    if (!at) return this.refuse(r, note, name, unreadable(name, 'file'), EACCES);
    const verdict = decideFile(r, written, at.abs, at.resolved, access);
    if (!verdict) return this.cont(r, note);
    // Deciding on our own copy of the path and denying outright is race-free; an allowed open continues
    // under Landlock, which stays the boundary.
    this.refuse(r, note, name, verdict, EACCES);
  }

  /**
   * The path as written made absolute (for messages), and the path the kernel will reach: resolved inside
   * the target's root, from its cwd or dirfd, one component at a time, following each link where it stands
   * (so `lnk/../x` with `lnk -> .git/hooks` is `.git/x`, not `x`). null when the target's view cannot be read.
   */
  private resolveFor(pid: number, dirfd: number, p: string, followLast: boolean): { abs: string; resolved: string } | null {
    let base = '/';
    if (!p.startsWith('/')) {
      try {
        base = fs.readlinkSync(dirfd === AT_FDCWD ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${dirfd}`);
      } catch {
        return null;
      }
      if (!base.startsWith('/')) return null; // a dirfd that is no directory (pipe:[…]): nothing to resolve
    }
    const abs = path.resolve(base, p);
    const root = `/proc/${pid}/root`;
    try {
      fs.lstatSync(root + '/');
    } catch {
      return null;
    }
    const resolved = resolveComponents(root, base, p, followLast);
    return { abs, resolved };
  }
}

function unreadable(call: string, kind: Verdict['kind'] = 'network'): Verdict {
  return { kind, severity: 'warning', rule: 'unreadable-argument', what: call, why: 'its arguments could not be read from the process, so it was refused' };
}

export { describeAddr };

if (parentPort && workerData?.kind === 'script-sandbox-supervisor') {
  const data = workerData as { control: MessagePort; wakeFd: number; names: Record<number, string> };
  new SupervisorLoop(loadNotifyCalls(), data.control, data.wakeFd, data.names).run();
}
