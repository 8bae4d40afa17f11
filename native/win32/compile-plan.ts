// ResolvedPolicy → Win32Plan, and the honest per-restriction report for Windows: what the job object keeps,
// what is only reported, what this backend cannot do. Pure (no koffi): unit-tested on Linux.
import type { ResolvedPolicy } from '../../src/policy/schema';
import type { Win32Plan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { win32Command, type CommandContext } from './command-line';
import { jobLimitsFor, type JobLimits } from './job-limits';
import { confinesWrites } from './confine-plan';

export interface Win32CompileRequest extends CommandContext {
  runId: string;
  /** The resolved program or script (absolute). */
  file: string;
  /** argv as the user gave it: argv[0] names the program, the rest are its arguments. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  job: Win32Plan['job'];
  /** The run's restricted token (its SID holds the host's ACL grants); null: no file confinement for this run. */
  restrictedToken?: Win32Plan['restrictedToken'];
  /** Whether this machine enforces the token's file confinement (confine-probe.ts measured it). */
  fileConfinement?: FileConfinementStatus;
}

/** What the confinement probe found: enforced (measured), or why not. */
export interface FileConfinementStatus {
  enforced: boolean;
  detail: string;
}

const UNPROBED: FileConfinementStatus = { enforced: false, detail: 'not probed' };

export type RestrictionStatus = 'enforced' | 'reported' | 'not available';

export interface Restriction {
  name: string;
  status: RestrictionStatus;
  detail: string;
}

const READS_NOT_KEPT =
  'not enforced on Windows: the write-restricted token confines writes only, and an AppContainer (which could refuse reads) is not used (it makes every toolchain under the user profile unreadable unless granted, blocks loopback, and Wine lacks it)';

function writeRestriction(p: ResolvedPolicy, fc: FileConfinementStatus): Restriction {
  const name = 'filesystem.write';
  if (p.mode !== 'enforce') return { name, status: 'not available', detail: 'warn mode: writes are not confined, and Windows gives no live file events to report them' };
  if (!confinesWrites(p)) return { name, status: 'not available', detail: 'profile permissive: writes outside system paths are allowed; only the user\'s own ACLs keep system paths' };
  if (!fc.enforced) return { name, status: 'not available', detail: `not enforced on this machine: ${fc.detail}` };
  return { name, status: 'enforced', detail: `write-restricted token: writes only where the run's SID is granted (${p.filesystem.readOnly ? 'run temp' : 'workspace, run temp, allowWrite'}); protected paths inside denied; grants journaled and undone after the run` };
}

/** Per restriction of the policy: what Windows keeps for this run. */
export function win32Restrictions(p: ResolvedPolicy, fc: FileConfinementStatus = UNPROBED): Restriction[] {
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
    writeRestriction(p, fc),
    { name: 'filesystem.protectedReads', status: 'not available', detail: READS_NOT_KEPT },
    { name: 'network', status: 'not available', detail: 'not enforced: no network control without admin (WFP/firewall) or an AppContainer, which this backend does not use' },
    { name: 'syscalls', status: 'not available', detail: 'Windows has no seccomp equivalent' },
  ];
}

/**
 * Enforce mode refuses a policy whose explicit demands Windows cannot keep here: no network or an allow
 * list, read-only mode, the user's own deny lists. The profile's baseline (workspace writes, protected paths)
 * is reported as not enforced instead, so enforce still gives the job limits.
 */
export function win32Refusal(p: ResolvedPolicy, fc: FileConfinementStatus = UNPROBED): SandboxError | null {
  if (p.mode !== 'enforce') return null;
  const asks: string[] = [];
  if (p.network.preset !== 'default') asks.push(`network preset "${p.network.preset}"`);
  if (p.network.allowHosts.length || p.network.denyHosts.length) asks.push('host allow/deny lists');
  // Writes are kept only where the probe measured the restricted token refusing a write.
  if (!fc.enforced && p.filesystem.readOnly) asks.push('read-only mode');
  if (p.filesystem.denyRead.length) asks.push('denyRead');
  if (!fc.enforced && p.filesystem.denyWrite.length) asks.push('denyWrite');
  if (!asks.length) return null;
  const why = fc.enforced ? 'Windows confines writes here but not reads or the network' : `no network or read confinement on Windows, and write confinement is not enforced on this machine (${fc.detail})`;
  return new SandboxError('MECHANISM_UNAVAILABLE', `enforce mode on Windows cannot keep: ${asks.join(', ')} (${why}); use warn mode, or drop these restrictions (e.g. --net default)`);
}

export function compileWin32Plan(p: ResolvedPolicy, req: Win32CompileRequest): { plan: Win32Plan; limits: JobLimits } {
  const refusal = win32Refusal(p, req.fileConfinement);
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
      restrictedToken: req.restrictedToken ?? null,
      namespaces: null,
    },
    limits,
  };
}
