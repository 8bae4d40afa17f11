// The run's job object, owned by the host: limits from the policy, a completion port for its messages, the
// job's accounting, and the kill. The host holding the only full handle means the tree dies with the host
// (kill on job close) as well as with the run.
import koffi from 'koffi';
import { INVALID_HANDLE_VALUE, JobInfoClass, WAIT_TIMEOUT } from './constants';
import { check, handle, type Handle, type Kernel32 } from './kernel32';
import { associatePortInfo, endOfJobTimeInfo, extendedLimitInfo, needsEndOfJobTime, notificationLimitInfo, type JobLimits } from './job-limits';
import { decodeStruct, JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOBOBJECT_LIMIT_VIOLATION_INFORMATION } from './structs';

export interface JobMessage {
  message: number;
  /** lpOverlapped: a pid for most messages, 0 for ACTIVE_PROCESS_LIMIT/ZERO. */
  value: number;
}

export interface JobAccounting {
  userMs: number;
  kernelMs: number;
  totalProcesses: number;
  activeProcesses: number;
}

export class JobObject {
  private closed = false;
  private constructor(
    private readonly k: Kernel32,
    readonly handle: Handle,
    readonly port: Handle,
    readonly limits: JobLimits,
    /** Which optional settings the system refused (Wine lacks some): reported, never silently dropped. */
    readonly refused: string[],
  ) {}

  /** Creates the job with its limits and port. A refused hard limit in enforce fails closed. */
  static create(k: Kernel32, limits: JobLimits): JobObject {
    const job = handle(k.CreateJobObjectW(null, null));
    check(k, 'CreateJobObjectW', job !== 0n);
    const refused: string[] = [];
    try {
      const ext = extendedLimitInfo(limits);
      check(k, 'SetInformationJobObject(ExtendedLimitInformation)', k.SetInformationJobObject(job, JobInfoClass.ExtendedLimitInformation, ext.buf, ext.buf.length) !== 0, 'MECHANISM_UNAVAILABLE');
      const eoj = endOfJobTimeInfo(limits);
      // Terminate is the default action; set explicitly with a job time limit (Wine refuses the class).
      if (needsEndOfJobTime(limits) && !k.SetInformationJobObject(job, JobInfoClass.EndOfJobTimeInformation, eoj, eoj.length)) refused.push(`end-of-job action (error ${k.GetLastError()})`);
      const notify = notificationLimitInfo(limits);
      if (notify && !k.SetInformationJobObject(job, JobInfoClass.NotificationLimitInformation, notify, notify.length)) refused.push(`notification limits (error ${k.GetLastError()})`);
      const port = handle(k.CreateIoCompletionPort(INVALID_HANDLE_VALUE, 0n, 0n, 1));
      check(k, 'CreateIoCompletionPort', port !== 0n);
      const assoc = associatePortInfo(job, port);
      if (!k.SetInformationJobObject(job, JobInfoClass.AssociateCompletionPortInformation, assoc, assoc.length)) {
        refused.push(`completion port (error ${k.GetLastError()})`);
      }
      return new JobObject(k, job, port, limits, refused);
    } catch (e) {
      k.CloseHandle(job);
      throw e;
    }
  }

  /** Every message waiting on the port, without blocking. */
  drain(): JobMessage[] {
    const out: JobMessage[] = [];
    const bytes = Buffer.alloc(4);
    const key = Buffer.alloc(8);
    const ovl = Buffer.alloc(8);
    for (let i = 0; i < 1024 && !this.closed; i++) {
      const ok = this.k.GetQueuedCompletionStatus(this.port, bytes, key, ovl, 0);
      if (!ok) {
        // Empty queue: FALSE with a null OVERLAPPED and WAIT_TIMEOUT.
        if (ovl.readBigUInt64LE(0) === 0n || this.k.GetLastError() === WAIT_TIMEOUT) break;
      }
      if (key.readBigUInt64LE(0) !== this.handle) continue;
      out.push({ message: bytes.readUInt32LE(0), value: Number(ovl.readBigUInt64LE(0)) });
    }
    return out;
  }

  accounting(): JobAccounting | null {
    const buf = Buffer.alloc(koffi.sizeof(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION));
    if (!this.k.QueryInformationJobObject(this.handle, JobInfoClass.BasicAccountingInformation, buf, buf.length, null)) return null;
    const a = decodeStruct<Record<string, number | bigint>>(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, buf);
    return {
      userMs: Number(a.TotalUserTime) / 1e4,
      kernelMs: Number(a.TotalKernelTime) / 1e4,
      totalProcesses: Number(a.TotalProcesses),
      activeProcesses: Number(a.ActiveProcesses),
    };
  }

  /** Peak committed memory of the job, bytes (null when the system does not say). */
  peakJobMemory(): number | null {
    const buf = Buffer.alloc(koffi.sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION));
    if (!this.k.QueryInformationJobObject(this.handle, JobInfoClass.ExtendedLimitInformation, buf, buf.length, null)) return null;
    const v = Number(decodeStruct<Record<string, number | bigint>>(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, buf).PeakJobMemoryUsed);
    return v > 0 ? v : null;
  }

  /** Class 13, after a NOTIFICATION_LIMIT message (warn mode). */
  violation(): Record<string, number | bigint> | null {
    const buf = Buffer.alloc(koffi.sizeof(JOBOBJECT_LIMIT_VIOLATION_INFORMATION));
    if (!this.k.QueryInformationJobObject(this.handle, JobInfoClass.LimitViolationInformation, buf, buf.length, null)) return null;
    return decodeStruct(JOBOBJECT_LIMIT_VIOLATION_INFORMATION, buf);
  }

  terminate(code = 1): void {
    if (!this.closed) this.k.TerminateJobObject(this.handle, code);
  }

  /** Closing the last handle kills whatever is left (KILL_ON_JOB_CLOSE). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.k.CloseHandle(this.port);
    this.k.CloseHandle(this.handle);
  }
}
