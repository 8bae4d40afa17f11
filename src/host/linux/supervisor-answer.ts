// What the supervisor's call handlers share with its loop: the per-run state, a call parked until our copy of
// a socket is writable, and the loop's answering primitives (refuse with a report, continue, answer with a
// value, take a copy of one of the target's fds, read a sockaddr).
import type { Notification, NotifyCalls, TargetMemory } from '../../../native/linux/notify';
import type { SupervisedRun } from './supervisor-protocol';
import type { AllowedFiles, Verdict } from './supervisor-decide';

export interface RunState extends SupervisedRun {
  hup: boolean;
  pidfds: Map<number, number>;
  /** O_PATH fds of /proc/<pid> by pid, for the cwd, fd and root links (FileCalls.procLink). */
  procDirs: Map<number, number>;
  counts: Map<string, number>;
  /** Pids (tids) that made a supervised call: the worker's cached /proc/<pid>/mem fds to close with the run. */
  pids: Set<number>;
  /** File decisions already made for this run that allowed the call (pure policy evaluation, see decideFile). */
  allowedFiles: AllowedFiles;
  /** enforce mode: an O_PATH fd of the run's root, the path walk's start (FileCalls.treeOf); closed with the run. */
  rootFd?: number;
}

/** A run's remembered pids above which the ones that are gone are forgotten (a script forking many processes). */
export const PID_SWEEP = 64;

/** A call the supervisor performs for the target that has to wait until our copy of its socket is writable. */
export interface PendingOp {
  run: RunState;
  note: Notification;
  fd: number;
  /** Tries again; true when it answered the notification (and released what it held). */
  retry(): boolean;
  /** Releases what it holds without answering (the target is gone or was interrupted). */
  drop(): void;
}

/** One message of a sendmsg/sendmmsg, copied out of the target. */
export interface OutMessage {
  name: Buffer | null;
  data: Buffer;
  control: Buffer | null;
  /** Our copies of the fds an SCM_RIGHTS block passes; closed after the send. */
  fds: number[];
}

export interface Answering {
  readonly n: NotifyCalls;
  readonly mem: TargetMemory;
  /** Calls waiting until our copy of their socket is writable, by that fd. */
  readonly pending: Map<number, PendingOp>;
  /** Blocks (enforce) or lets it go on (warn), reporting either way; `kept`: refused in warn mode too. */
  refuse(r: RunState, note: Notification, syscall: string, v: Verdict, errno: number, kept?: boolean): void;
  cont(r: RunState, note: Notification): void;
  answer(r: RunState, note: Notification, res: number): void;
  stealFd(r: RunState, note: Notification, fd: number): number | null;
  readAddr(note: Notification, ptrArg: number, lenArg: number): Buffer | null;
}

export function unreadable(call: string, kind: Verdict['kind'] = 'network'): Verdict {
  return { kind, severity: 'warning', rule: 'unreadable-argument', what: call, why: 'its arguments could not be read from the process, so it was refused' };
}
