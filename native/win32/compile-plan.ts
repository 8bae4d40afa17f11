// ResolvedPolicy → Win32Plan, and the honest per-restriction report for Windows: what the job object keeps,
// what is only reported, what this backend cannot do. Pure (no koffi): unit-tested on Linux.
import type { ResolvedPolicy } from '../../src/policy/schema';
import type { Win32Plan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { win32Command, type CommandContext } from './command-line';
import { jobLimitsFor, type JobLimits } from './job-limits';

export interface Win32CompileRequest extends CommandContext {
  runId: string;
  /** The resolved program or script (absolute). */
  file: string;
  /** argv as the user gave it: argv[0] names the program, the rest are its arguments. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  job: Win32Plan['job'];
}

export type RestrictionStatus = 'enforced' | 'reported' | 'not available';

export interface Restriction {
  name: string;
  status: RestrictionStatus;
  detail: string;
}

const NOT_KEPT_FS =
  'not enforced on Windows by this backend: confinement needs a restricted token with ACL grants or an AppContainer, which it does not create yet';

/** Per restriction of the policy: what Windows keeps for this run. */
export function win32Restrictions(p: ResolvedPolicy): Restriction[] {
  if (p.mode === 'disabled') return [{ name: 'tree', status: 'enforced', detail: 'disabled mode: only the job that kills the tree with the run' }];
  const hard = p.mode === 'enforce';
  const l = p.limits;
  const lim = (name: string, v: number | null, how: string, warnHow: string): Restriction =>
    v == null ? { name, status: 'not available', detail: 'no limit set' } : { name, status: hard ? 'enforced' : 'reported', detail: hard ? how : warnHow };
  return [
    { name: 'tree', status: 'enforced', detail: 'job object with kill-on-close: the whole tree dies with the run and with the host' },
    lim('cpuSeconds', l.cpuSeconds, `job and per-process user-mode time limit ${l.cpuSeconds} s (Windows counts user time only)`, 'job notification limit on user time (nothing killed)'),
    lim('memoryMiB', l.memoryMiB, `job commit limit ${l.memoryMiB} MiB (allocations beyond it fail)`, 'job notification limit on committed memory (nothing killed)'),
    lim('maxProcesses', l.maxProcesses, `job active process limit ${l.maxProcesses} (further processes are refused)`, 'the host counts the job\'s process messages (nothing refused)'),
    { name: 'timeoutSeconds', status: l.timeoutSeconds == null ? 'not available' : 'enforced', detail: l.timeoutSeconds == null ? 'no limit set' : 'the host terminates the job' },
    { name: 'fileSizeMiB', status: 'not available', detail: 'Windows has no per-file size limit (RLIMIT_FSIZE)' },
    { name: 'openFiles', status: 'not available', detail: 'Windows has no per-process handle limit (RLIMIT_NOFILE)' },
    { name: 'env', status: 'enforced', detail: 'the host builds the environment block; removed variables never reach the script' },
    { name: 'filesystem.write', status: 'not available', detail: NOT_KEPT_FS },
    { name: 'filesystem.protectedReads', status: 'not available', detail: NOT_KEPT_FS },
    { name: 'network', status: 'not available', detail: 'not enforced: no network control without admin (WFP/firewall) or an AppContainer, which this backend does not create yet' },
    { name: 'syscalls', status: 'not available', detail: 'Windows has no seccomp equivalent' },
  ];
}

/**
 * Enforce mode refuses a policy whose explicit demands Windows cannot keep here: no network or an allow
 * list, read-only mode, the user's own deny lists. The profile's baseline (workspace writes, protected paths)
 * is reported as not enforced instead, so enforce still gives the job limits.
 */
export function win32Refusal(p: ResolvedPolicy): SandboxError | null {
  if (p.mode !== 'enforce') return null;
  const asks: string[] = [];
  if (p.network.preset !== 'default') asks.push(`network preset "${p.network.preset}"`);
  if (p.network.allowHosts.length || p.network.denyHosts.length) asks.push('host allow/deny lists');
  if (p.filesystem.readOnly) asks.push('read-only mode');
  if (p.filesystem.denyRead.length) asks.push('denyRead');
  if (p.filesystem.denyWrite.length) asks.push('denyWrite');
  if (!asks.length) return null;
  return new SandboxError(
    'MECHANISM_UNAVAILABLE',
    `enforce mode on Windows cannot keep: ${asks.join(', ')} (no file or network confinement in the Windows backend yet); use warn mode, or drop these restrictions (e.g. --net default)`,
  );
}

export function compileWin32Plan(p: ResolvedPolicy, req: Win32CompileRequest): { plan: Win32Plan; limits: JobLimits } {
  const refusal = win32Refusal(p);
  if (refusal) throw refusal;
  const cmd = win32Command(req.file, req.argv.slice(1), req);
  const limits = jobLimitsFor(p.mode, p.limits);
  return {
    plan: {
      platform: 'win32',
      runId: req.runId,
      application: cmd.application,
      commandLine: cmd.commandLine,
      env: req.env,
      cwd: req.cwd,
      job: req.job,
      requireJob: p.mode !== 'disabled',
      namespaces: null,
    },
    limits,
  };
}
