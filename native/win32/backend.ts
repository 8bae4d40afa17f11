// The Windows backend: the launcher's create-in-job, the host's compile/probe and the run's job object.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Capability, CapabilityReport, SandboxBackend } from '../backend';
import type { Win32Plan } from '../../src/protocol/plan';
import type { ResolvedPolicy } from '../../src/policy/schema';
import { compileWin32Plan, win32Restrictions, type Restriction, type Win32CompileRequest } from './compile-plan';
import { jobLimitsFor, type JobLimits } from './job-limits';
import { JobObject } from './job-object';
import { handle, loadKernel32, type Kernel32 } from './kernel32';
import { isInJob } from './spawn';
import { createWin32Applier } from './applier';
import { loadAdvapi32, type Advapi32 } from './advapi32';
import { aclJournalDir, beginConfinement, replayAclJournal, type Confinement } from './confine';
import { confinesWrites, fileGrantsFor } from './confine-plan';
import { probeFileConfinement, type FileConfinementProbe } from './confine-probe';
import { probeJobLimits } from './job-probe';
import type { ReplayResult } from './acl-journal';
import { windowsEnv } from './command-line';
import { diskModelFs } from '../linux/carve-outs';
import { protectedSet } from '../../src/policy/protected-set';

export interface Win32Backend extends SandboxBackend {
  readonly platform: 'win32';
  readonly supported: true;
  compile(policy: ResolvedPolicy, req: Omit<Win32CompileRequest, 'systemRoot' | 'python' | 'node' | 'fileConfinement'>): Win32Plan;
  jobLimits(policy: ResolvedPolicy): JobLimits;
  createJob(limits: JobLimits): JobObject;
  restrictions(policy: ResolvedPolicy): Restriction[];
  /**
   * Host side: the run's ACL grants for its restricted token (journaled, applied), or null when the run gets
   * no token (warn, disabled, permissive, or the probe found the token unusable here). undo() after the run.
   */
  confine(policy: ResolvedPolicy, runId: string, tmpDir: string): Confinement | null;
  /** Host start: undoes the ACL grants of runs whose host died (the journal). */
  replayAclJournal(): ReplayResult;
}

/** A program on a Windows PATH (`;`-separated), tried with .exe. */
function findOnPath(names: string[], pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(';')) {
    if (!dir) continue;
    for (const n of names) {
      const p = path.win32.join(dir, n);
      try {
        if (fs.statSync(p).isFile()) return p;
      } catch {
        // keep looking
      }
    }
  }
  return null;
}

function pathOf(env: Record<string, string>): string | undefined {
  const key = Object.keys(env).find((k) => k.toUpperCase() === 'PATH');
  return key ? env[key] : undefined;
}

export function createWin32Backend(): Win32Backend {
  let k: Kernel32 | null = null;
  let a: Advapi32 | null = null;
  let fc: FileConfinementProbe | null = null;
  const kernel = () => (k ??= loadKernel32());
  const advapi = () => (a ??= loadAdvapi32());
  const systemRoot = () => process.env.SystemRoot ?? process.env.SYSTEMROOT ?? 'C:\\Windows';
  // Measured once per process: a cmd.exe under the token writes inside and outside a grant (confine-probe.ts).
  const confinement = () => (fc ??= probeFileConfinement(kernel(), advapi(), systemRoot()));
  const usable = (f: FileConfinementProbe) => f.token && f.started && f.grantedWrite;
  // The launcher's half, the same object a launcher loads alone (native/index.ts loadApplier).
  const applier = createWin32Applier();
  return {
    platform: 'win32',
    supported: true,
    probe: () => probeWin32(kernel(), confinement()),
    applyAndExec: (plan, hooks) => applier.applyAndExec(plan, hooks),
    compile(policy, req) {
      const p = pathOf(req.env);
      const tmp = req.env.TMPDIR;
      // Windows programs read TEMP/TMP, not TMPDIR: the run's private temp folder under all three names.
      // Names are case-insensitive on Windows: one entry per name (the user's Path is never doubled or lost).
      const env = windowsEnv(tmp ? { ...req.env, TEMP: tmp, TMP: tmp } : req.env, process.env);
      return compileWin32Plan(policy, {
        ...req,
        env,
        fileConfinement: confinesWrites(policy) ? confinement() : undefined,
        systemRoot: systemRoot(),
        python: findOnPath(['python.exe', 'python3.exe', 'py.exe'], p),
        node: findOnPath(['node.exe'], p) ?? process.execPath,
      }).plan;
    },
    jobLimits: (policy) => jobLimitsFor(policy.mode, policy.limits),
    createJob: (limits) => JobObject.create(kernel(), limits),
    restrictions: (policy) => win32Restrictions(policy, confinesWrites(policy) ? confinement() : undefined),
    confine(policy, runId, tmpDir) {
      if (!confinesWrites(policy) || !usable(confinement())) return null;
      // With git discovery, as on Linux: a hooks folder core.hooksPath names in the workspace is denied too.
      return beginConfinement(kernel(), advapi(), aclJournalDir(), runId, fileGrantsFor(policy, tmpDir, protectedSet(policy, diskModelFs)));
    },
    replayAclJournal: () => replayAclJournal(kernel(), advapi(), aclJournalDir()),
  };
}

/** Why reads are not confined on Windows by this backend (capability read_confinement). */
export const READ_CONFINEMENT =
  'reads are not confined: the write-restricted token checks its restricting SIDs (the run\'s SID) for write access only, so a deny-read ACE for the run cannot refuse a read of ~/.ssh or a credential store; an AppContainer or a low integrity level, which could, is not used';

/**
 * What nothing on Windows keeps, without admin rights: enforce refuses the user's demands (preset
 * none/strict/api-only, denyHosts, extra blocked ports, a limit other than the profile's) and notes the
 * profile's baseline (src/host/unkept-promises.ts).
 */
export const NOT_KEPT_ON_WINDOWS: readonly Capability[] = [
  {
    name: 'network',
    available: false,
    detail: 'no network control without admin (WFP) or an AppContainer, which this backend does not use: every connection the user may make, the script may make',
    requiredForEnforce: false,
    keeps: ['network.none', 'network.allowList', 'network.denyList', 'network.defaultBlocks'],
  },
  { name: 'file_size_limit', available: false, detail: 'Windows has no per-file size limit (RLIMIT_FSIZE): fileSizeMiB is not enforced', requiredForEnforce: false, keeps: ['limits.fileSizeMiB'] },
  { name: 'open_files_limit', available: false, detail: 'Windows has no per-process handle limit (RLIMIT_NOFILE): openFiles is not enforced', requiredForEnforce: false, keeps: ['limits.openFiles'] },
];

function probeWin32(k: Kernel32, fc: FileConfinementProbe): CapabilityReport {
  const caps: Capability[] = [];
  let jobOk = false;
  let jobDetail = '';
  let limitsEnforced = false;
  let limitsDetail = 'not measured: no job object';
  try {
    const j = JobObject.create(k, { mode: 'enforce', activeProcesses: 1, jobMemoryBytes: null, cpuSeconds: null });
    jobOk = true;
    j.close();
    const lim = probeJobLimits(k, process.env.SystemRoot ?? process.env.SYSTEMROOT ?? 'C:\\Windows');
    limitsEnforced = lim.enforced;
    limitsDetail = lim.enforced ? 'measured: the job refuses a process beyond its limit' : lim.detail;
    jobDetail = lim.enforced
      ? `job objects with kill-on-close, process, memory and CPU limits (${lim.detail}), completion port`
      : `job objects with kill-on-close and a completion port; ${lim.detail}`;
    if (j.refused.length) jobDetail += `; refused here: ${j.refused.join(', ')}`;
    // Warn mode's notification limits are a separate class (Windows 8+); said here when the system refuses it.
    const w = JobObject.create(k, { mode: 'warn', activeProcesses: null, jobMemoryBytes: 1 << 30, cpuSeconds: null });
    if (w.refused.length) jobDetail += `; warn mode: ${w.refused.join(', ')} refused, so crossings in warn are not reported live`;
    w.close();
  } catch (e) {
    jobDetail = `CreateJobObjectW/SetInformationJobObject failed: ${(e as Error).message}`;
  }
  caps.push({ name: 'job_object', available: jobOk, detail: jobDetail, requiredForEnforce: true });
  // Measured, not assumed (Wine accepts the limits and keeps none): enforce refuses a policy that sets one.
  caps.push({ name: 'job_limits', available: jobOk && limitsEnforced, detail: limitsDetail, requiredForEnforce: false, keeps: ['limits.maxProcesses', 'limits.memoryMiB', 'limits.cpuSeconds'] });
  const major = Number(os.release().split('.')[0]);
  caps.push({
    name: 'job_list',
    available: major >= 10,
    detail: major >= 10 ? 'PROC_THREAD_ATTRIBUTE_JOB_LIST: the script is created inside the job' : 'before Windows 10: created suspended, assigned, then resumed',
    requiredForEnforce: false,
  });
  const inJob = Buffer.alloc(4);
  const nested = k.IsProcessInJob(handle(k.GetCurrentProcess()), 0n, inJob) !== 0 && inJob.readInt32LE(0) !== 0;
  caps.push({
    name: 'ui_restrictions',
    available: false,
    detail: nested ? 'not applied: this process already runs inside a job (UI limits would make nesting fail)' : 'not applied by this backend',
    requiredForEnforce: false,
  });
  caps.push({
    name: 'filesystem',
    available: fc.enforced,
    detail: fc.enforced
      ? `writes confined by a write-restricted token and per-run ACL grants (journaled, undone after the run): ${fc.detail}; reads (~/.ssh, credentials) are not confined`
      : `writes not confined on this machine: ${fc.detail}; reads are not confined either`,
    requiredForEnforce: false,
  });
  // Not attempted, so not probed: the token is WRITE_RESTRICTED, and Windows checks restricting SIDs for write
  // access only, so a deny-read ACE for the run's SID is never consulted. Enforce refuses a policy that relies
  // on read denial of a path that exists here (~/.ssh and the other secrets, denyRead, strict's read list).
  caps.push({
    name: 'read_confinement',
    available: false,
    detail: READ_CONFINEMENT,
    requiredForEnforce: false,
    keeps: ['filesystem.protectedReads', 'filesystem.denyRead', 'filesystem.readListedOnly'],
  });
  caps.push({
    name: 'process_isolation',
    available: fc.enforced,
    detail: fc.enforced
      ? 'the write-restricted token denies the script PROCESS_DUP_HANDLE, VM_WRITE and CREATE_THREAD on the host and launcher (their DACLs grant no restricting SID): it cannot take the job handle or inject code'
      : 'not verified: without an enforcing restricted token a same-user script could open the host process, duplicate the job handle and lift the limits',
    requiredForEnforce: false,
  });
  caps.push(...NOT_KEPT_ON_WINDOWS.map((c) => ({ ...c })));
  caps.push({ name: 'syscall_filter', available: false, detail: 'Windows has no seccomp equivalent', requiredForEnforce: false });
  caps.push({ name: 'live_violations', available: jobOk, detail: 'job completion-port messages (process, memory and CPU limits) only; no file or network events', requiredForEnforce: false });
  return {
    platform: 'win32',
    arch: process.arch,
    kernel: `${os.type()} ${os.release()}`,
    capabilities: caps,
    treeLimits: 'job object',
    enforcePossible: caps.every((c) => !c.requiredForEnforce || c.available),
  };
}

export { isInJob };
