// The compiled, per-OS plan: what the launcher applies just before exec. Plain JSON so it can cross the
// fd-3 pipe; nothing in here is a decision any more, only mechanism input.

export type LandlockAccess =
  | 'execute'
  | 'write_file'
  | 'read_file'
  | 'read_dir'
  | 'remove_dir'
  | 'remove_file'
  | 'make_char'
  | 'make_dir'
  | 'make_reg'
  | 'make_sock'
  | 'make_fifo'
  | 'make_block'
  | 'make_sym'
  | 'refer'
  | 'truncate'
  | 'ioctl_dev';

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
   * carve-out is replaced at apply time by rules on the ancestor's other children, down to the carve-out.
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
}

export type Plan = LinuxPlan;
