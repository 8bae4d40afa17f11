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

const EPERM = 1;
const EACCES = 13;
const EBADF = 9;
const EINPROGRESS = 115;
const EMSGSIZE = 90;
const O_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_DOMAIN = 39;
const SO_TYPE = 3;
const AT_FDCWD = -100;
const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

interface RunState extends SupervisedRun {
  hup: boolean;
  pidfds: Map<number, number>;
  counts: Map<string, number>;
}

interface PendingConnect {
  run: RunState;
  note: Notification;
  fd: number;
  flags: number;
}

class SupervisorLoop {
  private readonly runs = new Map<number, RunState>(); // by listener fd
  private readonly pending = new Map<number, PendingConnect>(); // by our socket fd
  private readonly mem = new TargetMemory();
  private stopping = false;

  constructor(
    private readonly n: NotifyCalls,
    private readonly control: MessagePort,
    private readonly wakeFd: number,
    private readonly names: Record<number, string>,
  ) {}

  run(): void {
    while (!this.stopping) {
      this.drainControl();
      if (this.stopping) break;
      const fds: Array<[number, number]> = [[this.wakeFd, POLLIN]];
      for (const [fd, r] of this.runs) if (!r.hup) fds.push([fd, POLLIN]);
      for (const fd of this.pending.keys()) fds.push([fd, POLLOUT]);
      const ready = this.n.pollSync(fds, 1000);
      for (const [fd, rev] of ready) {
        if (fd === this.wakeFd) {
          this.n.drain(fd);
          continue;
        }
        const p = this.pending.get(fd);
        if (p) {
          this.finishConnect(p);
          continue;
        }
        const r = this.runs.get(fd);
        if (!r) continue;
        if (rev & POLLIN) this.handleOne(r);
        else if (rev & POLLHUP) {
          // No process is left under this filter.
          r.hup = true;
          this.post({ type: 'hup', runId: r.runId });
        }
      }
    }
    this.mem.dispose();
  }

  private post(e: SupervisorEvent): void {
    parentPort!.postMessage(e);
  }

  private drainControl(): void {
    for (;;) {
      const m = receiveMessageOnPort(this.control)?.message as SupervisorControl | { type: 'sync'; token: number } | undefined;
      if (!m) return;
      if (m.type === 'add') {
        this.runs.set(m.run.listener, { ...m.run, hup: false, pidfds: new Map(), counts: new Map() });
      } else if (m.type === 'remove') {
        for (const [fd, r] of this.runs) {
          if (r.runId !== m.runId) continue;
          for (const pfd of r.pidfds.values()) this.n.close(pfd);
          this.n.close(fd);
          this.runs.delete(fd);
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
    try {
      if (r.denied.includes(name)) return this.onDenied(r, note, name);
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
    const len = Math.min(Number(note.args[lenArg]! & 0xffffffffn), 128);
    return this.mem.read(note.pid, note.args[ptrArg]!, len);
  }

  /** A copy of the target's fd in our process, after making sure the notification (and so the pid) is still live. */
  private stealFd(r: RunState, note: Notification, fd: number): number | null {
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
      return null;
    }
  }

  private onConnect(r: RunState, note: Notification, name: string): void {
    const raw = this.readAddr(note, 1, 2);
    if (!raw) return this.refuse(r, note, name, unreadable('connect'), EACCES);
    const addr = parseSockaddr(raw);
    if (!addr) return this.refuse(r, note, name, unreadable('connect'), EACCES);
    if (addr.family === 'unix' && !addr.abstract && !addr.unnamed && !addr.path.startsWith('/')) {
      addr.path = this.resolveFor(note.pid, AT_FDCWD, addr.path);
    }
    const verdict = decideConnect(r, addr);
    if (verdict) return this.refuse(r, note, name, verdict, EACCES);
    // Abstract and unnamed unix sockets are scoped by Landlock; other families need no address check.
    if (addr.family === 'other' || (addr.family === 'unix' && (addr.abstract || addr.unnamed)) || r.mode !== 'enforce') return this.cont(r, note);
    // Allowed: emulate with our own copy of the address, so a thread rewriting it after our check changes nothing.
    const buf = addr.family === 'unix' ? unixSockaddr(addr.path) : raw;
    if (!buf) return this.refuse(r, note, name, { kind: 'network', severity: 'warning', rule: 'unix-path-too-long', what: `connect to ${describeAddr(addr)}`, why: 'socket path too long to check' }, EACCES);
    const fd = this.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) return void this.n.respond(r.listener, note.id, { error: EBADF });
    const flags = this.n.getfl(fd);
    const blocking = (flags & O_NONBLOCK) === 0;
    if (blocking) this.n.setfl(fd, flags | O_NONBLOCK);
    const res = this.n.connect(fd, buf);
    if (res === -EINPROGRESS && blocking) {
      // The target expects a blocking connect: finish it when the socket is writable, without stalling others.
      this.pending.set(fd, { run: r, note, fd, flags });
      return;
    }
    if (blocking) this.n.setfl(fd, flags);
    this.n.close(fd);
    this.n.respond(r.listener, note.id, res < 0 ? { error: -res } : { val: 0n });
  }

  private finishConnect(p: PendingConnect): void {
    this.pending.delete(p.fd);
    const err = this.n.getsockoptInt(p.fd, SOL_SOCKET, SO_ERROR);
    this.n.setfl(p.fd, p.flags);
    this.n.close(p.fd);
    this.n.respond(p.run.listener, p.note.id, err !== 0 ? { error: err < 0 ? -err : err } : { val: 0n });
  }

  private onBind(r: RunState, note: Notification, name: string): void {
    const raw = this.readAddr(note, 1, 2);
    const addr = raw ? parseSockaddr(raw) : null;
    if (!raw || !addr) return this.refuse(r, note, name, unreadable('bind'), EACCES);
    const verdict = decideBind(r, addr);
    if (verdict) return this.refuse(r, note, name, verdict, EACCES);
    if ((addr.family !== 'inet' && addr.family !== 'inet6') || r.mode !== 'enforce') return this.cont(r, note);
    const fd = this.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) return void this.n.respond(r.listener, note.id, { error: EBADF });
    const res = this.n.bind(fd, raw);
    this.n.close(fd);
    this.n.respond(r.listener, note.id, res < 0 ? { error: -res } : { val: 0n });
  }

  private onSendto(r: RunState, note: Notification, name: string): void {
    // BPF only notifies sendto with a destination address (args[4] != NULL).
    const raw = this.readAddr(note, 4, 5);
    const addr = raw ? parseSockaddr(raw) : null;
    if (!raw || !addr) return this.refuse(r, note, name, unreadable('sendto'), EACCES);
    if (addr.family === 'unix' && !addr.abstract && !addr.unnamed && !addr.path.startsWith('/')) addr.path = this.resolveFor(note.pid, AT_FDCWD, addr.path);
    const verdict = decideConnect(r, addr);
    if (verdict) return this.refuse(r, note, name, verdict, EACCES);
    if ((addr.family !== 'inet' && addr.family !== 'inet6') || r.mode !== 'enforce') return this.cont(r, note);
    const len = Number(note.args[2]!);
    if (len > 65536) return void this.n.respond(r.listener, note.id, { error: EMSGSIZE });
    const data = len === 0 ? Buffer.alloc(0) : this.mem.read(note.pid, note.args[1]!, len);
    if (!data) return void this.n.respond(r.listener, note.id, { error: EACCES });
    const fd = this.stealFd(r, note, Number(note.args[0]! & 0xffffffffn));
    if (fd === null) return void this.n.respond(r.listener, note.id, { error: EBADF });
    const res = this.n.sendto(fd, data, Number(note.args[3]! & 0xffffffffn), raw);
    this.n.close(fd);
    this.n.respond(r.listener, note.id, res < 0 ? { error: -res } : { val: BigInt(res) });
  }

  /**
   * sendmsg/sendmmsg carry their addresses inside msghdr structures. We check every address we can read
   * and let the call continue; unlike connect/sendto this is not emulated (ancillary data would have to be
   * re-created), so a second thread rewriting msg_name after the check is a known residual (DESIGN.md).
   */
  private onSendmsg(r: RunState, note: Notification, name: string): void {
    const hdrs: bigint[] = [];
    if (name === 'sendmsg') hdrs.push(note.args[1]!);
    else {
      const count = Math.min(Number(note.args[2]! & 0xffffffffn), 64);
      for (let i = 0; i < count; i++) hdrs.push(note.args[1]! + BigInt(i * 64)); // struct mmsghdr is 64 bytes
    }
    for (const h of hdrs) {
      const hdr = this.mem.read(note.pid, h, 56);
      if (!hdr || hdr.length < 16) return this.refuse(r, note, name, unreadable(name), EACCES);
      const namePtr = hdr.readBigUInt64LE(0);
      if (namePtr === 0n) continue;
      const raw = this.mem.read(note.pid, namePtr, Math.min(hdr.readUInt32LE(8), 128));
      const addr = raw ? parseSockaddr(raw) : null;
      if (!addr) return this.refuse(r, note, name, unreadable(name), EACCES);
      const verdict = decideConnect(r, addr);
      if (verdict) return this.refuse(r, note, name, verdict, EACCES);
    }
    this.cont(r, note);
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
      const how = this.mem.read(note.pid, note.args[2]!, 8);
      flags = how ? Number(how.readBigUInt64LE(0) & 0xffffffffn) : 0;
    } else if (name === 'creat') flags = 0o1101;
    else flags = Number(note.args[name === 'open' ? 1 : 2]! & 0xffffffffn);
    const written = this.mem.readString(note.pid, note.args[pathArg]!);
    if (written === null) return this.cont(r, note); // the kernel will fail it (EFAULT) the same way
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
      if (written === null) continue; // the kernel fails it (EFAULT) the same way
      const abs = this.resolveFor(note.pid, dirfd, written);
      // These calls act on the last component itself (unlinking a symlink does not touch its target), so only
      // the parent is resolved; truncate follows links.
      const resolved = name === 'truncate' ? realish(abs) : path.join(realish(path.dirname(abs)), path.basename(abs));
      const verdict = decideFile(r, written, abs, resolved, 'write', spec.moves);
      if (verdict) return this.refuse(r, note, name, verdict, EACCES);
    }
    this.cont(r, note);
  }

  private checkPath(r: RunState, note: Notification, name: string, written: string, dirfd: number, access: 'read' | 'write'): void {
    const abs = this.resolveFor(note.pid, dirfd, written);
    const verdict = decideFile(r, written, abs, realish(abs), access);
    if (!verdict) return this.cont(r, note);
    // Deciding on our own copy of the path and denying outright is race-free; an allowed open continues
    // under Landlock, which stays the boundary.
    this.refuse(r, note, name, verdict, EACCES);
  }

  private resolveFor(pid: number, dirfd: number, p: string): string {
    if (p.startsWith('/')) return path.normalize(p);
    let base: string;
    try {
      base = fs.readlinkSync(dirfd === AT_FDCWD ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${dirfd}`);
    } catch {
      base = '/';
    }
    return path.resolve(base, p);
  }
}

/** realpath of the longest existing prefix, plus the rest: what the kernel will actually touch. */
function realish(abs: string): string {
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      if (head === '/') return abs;
      tail.unshift(path.basename(head));
      head = path.dirname(head);
    }
  }
}

function unreadable(call: string): Verdict {
  return { kind: 'network', severity: 'warning', rule: 'unreadable-argument', what: call, why: 'its arguments could not be read from the process, so it was refused' };
}

export { describeAddr };

if (parentPort && workerData?.kind === 'script-sandbox-supervisor') {
  const data = workerData as { control: MessagePort; wakeFd: number; names: Record<number, string> };
  new SupervisorLoop(loadNotifyCalls(), data.control, data.wakeFd, data.names).run();
}
