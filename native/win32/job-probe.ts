// Does this machine enforce the job's limits, or only accept them? Measured, for the capability report: a
// cmd.exe in a job limited to one active process starts a second cmd.exe; on Windows that one is refused,
// Wine runs it (it accepts JOB_OBJECT_LIMIT_ACTIVE_PROCESS, memory and time limits without enforcing them).
import * as path from 'node:path';
import type { Win32Plan } from '../../src/protocol/plan';
import { INFINITE, JobMsg } from './constants';
import { JobObject } from './job-object';
import type { Kernel32 } from './kernel32';
import { createInJob } from './spawn';

export interface JobLimitProbe {
  enforced: boolean;
  detail: string;
}

export function probeJobLimits(k: Kernel32, systemRoot: string): JobLimitProbe {
  const job = JobObject.create(k, { mode: 'enforce', activeProcesses: 1, jobMemoryBytes: null, cpuSeconds: null });
  try {
    const cmd = path.win32.join(systemRoot, 'System32', 'cmd.exe');
    const plan: Win32Plan = { platform: 'win32', runId: 'probe', application: cmd, commandLine: `"${cmd}" /d /c "${cmd}" /d /c exit 5`, env: { SystemRoot: systemRoot }, cwd: systemRoot, job: null, requireJob: true, namespaces: null };
    const p = createInJob(k, plan, job.handle, { noStdio: true });
    k.ResumeThread(p.thread);
    k.CloseHandle(p.thread);
    if (k.WaitForSingleObject(p.process, 30_000) !== 0) job.terminate(1);
    k.WaitForSingleObject(p.process, INFINITE);
    k.CloseHandle(p.process);
    const total = job.accounting()?.totalProcesses ?? 0;
    const refusedMsg = job.drain().some((m) => m.message === JobMsg.ACTIVE_PROCESS_LIMIT);
    return total <= 1 || refusedMsg
      ? { enforced: true, detail: 'a probe\'s second process was refused under a 1-process limit' }
      : { enforced: false, detail: `the limits are accepted but not enforced here: a probe ran ${total} processes under a 1-process limit, so process, memory and CPU limits are reported, not kept` };
  } catch (e) {
    return { enforced: false, detail: `the job-limit probe failed: ${(e as Error).message}` };
  } finally {
    job.close();
  }
}
