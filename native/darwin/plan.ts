// The compiled macOS plan: plain JSON for the launcher's control channel, like LinuxPlan.
import type { RlimitSpec } from '../../src/protocol/plan';

export interface DarwinPlan {
  platform: 'darwin';
  runId: string;
  /** Absolute path of the program to exec (already resolved against PATH). */
  file: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Resources by name; native/darwin/rlimit.ts maps them to Darwin's numbers (NPROC 7, NOFILE 8). */
  rlimits: RlimitSpec[];
  /** SBPL text applied by /usr/bin/sandbox-exec; null = no Seatbelt (disabled or warn mode). */
  seatbelt: string | null;
}
