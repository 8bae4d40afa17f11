// What git-scripts need from whoever hosts them: "run this command in the sandbox". The host and the CLI
// hand in an implementation (src/host/git-sandbox.ts), so this folder never imports the host.
import type { AuditLog } from '../audit';
import type { ResolvedPolicy } from '../policy/schema';
import type { Violation } from '../policy/violation';

export interface SandboxCommand {
  command: string[];
  cwd: string;
  policy: ResolvedPolicy;
  env: Record<string, string>;
  /** Record the run in this audit log, under `recordedPolicy` (the policy the caller asked for). */
  audit?: { log: AuditLog; recordedPolicy: ResolvedPolicy };
}

export interface SandboxedRun {
  on(event: 'stdout' | 'stderr', listener: (chunk: Buffer) => void): unknown;
  on(event: 'violation', listener: (v: Violation) => void): unknown;
  wait(): Promise<{ exitCode: number; setupError: { message: string } | null }>;
  /** Kills the command's whole process tree; wait() then resolves. */
  cancel?(): void;
}

export interface SandboxRunner {
  /** Starts the command with stdin closed; the sandbox, its limits and its events are the runner's. */
  run(c: SandboxCommand): SandboxedRun;
}
