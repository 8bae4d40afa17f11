// From the policy's limits to the job object's limit structs, and back from the job's messages to the same
// limit crossings the Linux tree reports. Pure: encodings are bytes, unit-tested on Linux.
import { JobLimit, JobMsg, JOB_OBJECT_POST_AT_END_OF_JOB, JOB_OBJECT_TERMINATE_AT_END_OF_JOB, TICKS_PER_SECOND } from './constants';
import { encodeStruct, JOBOBJECT_ASSOCIATE_COMPLETION_PORT, JOBOBJECT_END_OF_JOB_TIME_INFORMATION, JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOBOBJECT_NOTIFICATION_LIMIT_INFORMATION } from './structs';

/** What the job is asked to do for one run; plain JSON (it travels in the Win32 plan and the host's tree). */
export interface JobLimits {
  /** enforce: hard limits (the kernel refuses or kills); warn: notification limits only (nothing killed). */
  mode: 'enforce' | 'warn' | 'disabled';
  /** Processes in the job at once. */
  activeProcesses: number | null;
  /** Committed memory of the whole job, bytes. */
  jobMemoryBytes: number | null;
  /** User-mode CPU time, seconds: per process and for the whole job (Windows counts user time only). */
  cpuSeconds: number | null;
}

export function jobLimitsFor(mode: JobLimits['mode'], l: { cpuSeconds: number | null; memoryMiB: number | null; maxProcesses: number | null }): JobLimits {
  if (mode === 'disabled') return { mode, activeProcesses: null, jobMemoryBytes: null, cpuSeconds: null };
  return {
    mode,
    activeProcesses: l.maxProcesses,
    jobMemoryBytes: l.memoryMiB != null ? l.memoryMiB * 1048576 : null,
    cpuSeconds: l.cpuSeconds,
  };
}

function ticks(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1000)) * (TICKS_PER_SECOND / 1000n);
}

/**
 * JOBOBJECT_EXTENDED_LIMIT_INFORMATION (class 9). Every mode kills the tree when the last job handle closes
 * (the run ends or the host dies). Hard limits only in enforce; warn gets them as notification limits.
 */
export function extendedLimitInfo(l: JobLimits): { flags: number; buf: Buffer } {
  let flags = JobLimit.KILL_ON_JOB_CLOSE;
  const basic: Record<string, unknown> = {};
  const ext: Record<string, unknown> = {};
  if (l.mode === 'enforce') {
    if (l.activeProcesses != null) {
      flags |= JobLimit.ACTIVE_PROCESS;
      basic.ActiveProcessLimit = l.activeProcesses;
    }
    if (l.jobMemoryBytes != null) {
      flags |= JobLimit.JOB_MEMORY;
      ext.JobMemoryLimit = l.jobMemoryBytes;
    }
    if (l.cpuSeconds != null) {
      flags |= JobLimit.JOB_TIME | JobLimit.PROCESS_TIME;
      basic.PerJobUserTimeLimit = ticks(l.cpuSeconds);
      basic.PerProcessUserTimeLimit = ticks(l.cpuSeconds);
    }
  }
  basic.LimitFlags = flags;
  return { flags, buf: encodeStruct(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, { BasicLimitInformation: basic, ...ext }) };
}

/** JOBOBJECT_NOTIFICATION_LIMIT_INFORMATION (class 12) for warn mode, or null when there is nothing to watch. */
export function notificationLimitInfo(l: JobLimits): Buffer | null {
  if (l.mode !== 'warn') return null;
  let flags = 0;
  const v: Record<string, unknown> = {};
  if (l.jobMemoryBytes != null) {
    flags |= JobLimit.JOB_MEMORY;
    v.JobMemoryLimit = l.jobMemoryBytes;
  }
  if (l.cpuSeconds != null) {
    flags |= JobLimit.JOB_TIME;
    v.PerJobUserTimeLimit = ticks(l.cpuSeconds);
  }
  if (!flags) return null;
  return encodeStruct(JOBOBJECT_NOTIFICATION_LIMIT_INFORMATION, { ...v, LimitFlags: flags });
}

/** Whether the end-of-job action matters: only with a hard job time limit (enforce with a CPU limit). */
export function needsEndOfJobTime(l: JobLimits): boolean {
  return l.mode === 'enforce' && l.cpuSeconds != null;
}

/** End-of-job action (class 6): terminate in enforce; post a message and keep running in warn. */
export function endOfJobTimeInfo(l: JobLimits): Buffer {
  return encodeStruct(JOBOBJECT_END_OF_JOB_TIME_INFORMATION, { EndOfJobTimeAction: l.mode === 'enforce' ? JOB_OBJECT_TERMINATE_AT_END_OF_JOB : JOB_OBJECT_POST_AT_END_OF_JOB });
}

export function associatePortInfo(key: bigint, port: bigint): Buffer {
  return encodeStruct(JOBOBJECT_ASSOCIATE_COMPLETION_PORT, { CompletionKey: key, CompletionPort: port });
}

/** The same shape as the Linux tree's crossings (src/host/watchdog TreeCrossing): memory in bytes, cpu in s. */
export type JobCrossing = { limit: 'memory' | 'processes' | 'cpu'; observed: number; max: number };

export type JobEvent =
  | { kind: 'crossing'; crossing: JobCrossing; pid: number | null; action: 'denied' | 'killed' | 'reported' }
  /** Warn mode: a notification limit was crossed; read class 13 (LimitViolation) for which one. */
  | { kind: 'notification' }
  | { kind: 'process-new'; pid: number }
  | { kind: 'process-exit'; pid: number; abnormal: boolean }
  | { kind: 'idle' }
  | { kind: 'other'; message: number };

/**
 * One completion-port message (lpNumberOfBytesTransferred = message id, lpOverlapped = its value, a pid for
 * most) as an event. Limit messages become crossings with the policy's maximum.
 */
export function mapJobMessage(message: number, value: number, l: JobLimits): JobEvent {
  switch (message) {
    case JobMsg.ACTIVE_PROCESS_LIMIT:
      return { kind: 'crossing', crossing: { limit: 'processes', observed: (l.activeProcesses ?? 0) + 1, max: l.activeProcesses ?? 0 }, pid: null, action: 'denied' };
    case JobMsg.JOB_MEMORY_LIMIT:
    case JobMsg.PROCESS_MEMORY_LIMIT:
      return { kind: 'crossing', crossing: { limit: 'memory', observed: l.jobMemoryBytes ?? 0, max: l.jobMemoryBytes ?? 0 }, pid: value || null, action: 'denied' };
    case JobMsg.END_OF_JOB_TIME:
    case JobMsg.END_OF_PROCESS_TIME:
      return {
        kind: 'crossing',
        crossing: { limit: 'cpu', observed: l.cpuSeconds ?? 0, max: l.cpuSeconds ?? 0 },
        pid: message === JobMsg.END_OF_PROCESS_TIME ? value || null : null,
        action: l.mode === 'enforce' ? 'killed' : 'reported',
      };
    case JobMsg.NOTIFICATION_LIMIT:
      return { kind: 'notification' };
    case JobMsg.NEW_PROCESS:
      return { kind: 'process-new', pid: value };
    case JobMsg.EXIT_PROCESS:
      return { kind: 'process-exit', pid: value, abnormal: false };
    case JobMsg.ABNORMAL_EXIT_PROCESS:
      return { kind: 'process-exit', pid: value, abnormal: true };
    case JobMsg.ACTIVE_PROCESS_ZERO:
      return { kind: 'idle' };
    default:
      return { kind: 'other', message };
  }
}

/** Warn mode: the crossings named by JOBOBJECT_LIMIT_VIOLATION_INFORMATION (class 13), with observed values. */
export function violationCrossings(v: { ViolationLimitFlags: number; JobMemory: number | bigint; JobMemoryLimit: number | bigint; PerJobUserTime: number | bigint; PerJobUserTimeLimit: number | bigint }): JobCrossing[] {
  const out: JobCrossing[] = [];
  if (v.ViolationLimitFlags & JobLimit.JOB_MEMORY) out.push({ limit: 'memory', observed: Number(v.JobMemory), max: Number(v.JobMemoryLimit) });
  if (v.ViolationLimitFlags & JobLimit.JOB_TIME) out.push({ limit: 'cpu', observed: Number(v.PerJobUserTime) / 1e7, max: Number(v.PerJobUserTimeLimit) / 1e7 });
  return out;
}

/** Warn mode has no notification limit for the process count: the host counts NEW_PROCESS/EXIT messages. */
export function processCountCrossing(active: number, l: JobLimits): JobCrossing | null {
  if (l.mode !== 'warn' || l.activeProcesses == null || active <= l.activeProcesses) return null;
  return { limit: 'processes', observed: active, max: l.activeProcesses };
}
