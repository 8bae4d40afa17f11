// What every OS backend offers. native/index.ts picks one per platform; callers never branch on the OS.
import type { Plan } from '../src/protocol/plan';
import type { CapabilityReport } from '../src/protocol/capabilities';

// The capability report is a contract of src/protocol (it crosses IPC to the extension unchanged).
export type { Capability, CapabilityReport } from '../src/protocol/capabilities';

/**
 * The launcher's half of a backend: what applies a plan to this process and execs, and nothing of the host's
 * (compile, probes, cgroups). A launcher loads only its own OS's (native/index.ts loadApplier), so its start builds no
 * policy schema and runs no compiler or other OS's code.
 */
export interface Applier {
  readonly platform: string;
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
}

export interface SandboxBackend extends Applier {
  readonly supported: boolean;
  probe(): CapabilityReport;
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
  /** A close-on-exec duplicate of fd (same open file). */
  dup(fd: number): number;
  close(fd: number): void;
}

export interface ApplyHooks {
  /** Called synchronously with the seccomp listener fd right after the filter is installed, before exec. */
  onListener?(fd: number): void;
  /** Called synchronously just before execve (after every restriction is in place). */
  beforeExec?(): void;
}
