// The compiled, per-OS plan: what the launcher applies just before exec. Plain JSON so it can cross the
// fd-3 pipe; nothing in here is a decision any more, only mechanism input. Declared once, as zod schemas: the
// host's compile produces these types and the launcher validates the same schemas on arrival
// (protocol/launcher.ts).
import { z } from 'zod';
import { LANDLOCK_ACCESS, type LandlockAccess } from '../policy/fs-access';

export type { LandlockAccess };

export const LandlockRule = z.object({
  path: z.string(),
  access: z.array(z.enum(LANDLOCK_ACCESS)),
  /**
   * The path was canonical when the compile's expansion looked at it: the launcher opens it without following
   * any symlink, so a name flipped to a link since then (by a concurrent run) gets no rule rather than the
   * link target's (native/linux/carve-outs.ts ExpandedRule).
   */
  exact: z.literal(true).optional(),
});
export type LandlockRule = z.infer<typeof LandlockRule>;

export const LandlockPlan = z.object({
  /** Rights the ruleset handles (denied unless a rule grants them); intersected with the kernel's ABI. */
  handled: z.array(z.enum(LANDLOCK_ACCESS)),
  rules: z.array(LandlockRule),
  /**
   * Paths no rule may reach through an ancestor. Landlock only grants, so a rule on an ancestor of a
   * carve-out is replaced by rules on the ancestor's other children, down to the carve-out. The host's
   * compile step does that already and sends this empty; apply expands whatever is left here the same way.
   */
  carveOuts: z.array(z.string()),
  /** Landlock ABI >= 6 scopes: abstract unix sockets and signals stay inside the sandbox. */
  scopes: z.array(z.enum(['abstract_unix_socket', 'signal'])),
});
export type LandlockPlan = z.infer<typeof LandlockPlan>;

export const RlimitResource = z.enum(['cpu', 'fsize', 'nofile', 'core', 'as', 'nproc']);
export type RlimitResource = z.infer<typeof RlimitResource>;
export const RlimitSpec = z.object({
  resource: RlimitResource,
  /** -1 = infinity */
  soft: z.number(),
  hard: z.number(),
});
export type RlimitSpec = z.infer<typeof RlimitSpec>;

/**
 * The run's own mount (and network, IPC) namespace, made by the launcher after the plan arrives; the user,
 * mount and PID namespaces themselves exist from the launcher's start (util-linux unshare). The three path
 * lists are applied together from the shallowest path to the deepest, so a writable entry inside a
 * read-only one (`.git/objects` inside `.git`) is given back read-write.
 */
export const NamespacePlan = z.object({
  /** Everything outside these is read-only in the run's mount namespace. Absolute, resolved. */
  writable: z.array(z.string()),
  /** Inside writable areas: bound read-only over themselves (existing by the time the launcher runs). */
  readOnly: z.array(z.string()),
  /** Inside writable areas: covered by an empty read-only directory (the script cannot even read them). */
  hidden: z.array(z.string()),
  /** Inside writable areas: bound onto themselves (read-write as they were) so that the kernel refuses to rename
   *  them (EBUSY): the directories on the way to a readOnly/hidden entry and to the workspace. */
  pinned: z.array(z.string()),
  /** Private network namespace with only `lo` up. */
  isolateNetwork: z.boolean(),
  /**
   * A private tmpfs over /dev/shm (present when the run may write there): what the script leaves there is
   * kept by a filesystem the run owns, at most `sizeBytes` (the memory limit; null: tmpfs's default), counted by
   * the watchdog and gone with the run's mount namespace.
   */
  privateShm: z.object({ sizeBytes: z.number().int().positive().nullable() }).optional(),
});
export type NamespacePlan = z.infer<typeof NamespacePlan>;

/** The program a POSIX launcher execs (Linux, macOS), and the limits it sets first. */
const PosixExec = {
  /** Absolute path of the program to exec (already resolved against PATH). */
  file: z.string().min(1),
  argv: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()),
  cwd: z.string().min(1),
  /** Resources by name; each backend maps them to its numbers (Darwin: NPROC 7, NOFILE 8). */
  rlimits: z.array(RlimitSpec),
};

export const LinuxPlan = z.object({
  platform: z.literal('linux'),
  runId: z.string(),
  ...PosixExec,
  noNewPrivs: z.boolean(),
  /** null = not applied (mode disabled). */
  landlock: LandlockPlan.nullable(),
  /** Base64 of struct sock_filter[]; null = not applied. */
  seccomp: z.object({ program: z.string(), listener: z.boolean() }).nullable(),
  /** Fail closed when the kernel lacks Landlock (enforce). In warn mode a missing mechanism is reported. */
  requireLandlock: z.boolean(),
  /** null = fallback tier: no namespaces (protected paths are Landlock carve-outs). Absent on arrival: null. */
  namespaces: NamespacePlan.nullable().default(null),
  /** A pty slave the host made: the script's stdin/stdout/stderr and controlling terminal. Absent: none. */
  terminal: z
    .object({ path: z.string().regex(/^\/dev\/pts\/\d+$/) })
    .nullable()
    .optional(),
});
export type LinuxPlan = z.infer<typeof LinuxPlan>;

/**
 * Windows: the launcher creates the script inside the host's job (native/win32). The host owns the job, so
 * the tree dies with the host (kill on job close) and the host reads the job's completion port.
 */
export const Win32Plan = z.object({
  platform: z.literal('win32'),
  runId: z.string(),
  /** lpApplicationName: absolute path of the program (cmd.exe for a batch file). */
  application: z.string().min(1),
  /** lpCommandLine, quoted for the program (native/win32/command-line.ts). */
  commandLine: z.string().min(1),
  env: z.record(z.string(), z.string()),
  cwd: z.string().min(1),
  /** The host's job handle, which the launcher duplicates out of the host process; null in disabled mode. */
  job: z.object({ hostPid: z.number().int(), handle: z.string().regex(/^\d+$/) }).nullable(),
  /** Fail closed when the script cannot be put into the job (enforce and warn). */
  requireJob: z.boolean(),
  /**
   * File confinement (native/win32/restricted-token.ts): the script runs under a write-restricted token whose
   * restricting SID is this run's SID; the host granted that SID write on the workspace and temp (journaled).
   * null: the script gets the launcher's own token.
   */
  restrictedToken: z.object({ sid: z.string().regex(/^S-1-\d+(-\d+)+$/) }).nullable().optional(),
  /** No mount namespaces on Windows (the runner reads this field of every plan). */
  namespaces: z.null(),
});
export type Win32Plan = z.infer<typeof Win32Plan>;

/** macOS (native/darwin): the Seatbelt profile text and Darwin's rlimits. */
export const DarwinPlan = z.object({
  platform: z.literal('darwin'),
  runId: z.string(),
  ...PosixExec,
  /** SBPL text applied by /usr/bin/sandbox-exec; null = no Seatbelt (disabled or warn mode). */
  seatbelt: z.string().min(1).nullable(),
  /** No mount namespaces on macOS (the runner reads this field of every plan). */
  namespaces: z.null(),
});
export type DarwinPlan = z.infer<typeof DarwinPlan>;

export const Plan = z.discriminatedUnion('platform', [LinuxPlan, Win32Plan, DarwinPlan]);
export type Plan = z.infer<typeof Plan>;
