// A run's events, declared once: the runner emits them (host/run-handle.ts), the host sends them to the
// extension unchanged (HostMessage 'started', 'limit', 'finished', 'violation'), the audit log's records are
// built from them (protocol/audit.ts) and `--events FILE` writes them as they are. Violations are the one
// normalized type of src/policy/violation.ts, whatever backend produced them.
import { z } from 'zod';
import { SandboxErrorData } from '../errors';
import { Violation } from '../policy/violation';

export { Violation };

export const LimitName = z.enum(['cpu', 'memory', 'processes', 'fileSize', 'openFiles', 'timeout']);
export type LimitName = z.infer<typeof LimitName>;

/** A limit the run reached (limit_exceeded). */
export const LimitEvent = z.object({
  limit: LimitName,
  /** What was observed, in the limit's unit (s, MiB, processes, MiB, fds, s). */
  observed: z.number().nullable().describe('What was observed, in the limit\'s unit.'),
  max: z.number().describe('The limit.'),
  /** What the host did about it: the compiled reaction (killed), the kernel's refusal (denied), or a report only. */
  action: z.enum(['killed', 'denied', 'reported']),
  message: z.string(),
});
export type LimitEvent = z.infer<typeof LimitEvent>;

/** The script was exec'd (run_started). */
export const RunStarted = z.object({
  runId: z.string().min(1),
  /** Process id of the sandboxed program. */
  pid: z.number().int(),
  /** The command as given. */
  command: z.array(z.string()),
  /** Executable actually started. */
  file: z.string(),
  /** The script file, when the command names one (an interpreter's argument or a shebang file). */
  script: z.string().nullable(),
  cwd: z.string(),
  /** Names of the variables the policy removed; never their values. */
  envRemoved: z.array(z.string()),
  /** How this run's tree limits are enforced (cgroup v2, cgroup v1, watchdog, job object). */
  treeLimits: z.string(),
  time: z.string(),
});
export type RunStarted = z.infer<typeof RunStarted>;

export const UsageSource = z.enum(['cgroup', 'rusage', 'sampled']);

/** The run is over (run_finished): how it ended, what it used, what it hit. */
export const RunResult = z.object({
  runId: z.string().min(1),
  exitCode: z.number().int(),
  signal: z.string().nullable(),
  durationMs: z.number().nonnegative(),
  cpuUserMs: z.number().nullable(),
  cpuSystemMs: z.number().nullable(),
  maxRssKiB: z.number().nullable(),
  /** How usage was measured: exact from a cgroup or rusage, or sampled by the watchdog. */
  usageSource: UsageSource,
  limits: z.array(LimitEvent),
  /** Why the script never started, when it did not. */
  setupError: SandboxErrorData.nullable(),
  timedOut: z.boolean(),
  cancelled: z.boolean(),
  /**
   * Where the time went, in ms from the request (performance.now()): the script's exec (null when it never
   * started), its exit as the host saw it, and the result handed over.
   */
  phases: z.object({ execMs: z.number().nullable(), exitMs: z.number(), resultMs: z.number() }).optional(),
});
export type RunResult = z.infer<typeof RunResult>;
