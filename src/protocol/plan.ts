// The compiled, per-OS plan: what the launcher applies just before exec. Plain JSON so it can cross the
// fd-3 pipe; nothing in here is a decision any more, only mechanism input.

import type { LandlockAccess } from '../policy/fs-access';

export type { LandlockAccess };

export interface LandlockRule {
  path: string;
  access: LandlockAccess[];
}

export interface LandlockPlan {
  /** Rights the ruleset handles (denied unless a rule grants them); intersected with the kernel's ABI. */
  handled: LandlockAccess[];
  rules: LandlockRule[];
  /**
   * Paths no rule may reach through an ancestor. Landlock only grants, so a rule on an ancestor of a
   * carve-out is replaced by rules on the ancestor's other children, down to the carve-out. The host's
   * compile step does that already and sends this empty; apply expands whatever is left here the same way.
   */
  carveOuts: string[];
  /** Landlock ABI >= 6 scopes: abstract unix sockets and signals stay inside the sandbox. */
  scopes: Array<'abstract_unix_socket' | 'signal'>;
}

export type RlimitResource = 'cpu' | 'fsize' | 'nofile' | 'core' | 'as' | 'nproc';
export interface RlimitSpec {
  resource: RlimitResource;
  soft: number; // -1 = infinity
  hard: number;
}

/**
 * The run's own mount (and network, IPC) namespace, made by the launcher after the plan arrives; the user,
 * mount and PID namespaces themselves exist from the launcher's start (util-linux unshare). The three path
 * lists are applied together from the shallowest path to the deepest, so a writable entry inside a
 * read-only one (`.git/objects` inside `.git`) is given back read-write.
 */
export interface NamespacePlan {
  /** Everything outside these is read-only in the run's mount namespace. Absolute, resolved. */
  writable: string[];
  /** Inside writable areas: bound read-only over themselves (existing by the time the launcher runs). */
  readOnly: string[];
  /** Inside writable areas: covered by an empty read-only directory (the script cannot even read them). */
  hidden: string[];
  /** Inside writable areas: bound onto themselves (read-write as they were) so that the kernel refuses to rename
   *  them (EBUSY): the directories on the way to a readOnly/hidden entry and to the workspace. */
  pinned: string[];
  /** Private network namespace with only `lo` up. */
  isolateNetwork: boolean;
  /**
   * A private tmpfs over /dev/shm (present when the run may write there): what the script leaves there is
   * kept by a filesystem the run owns, at most `sizeBytes` (the memory limit; null: tmpfs's default), counted by
   * the watchdog and gone with the run's mount namespace.
   */
  privateShm?: { sizeBytes: number | null };
}

export interface LinuxPlan {
  platform: 'linux';
  runId: string;
  /** Absolute path of the program to exec (already resolved against PATH). */
  file: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  rlimits: RlimitSpec[];
  noNewPrivs: boolean;
  /** null = not applied (mode disabled). */
  landlock: LandlockPlan | null;
  /** Base64 of struct sock_filter[]; null = not applied. */
  seccomp: { program: string; listener: boolean } | null;
  /** Fail closed when the kernel lacks Landlock (enforce). In warn mode a missing mechanism is reported. */
  requireLandlock: boolean;
  /** null = fallback tier: no namespaces (protected paths are Landlock carve-outs). */
  namespaces: NamespacePlan | null;
  /** A pty slave the host made: the script's stdin/stdout/stderr and controlling terminal. Absent: none. */
  terminal?: { path: string } | null;
}

/**
 * Windows: the launcher creates the script inside the host's job (native/win32). The host owns the job, so
 * the tree dies with the host (kill on job close) and the host reads the job's completion port.
 */
export interface Win32Plan {
  platform: 'win32';
  runId: string;
  /** lpApplicationName: absolute path of the program (cmd.exe for a batch file). */
  application: string;
  /** lpCommandLine, quoted for the program (native/win32/command-line.ts). */
  commandLine: string;
  env: Record<string, string>;
  cwd: string;
  /** The host's job handle, which the launcher duplicates out of the host process; null in disabled mode. */
  job: { hostPid: number; handle: string } | null;
  /** Fail closed when the script cannot be put into the job (enforce and warn). */
  requireJob: boolean;
  /** No mount namespaces on Windows (the runner reads this field of every plan). */
  namespaces: null;
}

export type Plan = LinuxPlan | Win32Plan;
