// Run by Node for Windows under Wine (not by mocha): one job-object case through the backend's own modules,
// printed as one JSON line, so the Wine tier can say exactly which job mechanisms Wine enforces.
// Usage: node.exe job-driver.js CASE
import { JobMsg, INFINITE } from '../../native/win32/constants';
import { JobObject } from '../../native/win32/job-object';
import { handle, loadKernel32 } from '../../native/win32/kernel32';
import { createInJob, isInJob } from '../../native/win32/spawn';
import type { JobLimits } from '../../native/win32/job-limits';
import type { Win32Plan } from '../../src/protocol/plan';

const k = loadKernel32();
const sys32 = `${process.env.SystemRoot ?? 'C:\\windows'}\\system32`;

function run(limits: JobLimits, application: string, commandLine: string, waitMs = 60_000) {
  const job = JobObject.create(k, limits);
  const plan: Win32Plan = { platform: 'win32', runId: 'probe', application, commandLine, env: { SystemRoot: process.env.SystemRoot ?? 'C:\\windows', PATH: sys32 }, cwd: 'C:\\', job: null, requireJob: true, namespaces: null };
  const c = createInJob(k, plan, job.handle);
  const inJob = isInJob(k, c.process, job.handle);
  k.ResumeThread(c.thread);
  const t0 = Date.now();
  const waited = k.WaitForSingleObject(c.process, waitMs);
  const ms = Date.now() - t0;
  if (waited !== 0) job.terminate(99);
  k.WaitForSingleObject(c.process, INFINITE);
  const code = Buffer.alloc(4);
  k.GetExitCodeProcess(c.process, code);
  const messages = job.drain().map((m) => Object.entries(JobMsg).find(([, v]) => v === m.message)?.[0] ?? String(m.message));
  const accounting = job.accounting();
  const peak = job.peakJobMemory();
  job.close();
  return { how: c.how, inJob, exitCode: code.readUInt32LE(0), timedOut: waited !== 0, ms, messages, accounting, peak, refused: job.refused };
}

const node = process.execPath;
const cases: Record<string, () => unknown> = {
  // The script is created inside the job; the job's accounting and port see it.
  'in-job': () => run({ mode: 'enforce', activeProcesses: null, jobMemoryBytes: null, cpuSeconds: null }, `${sys32}\\cmd.exe`, 'cmd.exe /d /c exit 3'),
  'active-limit': () => run({ mode: 'enforce', activeProcesses: 1, jobMemoryBytes: null, cpuSeconds: null }, `${sys32}\\cmd.exe`, 'cmd.exe /d /c "cmd.exe /d /c exit 5 & exit %errorlevel%"'),
  memory: () => run({ mode: 'enforce', activeProcesses: null, jobMemoryBytes: 200 * 1048576, cpuSeconds: null }, node, `"${node}" -e "const a=[];try{for(let i=0;i<40;i++)a.push(Buffer.alloc(20*1048576,1));process.exit(0)}catch(e){process.exit(42)}"`),
  cpu: () => run({ mode: 'enforce', activeProcesses: null, jobMemoryBytes: null, cpuSeconds: 1 }, node, `"${node}" -e "const t=Date.now();while(Date.now()-t<15000){}"`, 40_000),
  'warn-notify': () => run({ mode: 'warn', activeProcesses: null, jobMemoryBytes: 100 * 1048576, cpuSeconds: 1 }, `${sys32}\\cmd.exe`, 'cmd.exe /d /c exit 0'),
};

const which = process.argv[2] ?? '';
try {
  const f = cases[which];
  if (!f) throw new Error(`unknown case ${which}`);
  console.log(JSON.stringify({ ok: true, case: which, result: f() }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, case: which, error: (e as Error).message }));
}
void handle;
