// The audit log's record format, shared by the writer (src/audit), the verifier and every reader
// (CLI `audit`, the extension). One JSON object per line; every line carries the chain fields, so a reader
// can check any line on its own and the whole file as a chain.
//
// Version 2 lines are keyed: `mac` (always the last field) is HMAC-SHA-256, under the user's audit key, of
// the line's exact bytes without it, and `prev` is the previous line's mac. Version 1 lines (older format)
// are unkeyed: no mac, `prev` is the SHA-256 of the previous line. See src/audit/chain.ts.
import { z } from 'zod';
import { ResolvedPolicy, describeZodError } from '../policy/schema';
import { Violation } from '../policy/violation';
import { CapabilityReport } from './capabilities';
import { LimitEvent, LimitName, RunResult, RunStarted } from './run-events';

/** The version written now (keyed); 1 is the older unkeyed format, still read. */
export const AUDIT_FORMAT_VERSION = 2;
export const UNKEYED_FORMAT_VERSION = 1;
/** `prev` of the very first line of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const isoMillis = z.iso.datetime({ precision: 3 }).describe('ISO 8601 UTC with milliseconds, e.g. 2025-01-31T12:00:00.123Z.');
const runId = z.string().min(1).describe('Run the record belongs to.');

export const AuditWriter = z
  .object({
    pid: z.number().int().positive().describe('Process that wrote the line (host or CLI).'),
    host: z.string().describe('Host name of that process; liveness is only judged for this host.'),
    startedAt: isoMillis.describe('When that process started; with pid it tells a live writer from a reused pid.'),
    bootId: z.string().optional().describe('Linux boot id (/proc/sys/kernel/random/boot_id): a different boot means the writer is gone.'),
    startTicks: z.number().int().nonnegative().optional().describe('Start time in clock ticks since boot (/proc/<pid>/stat field 22): exact identity of the process.'),
  })
  .describe('Who wrote the line.');
export type AuditWriter = z.infer<typeof AuditWriter>;

const common = {
  v: z.union([z.literal(UNKEYED_FORMAT_VERSION), z.literal(AUDIT_FORMAT_VERSION)]).describe('Format version: 2 keyed (mac), 1 the older unkeyed format.'),
  seq: z.number().int().positive().describe('Position in the chain: 1 for the first line, +1 per line, continuing across rotated files.'),
  prev: sha256Hex.describe('The previous line\'s link (across rotation: the rotated file\'s last line): its mac for a version 2 line, the SHA-256 of its exact bytes without the newline for a version 1 line; 64 zeros for seq 1.'),
  time: isoMillis,
  writer: AuditWriter,
  mac: sha256Hex.optional().describe('Version 2: HMAC-SHA-256 (hex), under the user\'s audit key, of this line\'s bytes without the mac field; always the last field.'),
};

export { LimitName };
export const ViolationKind = Violation.shape.kind;

// The records below are built from the run events of protocol/run-events.ts (and the capability report of
// protocol/capabilities.ts): a field's declaration lives there once. The on-disk shape is the one written since
// format 1, so every existing log still reads and verifies: where a record keeps less than the event (a
// finished run's limits by name, its setupError without call/errno) or a field older lines lack (optional),
// the record schema says so here.

/** The capability report reduced to what the log keeps (lenient: older lines wrote other tree-limit names). */
export const CapabilitySummary = z
  .object({
    enforcePossible: CapabilityReport.shape.enforcePossible.optional().describe('Whether enforce mode is possible on this machine.'),
    treeLimits: z.string().optional().describe('Where tree limits are enforced: cgroup v2, cgroup v1, watchdog, none.'),
    available: z.array(z.string()).describe('Mechanisms available.'),
    missing: z.array(z.string()).describe('Mechanisms missing.'),
  })
  .describe('Capability report, summarized.');
export type CapabilitySummary = z.infer<typeof CapabilitySummary>;

export const GitScriptOrigin = z
  .object({
    repo: z.string().describe('Repository URL (credentials masked).'),
    ref: z.string().optional().describe('Branch or tag asked for.'),
    commit: z.string().optional().describe('Commit actually checked out.'),
  })
  .describe('Where a git-script came from.');

const HostStarted = z.object({
  ...common,
  type: z.literal('host_started'),
  component: z.string().describe('Which program opened the log: "host", "cli", ...'),
  version: z.string().optional().describe('Its version.'),
});
const HostStopped = z.object({
  ...common,
  type: z.literal('host_stopped'),
  reason: z.string().optional().describe('Why it stopped, when known.'),
});
const RunStartedRecord = z.object({
  ...common,
  type: z.literal('run_started'),
  runId,
  command: z.array(z.string()).describe('Command line as given (secrets masked).'),
  cwd: z.string().describe('Working directory.'),
  workspace: z.string().describe('Workspace folder.'),
  mode: ResolvedPolicy.shape.mode,
  profile: ResolvedPolicy.shape.profile,
  policyDigest: sha256Hex.describe('SHA-256 of the resolved policy.'),
  policy: ResolvedPolicy.optional().describe('The full resolved policy, on the first run_started with this digest in the file; later ones look it up by digest.'),
  platform: z.object({ os: z.string(), arch: z.string(), release: z.string() }).describe('Operating system of the writer.'),
  capabilities: CapabilitySummary.optional(),
  // From the run's RunStarted event; absent when the script never started.
  treeLimits: RunStarted.shape.treeLimits.optional().describe('How this run\'s tree limits were enforced.'),
  pid: RunStarted.shape.pid.optional().describe('Process id of the sandboxed program.'),
  file: RunStarted.shape.file.optional().describe('Executable actually started.'),
  gitScript: GitScriptOrigin.optional(),
});
const ViolationRecord = z.object({ ...common, type: z.literal('violation'), runId, violation: Violation });
const LimitRecord = z.object({
  ...common,
  type: z.literal('limit_exceeded'),
  runId,
  ...LimitEvent.shape,
});
const EnvFiltered = z.object({
  ...common,
  type: z.literal('env_filtered'),
  runId,
  removed: RunStarted.shape.envRemoved.describe('Names of the variables removed; never their values.'),
});
const RunFinished = z.object({
  ...common,
  type: z.literal('run_finished'),
  runId,
  ...RunResult.pick({ exitCode: true, signal: true, durationMs: true, cpuUserMs: true, cpuSystemMs: true, maxRssKiB: true }).shape,
  // Format 1 lines lack these three.
  ...RunResult.pick({ usageSource: true, timedOut: true, cancelled: true }).partial().shape,
  limits: z.array(LimitName).optional().describe('Limits that were exceeded.'),
  // Code and message only; a code is kept as written even when a later version no longer knows it.
  setupError: z.object({ code: z.string(), message: z.string() }).nullable().optional().describe('Why the script never started, when it did not.'),
  violations: z.partialRecord(ViolationKind, z.number().int().nonnegative()).describe('Violations of the run, counted by kind.'),
});
const RunAborted = z.object({
  ...common,
  type: z.literal('run_aborted'),
  runId,
  reason: z.string().describe('Why the run is closed without a result, e.g. its writer process died.'),
});
const PolicyError = z.object({
  ...common,
  type: z.literal('policy_error'),
  source: z.string().describe('Where the bad policy came from (file, setting).'),
  message: z.string(),
});
const LogRepaired = z.object({
  ...common,
  type: z.literal('log_repaired'),
  file: z.string().describe('File (base name) whose tail was repaired.'),
  removedBytes: z.number().int().positive().describe('Length of the incomplete last line that was cut off.'),
  removedSha256: sha256Hex.describe('Hash of the bytes cut off.'),
  reason: z.string(),
});
const LogRegressed = z.object({
  ...common,
  type: z.literal('log_regressed'),
  expectedSeq: z.number().int().positive().describe('Where the chain ended when this writer last wrote or read it.'),
  foundSeq: z.number().int().nonnegative().describe('Where it ends now (0: no line left).'),
  reason: z.string(),
});

export const AuditRecord = z
  .discriminatedUnion('type', [HostStarted, HostStopped, RunStartedRecord, ViolationRecord, LimitRecord, EnvFiltered, RunFinished, RunAborted, PolicyError, LogRepaired, LogRegressed])
  .describe('One line of the audit log.');
export type AuditRecord = z.infer<typeof AuditRecord>;
export type AuditRecordType = AuditRecord['type'];

type CommonKey = keyof typeof common;
export type RunFinishedRecordInput = Extract<AuditRecordInput, { type: 'run_finished' }>;

/** The run_finished record of a run's result: its limits by name, its setup error by code and message. */
export function runFinishedRecord(r: RunResult, violations: Partial<Record<Violation['kind'], number>>): RunFinishedRecordInput {
  // phases are the host's timing diagnostics, not part of the record.
  const { limits, setupError, phases: _phases, ...rest } = r;
  return {
    type: 'run_finished',
    ...rest,
    limits: limits.map((l) => l.limit),
    setupError: setupError ? { code: setupError.code, message: setupError.message } : null,
    violations: { ...violations },
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a caller hands to AuditLog.append: the record without the chain fields the log fills in. */
export type AuditRecordInput = DistributiveOmit<AuditRecord, CommonKey>;

/** Parses one line; returns a reason instead of throwing, for readers that report the first bad line. */
export function parseAuditLine(line: string): { ok: true; record: AuditRecord } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, reason: `not valid JSON (${(e as Error).message})` };
  }
  const r = AuditRecord.safeParse(raw);
  if (!r.success) {
    return { ok: false, reason: describeZodError(r.error, 'does not match the audit schema', { first: true }) };
  }
  return { ok: true, record: r.data };
}
