// Host ⇄ extension (or any client) messages over the Node IPC channel, validated on arrival both ways.
import { z } from 'zod';
import { PolicyInput, ResolvedPolicy } from '../policy/schema';
import { Violation } from '../policy/violation';

/** A terminal's size in character cells. */
export const TerminalSize = z.object({ rows: z.number().int().min(1).max(10000), cols: z.number().int().min(1).max(10000) });
export type TerminalSize = z.infer<typeof TerminalSize>;

/**
 * A run in a terminal: the host makes a pseudo-terminal, the script gets its slave as stdin/stdout/stderr and
 * controlling terminal, and output comes back as `output` (stdout) messages; keys go in as terminalInput.
 */
export const RunTerminalRequest = z.object({ size: TerminalSize }).describe('Run the script in a pseudo-terminal of this size');
export type RunTerminalRequest = z.infer<typeof RunTerminalRequest>;

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run'),
    requestId: z.string().min(1),
    command: z.array(z.string()).min(1),
    cwd: z.string().min(1),
    workspace: z.string().min(1),
    env: z.record(z.string(), z.string()),
    layers: z.object({ user: PolicyInput.optional(), workspace: PolicyInput.optional(), run: PolicyInput.optional() }),
    approvedLoosening: z.boolean().optional(),
    inferInterpreter: z.boolean().optional(),
    /** Interpreter by file extension (".py" → ["python3"]), overriding the built-in table. */
    interpreters: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
    /** Audit log file (absolute); the host appends this run's records to it. */
    auditPath: z.string().min(1).optional(),
    /** Alert rule of the host's monitor: `threshold` violations within `windowMs`; critical ones at once. */
    alerts: z.object({ threshold: z.number().int().min(1), windowMs: z.number().positive(), criticalAtOnce: z.boolean() }).optional(),
    /** Runs the script of an approved git-script fetch (from gitFetch); the host sets command and cwd. */
    gitFetchId: z.string().min(1).optional(),
    terminal: RunTerminalRequest.optional(),
  }),
  z.object({
    type: z.literal('gitFetch'),
    requestId: z.string().min(1),
    /** A git-script definition, validated by the host (errors name the field). */
    spec: z.unknown(),
    workspace: z.string().min(1),
    /** Where mirrors, checkouts and approvals live (the extension's global storage). */
    cacheRoot: z.string().min(1),
    auditPath: z.string().min(1).optional(),
    layers: z.object({ user: PolicyInput.optional(), workspace: PolicyInput.optional(), run: PolicyInput.optional() }),
    approvedLoosening: z.boolean().optional(),
  }),
  /** Cancels the gitFetch with this request id: the host kills git's process tree; the fetch rejects with GIT_FETCH_CANCELLED. */
  z.object({ type: z.literal('gitFetchCancel'), requestId: z.string().min(1) }),
  z.object({ type: z.literal('gitApprove'), requestId: z.string().min(1), fetchId: z.string().min(1) }),
  z.object({ type: z.literal('gitCacheClean'), requestId: z.string().min(1), cacheRoot: z.string().min(1) }),
  z.object({ type: z.literal('cancel'), runId: z.string().min(1) }),
  /** Keys typed in a terminal run (Ctrl+C is "\x03": the terminal's line discipline makes it SIGINT). */
  z.object({ type: z.literal('terminalInput'), runId: z.string().min(1), data: z.string().max(1 << 16) }),
  z.object({ type: z.literal('terminalResize'), runId: z.string().min(1), size: TerminalSize }),
  z.object({ type: z.literal('capabilities'), requestId: z.string().min(1) }),
  z.object({ type: z.literal('shutdown') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

const ErrorData = z.object({ code: z.string(), message: z.string(), call: z.string().optional(), errno: z.number().optional() });

export const HostMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), pid: z.number(), version: z.string() }),
  z.object({
    type: z.literal('accepted'),
    requestId: z.string(),
    runId: z.string(),
    /** The policy in force for the run, and what resolving it noted (ignored or clamped layers). */
    policy: ResolvedPolicy.optional(),
    notes: z.array(z.string()).optional(),
  }),
  z.object({ type: z.literal('rejected'), requestId: z.string(), error: ErrorData }),
  z.object({ type: z.literal('started'), runId: z.string(), pid: z.number(), file: z.string(), script: z.string().nullable(), envRemoved: z.array(z.string()) }),
  z.object({ type: z.literal('output'), runId: z.string(), stream: z.enum(['stdout', 'stderr']), data: z.string() }),
  z.object({ type: z.literal('violation'), violation: Violation }),
  z.object({ type: z.literal('limit'), runId: z.string(), limit: z.string(), action: z.string(), message: z.string() }),
  z.object({
    type: z.literal('finished'),
    runId: z.string(),
    exitCode: z.number(),
    signal: z.string().nullable(),
    durationMs: z.number(),
    cpuUserMs: z.number().nullable(),
    cpuSystemMs: z.number().nullable(),
    maxRssKiB: z.number().nullable(),
    setupError: ErrorData.nullable(),
    usageSource: z.enum(['cgroup', 'rusage', 'sampled']).optional(),
    timedOut: z.boolean().optional(),
    cancelled: z.boolean().optional(),
  }),
  z.object({
    type: z.literal('alert'),
    alert: z.object({
      id: z.number(),
      time: z.string(),
      reason: z.enum(['threshold', 'critical']),
      message: z.string(),
      count: z.number(),
      runIds: z.array(z.string()),
      violations: z.array(Violation),
    }),
  }),
  z.object({ type: z.literal('capabilities'), requestId: z.string(), report: z.unknown() }),
  /** `percent`: the fetch's overall progress from git's own percentages, while git transfers. */
  z.object({ type: z.literal('gitProgress'), requestId: z.string(), message: z.string(), percent: z.number().min(0).max(100).optional() }),
  z.object({
    type: z.literal('gitFetched'),
    requestId: z.string(),
    /** Names this fetch in gitApprove and in a run's gitFetchId, while the host lives. */
    fetchId: z.string(),
    name: z.string(),
    repo: z.string(),
    ref: z.string(),
    commit: z.string(),
    checkoutDir: z.string(),
    scriptPath: z.string(),
    args: z.array(z.string()),
    reused: z.boolean(),
    approval: z.object({
      status: z.enum(['approved', 'new', 'changed']),
      previousCommit: z.string().optional(),
      changedFiles: z.array(z.object({ status: z.string(), path: z.string() })).optional(),
    }),
    /** What the approval shows: commit, changes, the policy the script will get. */
    description: z.string(),
    /** Violations of the sandboxed fetch itself (git reaching for another host, say). */
    fetchViolations: z.array(Violation),
  }),
  z.object({ type: z.literal('gitApproved'), requestId: z.string() }),
  z.object({ type: z.literal('gitCacheCleaned'), requestId: z.string(), removed: z.number(), bytes: z.number() }),
  z.object({ type: z.literal('protocol_error'), message: z.string() }),
]);
export type HostMessage = z.infer<typeof HostMessage>;
