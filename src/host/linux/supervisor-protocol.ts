// Messages between the supervisor (main thread) and its worker. Both sides are ours and in one process,
// so these are plain types; what crosses from the sandboxed process is validated where it is read.
import type { ResolvedPolicy } from '../../policy/schema';
import type { RunReactions } from '../../protocol/run-reactions';
import type { Violation } from '../../policy/violation';
import type { FsModel, Grant, ProtectedPath } from '../../policy/fs-model-types';

export interface SupervisedRun {
  runId: string;
  /** Our copy of the run's seccomp listener. */
  listener: number;
  /** A call outside the policy: refused (enforce) or let through and reported (warn); see protocol/run-reactions.ts. */
  violation: RunReactions['violation'];
  policy: ResolvedPolicy;
  /** What Landlock grants this run (or would, in warn mode): file decisions mirror the kernel's. */
  grants: Grant[];
  /** The run's protected set from the same filesystem model (git metadata, audit folder, unprotect applied);
   *  absent: the policy's own list. */
  protected?: ProtectedPath[];
  /** 'fallback': no private mount namespace, protected paths are Landlock carve-outs and the supervisor
   *  performs calls on carved directories itself (supervisor-emulate.ts). Absent: no emulation. */
  fileTier?: 'fallback' | 'namespaces';
  /** Warn mode: what the kernel applies, the integrity set's model (`grants` above says what enforce would
   *  do). Where its rules carve a folder, the emulation performs warn mode's calls against it. */
  kernel?: FsModel;
  /** Address → host name, from resolving the policy's host lists and /etc/hosts. */
  hostNames: Record<string, string>;
  /** Addresses of the allowed host names (strict/api-only presets). */
  allowedAddresses: string[];
  /** This machine's own interface addresses at run start: connecting to them is connecting to local services. */
  localAddresses: string[];
  /** The system's DNS resolvers: port 53 on these is allowed so names can be resolved at all. */
  resolvers: string[];
  /** The run's private temp dir (always writable). */
  tmpDir: string;
  /** Syscalls the policy denies by name: they are denials even when they are also monitored calls. */
  denied: string[];
  /** The links on the deny globs' ways before the run (src/host/deny-glob-links.ts): where one leads is kept
   *  by the globs added at its target, so it may not move to another place on a way. */
  globLinks?: string[];
}

export type SupervisorControl =
  | { type: 'add'; run: SupervisedRun }
  | { type: 'remove'; runId: string }
  | { type: 'stop' };

export type SupervisorEvent =
  | { type: 'violation'; violation: Violation }
  | { type: 'hup'; runId: string }
  | { type: 'error'; runId: string; message: string };
