// Host ⇄ extension (or any client) messages over the Node IPC channel, validated on arrival both ways.
import { z } from 'zod';
import { PolicyInput, ResolvedPolicy, describeZodError } from '../policy/schema';
import { Violation } from '../policy/violation';
import { SandboxError, SandboxErrorData } from '../errors';
import { CapabilityReport } from './capabilities';
import { LimitEvent, RunResult, RunStarted } from './run-events';

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

/** An alert of the host's monitor: `count` violations within the window, or a critical one at once. */
export const Alert = z.object({
  id: z.number(),
  /** ISO 8601 UTC, from the monitor clock. */
  time: z.string(),
  reason: z.enum(['threshold', 'critical']),
  message: z.string(),
  /** Violations in the window when it fired (1 for a critical alert with nothing else pending). */
  count: z.number(),
  windowMs: z.number(),
  runIds: z.array(z.string()),
  /** The violations that triggered it (the window's, or the critical one last). */
  violations: z.array(Violation),
});
export type Alert = z.infer<typeof Alert>;

// The run's events (protocol/run-events.ts) go to the client as they are, with the message type on top.
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
  z.object({ type: z.literal('rejected'), requestId: z.string(), error: SandboxErrorData }),
  RunStarted.extend({ type: z.literal('started') }),
  z.object({ type: z.literal('output'), runId: z.string(), stream: z.enum(['stdout', 'stderr']), data: z.string() }),
  z.object({ type: z.literal('violation'), violation: Violation }),
  LimitEvent.extend({ type: z.literal('limit'), runId: z.string() }),
  RunResult.extend({ type: z.literal('finished') }),
  z.object({ type: z.literal('alert'), alert: Alert }),
  z.object({ type: z.literal('capabilities'), requestId: z.string(), report: CapabilityReport }),
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

/**
 * A message from a client (the extension), as it arrived over IPC: the message unchanged when valid, else a
 * PROTOCOL_INVALID SandboxError whose text names every field that is wrong (the host answers with it as a
 * protocol_error).
 */
export function parseClientMessage(raw: unknown): ClientMessage {
  const r = ClientMessage.safeParse(raw);
  if (!r.success) throw new SandboxError('PROTOCOL_INVALID', describeZodError(r.error, 'invalid message', { separator: '; ' }));
  return r.data;
}

/** A message from the host, as the client receives it: unchanged when valid, else PROTOCOL_INVALID naming the fields. */
export function parseHostMessage(raw: unknown): HostMessage {
  const r = HostMessage.safeParse(raw);
  if (!r.success) throw new SandboxError('PROTOCOL_INVALID', describeZodError(r.error, 'invalid host message', { separator: '; ' }));
  return r.data;
}
