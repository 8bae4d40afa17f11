// The capability report: what this machine can enforce, as the backend probes it. Declared once; the host
// sends it unchanged to the extension (HostMessage 'capabilities'), `script-sandbox check` prints it, and the
// audit log keeps its summary (protocol/audit.ts CapabilitySummary).
import { z } from 'zod';

/**
 * A promise a policy can make that one capability keeps. Where that capability is not available, the enforce
 * gate (host/unkept-promises.ts) refuses a run whose policy makes the promise, and warn mode notes it.
 */
export const PolicyPromise = z.enum([
  'limits.cpuSeconds',
  'limits.memoryMiB',
  'limits.maxProcesses',
  'limits.fileSizeMiB',
  'limits.openFiles',
  'filesystem.protectedReads',
  'filesystem.denyRead',
  'filesystem.readListedOnly',
  /** network.preset none: no IP connection at all. */
  'network.none',
  /** network.preset strict or api-only: connections only to allowHosts / allowAddresses. */
  'network.allowList',
  /** denyHosts, and blockedPorts beyond the built-in list. */
  'network.denyList',
  /** network.preset default: cloud metadata, private, loopback addresses and the built-in dangerous ports blocked. */
  'network.defaultBlocks',
]);
export type PolicyPromise = z.infer<typeof PolicyPromise>;

export const Capability = z.object({
  /** Stable key, e.g. "landlock", "seccomp", "seccomp_user_notif", "cgroup", "user_namespaces". */
  name: z.string(),
  available: z.boolean(),
  /** One line: "ABI 7", "cgroup v1 (pids, memory) writable", "not compiled into this kernel". */
  detail: z.string(),
  /** Needed for enforce mode to be possible at all. */
  requiredForEnforce: z.boolean(),
  /** How to get it when missing. */
  fix: z.string().optional(),
  /** The policy promises it keeps: unavailable, a run that relies on one is refused in enforce, noted in warn. */
  keeps: z.array(PolicyPromise).optional(),
});
export type Capability = z.infer<typeof Capability>;

export const TreeLimits = z.enum(['cgroup v2', 'cgroup v1', 'watchdog', 'job object', 'none']);

export const CapabilityReport = z.object({
  platform: z.string(),
  arch: z.string(),
  kernel: z.string(),
  capabilities: z.array(Capability),
  /** Where memory/process-count limits are enforced: "cgroup v2", "cgroup v1", "watchdog" or a Windows "job object". */
  treeLimits: TreeLimits,
  enforcePossible: z.boolean(),
});
export type CapabilityReport = z.infer<typeof CapabilityReport>;
