// The supervisor's worker thread: one synchronous loop over every run's seccomp listener. Each notification
// is decided here (policy is data, so the worker holds a copy) and answered at once; violations go to the
// main thread as messages. Running on its own thread keeps a notification round trip at a few microseconds
// of koffi calls instead of a thread-pool hop per call.
import { parentPort, workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import * as fs from 'node:fs';
import { loadNotifyCalls, TargetMemory, POLLIN, POLLOUT, POLLHUP, type Notification, type NotifyCalls } from '../../../native/linux/notify';
import type { Violation } from '../../policy/violation';
import type { SupervisorControl, SupervisorEvent } from './supervisor-protocol';
import { AllowedFiles, decideDenied, type Verdict } from './supervisor-decide';
import { describeAddr } from '../../../native/linux/sockaddr';
import { EOPNOTSUPP, EPERM } from './supervisor-abi';
import { PID_SWEEP, type Answering, type PendingOp, type RunState } from './supervisor-answer';
import { NetworkCalls } from './supervisor-network';
import { FileCalls } from './supervisor-files';
import { FileEmulator } from './supervisor-emulate';
import { METADATA_CALLS } from '../../../native/linux/seccomp';
import { loadFileOpCalls } from '../../../native/linux/notify-addfd';
import { loadPollSet } from '../../../native/linux/poll-set';

class SupervisorLoop implements Answering {
  private readonly runs = new Map<number, RunState>(); // by listener fd
  readonly pending = new Map<number, PendingOp>(); // by our socket fd
  readonly mem = new TargetMemory();
  private stopping = false;
  /** The fds polled, filled again only when the runs change or calls wait on sockets (pollFds). */
  private readonly polled = loadPollSet();
  private pollDirty = true;
  /** The set's size without pending sockets when last filled: more entries means sockets were in it. */
  private livePolled = 0;
  private readonly net = new NetworkCalls(this);
  private readonly files = new FileCalls(this);
  // --- fallback-tier file emulation (supervisor-emulate.ts) ---
  private readonly emulator: FileEmulator;

  constructor(
    readonly n: NotifyCalls,
    private readonly control: MessagePort,
    private readonly wakeFd: number,
    private readonly names: Record<number, string>,
  ) {
    this.emulator = new FileEmulator(this.n, loadFileOpCalls(), this.mem); // fallback-tier file emulation
  }

  run(): void {
    // The control port is read when the wake pipe said something was posted (the main thread posts, then
    // pokes), after a wait that timed out, and at the start: not once per supervised call.
    let control = true;
    while (!this.stopping) {
      if (control) {
        control = false;
        this.drainControl();
        if (this.stopping) break;
      }
      const set = this.pollFds();
      const ready = set.wait(1000);
      if (ready === 0) control = true;
      // A target killed or interrupted while we wait for its socket no longer needs the answer.
      if (this.pending.size > 0) {
        for (const [fd, p] of this.pending) {
          if (this.n.idValid(p.run.listener, p.note.id)) continue;
          p.drop();
          this.pending.delete(fd);
        }
      }
      for (let i = 0, seen = 0; seen < ready && i < set.size; i++) {
        const rev = set.revents(i);
        if (!rev) continue;
        seen++;
        const fd = set.fd(i);
        if (fd === this.wakeFd) {
          this.n.drain(fd);
          control = true;
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
          this.pollDirty = true;
          this.forgetGone(r, true);
          this.post({ type: 'hup', runId: r.runId });
        }
      }
    }
  }

  /**
   * The wake pipe, every live listener and the sockets calls wait on. Kept from the last wait while neither
   * the runs changed nor calls wait on sockets (the pending map changes under the network handlers, so with
   * anything pending it is filled again each time): the common wait costs no allocation.
   */
  private pollFds() {
    const set = this.polled;
    if (!this.pollDirty && this.pending.size === 0 && set.size === this.livePolled) return set;
    set.clear();
    set.add(this.wakeFd, POLLIN);
    for (const [fd, r] of this.runs) if (!r.hup) set.add(fd, POLLIN);
    this.livePolled = set.size;
    for (const fd of this.pending.keys()) set.add(fd, POLLOUT);
    this.pollDirty = false;
    return set;
  }

  /**
   * Closes the cached pidfds and /proc/<pid> fds of the run's pids that are gone (all of them when no process
   * is left under the filter). A pid reused meanwhile only costs a reopen: a stale pidfd is replaced
   * (stealFd), a stale /proc/<pid> fd answers nothing and is reopened (FileCalls.procLink). Memory is read
   * by pid, nothing kept (TargetMemory).
   */
  private forgetGone(r: RunState, all: boolean): void {
    for (const pid of r.pids) {
      if (!all && fs.existsSync(`/proc/${pid}`)) continue;
      const pfd = r.pidfds.get(pid);
      if (pfd !== undefined) this.n.close(pfd);
      r.pidfds.delete(pid);
      const dfd = r.procDirs.get(pid);
      if (dfd !== undefined) this.n.close(dfd);
      r.procDirs.delete(pid);
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
        this.pollDirty = true;
        this.runs.set(m.run.listener, { ...m.run, hup: false, pidfds: new Map(), procDirs: new Map(), counts: new Map(), pids: new Set(), allowedFiles: new AllowedFiles() });
        // Synchronous wake-ups (Linux 6.6+) cut a round trip's scheduling latency; older kernels refuse, which is fine.
        this.n.setSyncWakeUp(m.run.listener);
      } else if (m.type === 'remove') {
        for (const [fd, r] of this.runs) {
          if (r.runId !== m.runId) continue;
          for (const pfd of r.pidfds.values()) this.n.close(pfd);
          for (const dfd of r.procDirs.values()) this.n.close(dfd);
          if (r.rootFd !== undefined) this.n.close(r.rootFd);
          this.n.close(fd);
          this.runs.delete(fd);
          this.pollDirty = true;
          this.emulator.forget(r.runId); // fallback-tier file emulation
        }
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
      if (r.denied.includes(name)) {
        // Listed by the policy too: outside the namespace tier no mount keeps a metadata call off protected
        // files, so warn mode does not let it go on either.
        if (r.fileTier !== 'namespaces' && METADATA_CALLS.includes(name)) return this.refuse(r, note, name, decideDenied(r, name), EPERM, true);
        return this.onDenied(r, note, name);
      }
      // --- fallback-tier file emulation: calls on carved directories are performed, not continued ---
      const refuse = (v: Verdict, errno: number, kept?: boolean) => this.refuse(r, note, name, v, errno, kept);
      if (this.emulator.handle(r, note, name, refuse, (v) => this.violation(r, note, name, v))) return;
      // --- end ---
      switch (name) {
        case 'connect':
          return this.net.onConnect(r, note, name);
        case 'bind':
          return this.net.onBind(r, note, name);
        case 'sendto':
          return this.net.onSendto(r, note, name);
        case 'sendmsg':
        case 'sendmmsg':
          return this.net.onSendmsg(r, note, name);
        case 'open':
        case 'creat':
        case 'openat':
        case 'openat2':
          return this.files.onOpen(r, note, name);
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
        case 'symlink':
        case 'symlinkat':
        case 'mknod':
        case 'mknodat':
          return this.files.onPathWrite(r, note, name);
        default:
          // The fallback tier's metadata calls the emulation did not take (xattrs, file_setattr, or a run it
          // does not emulate): refused in every mode, never continued (nothing else keeps them off protected files);
          // an xattr as on a filesystem without them (EOPNOTSUPP): cp -p and tar then set the mode with chmod.
          if (METADATA_CALLS.includes(name)) {
            // A POSIX ACL (cp -p, cp -a set the mode that way): answered as a filesystem without ACLs does, not
            // reported; the caller falls back to chmod, which is decided (and reported) on its own.
            if (name.includes('xattr') && this.aclName(note, name)) return void this.n.respond(r.listener, note.id, { error: EOPNOTSUPP });
            return this.refuse(r, note, name, decideDenied(r, name), name.includes('xattr') ? EOPNOTSUPP : EPERM, true);
          }
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
    const action: Violation['action'] = r.violation === 'refuse' ? 'blocked' : 'warned';
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

  /**
   * Blocks (enforce) or lets it go on (warn), reporting either way. `kept`: the integrity set, which warn mode
   * keeps too: answered with the errno in every mode (reported as warn reports it, see README).
   */
  refuse(r: RunState, note: Notification, syscall: string, v: Verdict, errno: number, kept = false): void {
    if (!this.n.idValid(r.listener, note.id)) return;
    this.violation(r, note, syscall, v);
    if (r.violation === 'refuse' || kept) this.n.respond(r.listener, note.id, { error: errno });
    else this.n.respond(r.listener, note.id, { continue: true });
  }

  cont(r: RunState, note: Notification): void {
    this.n.respond(r.listener, note.id, { continue: true });
  }

  private onDenied(r: RunState, note: Notification, name: string): void {
    this.refuse(r, note, name, decideDenied(r, name), EPERM);
  }

  /** Whether an xattr call names a POSIX ACL (system.posix_acl_access or _default); its name is read, nothing done. */
  private aclName(note: Notification, name: string): boolean {
    const at = name === 'setxattrat' || name === 'removexattrat';
    const attr = this.mem.readString(note.pid, note.args[at ? 3 : 1]!);
    return attr === 'system.posix_acl_access' || attr === 'system.posix_acl_default';
  }

  readAddr(note: Notification, ptrArg: number, lenArg: number): Buffer | null {
    const len = Number(note.args[lenArg]! & 0xffffffffn);
    // The kernel refuses a sockaddr over 128 bytes (EINVAL) before reading it; a shorter read is no address.
    if (len > 128) return null;
    return this.mem.readExact(note.pid, note.args[ptrArg]!, len);
  }

  /** A copy of the target's fd in our process, after making sure the notification (and so the pid) is still live. */
  stealFd(r: RunState, note: Notification, fd: number): number | null {
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

  answer(r: RunState, note: Notification, res: number): void {
    this.n.respond(r.listener, note.id, res < 0 ? { error: -res } : { val: BigInt(res) });
  }
}


export { describeAddr };

if (parentPort && workerData?.kind === 'script-sandbox-supervisor') {
  const data = workerData as { control: MessagePort; wakeFd: number; names: Record<number, string> };
  const n = loadNotifyCalls();
  // Before the first answer: no signal may interrupt one (NotifyCalls.blockSignals).
  n.blockSignals();
  new SupervisorLoop(n, data.control, data.wakeFd, data.names).run();
}
