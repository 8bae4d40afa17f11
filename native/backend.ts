// What every OS backend offers. native/index.ts picks one per platform; callers never branch on the OS.
import type { Plan } from '../src/protocol/plan';

export interface Capability {
  /** Stable key, e.g. "landlock", "seccomp", "seccomp_user_notif", "cgroup", "user_namespaces". */
  name: string;
  available: boolean;
  /** One line: "ABI 7", "cgroup v1 (pids, memory) writable", "not compiled into this kernel". */
  detail: string;
  /** Needed for enforce mode to be possible at all. */
  requiredForEnforce: boolean;
  /** How to get it when missing. */
  fix?: string;
}

export interface CapabilityReport {
  platform: string;
  arch: string;
  kernel: string;
  capabilities: Capability[];
  /** Where memory/process-count limits are enforced: "cgroup v2", "cgroup v1", "watchdog" or a Windows "job object". */
  treeLimits: 'cgroup v2' | 'cgroup v1' | 'watchdog' | 'job object' | 'none';
  enforcePossible: boolean;
}

export interface SandboxBackend {
  readonly platform: string;
  readonly supported: boolean;
  probe(): CapabilityReport;
  /**
   * Launcher side, the one-way step: apply the plan to this process and exec. Never returns: on failure it
   * throws a SandboxError (code, failing call, errno) and the script has not run.
   */
  applyAndExec(plan: Plan, hooks?: ApplyHooks): never;
  /**
   * Launcher side, before the plan arrives (a pooled launcher waits with it done): load what applyAndExec
   * needs whatever the plan says (libc bindings), so a run does not pay for it. Optional.
   */
  prepare?(): void;
  /** Pseudo-terminals for runs; absent where a run cannot have one. */
  readonly ptys?: PtyCalls;
}

export interface TerminalSize {
  rows: number;
  cols: number;
}

export interface PtyCalls {
  /** A new pty pair with the window size set: the master (close-on-exec, non-blocking) and the slave's path. */
  open(size: TerminalSize): { master: number; slave: string };
  /** Window size on the master: the slave's foreground process group gets SIGWINCH. */
  resize(master: number, size: TerminalSize): void;
  size(fd: number): TerminalSize;
  /** Launcher side, as the leader of a session without a terminal: the slave as controlling terminal and fds 0-2. */
  attach(slave: string): void;
  close(fd: number): void;
}

export interface ApplyHooks {
  /** Called synchronously with the seccomp listener fd right after the filter is installed, before exec. */
  onListener?(fd: number): void;
  /** Called synchronously just before execve (after every restriction is in place). */
  beforeExec?(): void;
}
