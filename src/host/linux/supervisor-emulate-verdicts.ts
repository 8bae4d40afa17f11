// The emulation's verdicts (supervisor-emulate.ts): in enforce the policy's meaning decides what the
// supervisor performs; in warn mode only the integrity set the kernel keeps, and the policy's verdicts are
// reported, not enforced.
import { decidePath, grantsAllow, isUnder, protectedPaths } from '../../policy';
import { modelAllows } from '../../policy/grants-allow';
import type { FsModel } from '../../policy/fs-model-types';
import type { GlobMatcher } from '../../policy/glob-match';
import { decideFile, type Verdict } from './supervisor-decide';
import type { SupervisedRun } from './supervisor-protocol';

/** A name as the target wrote it, absolute (for messages), and physical (every link resolved as the kernel would). */
export interface EmulatedName {
  written: string;
  abs: string;
  resolved: string;
}

/**
 * Warn mode: the emulation's run (`r`) is the run as its kernel rules stand (supervisor-emulate.ts
 * kernelView); `policyRun` is the run itself, whose verdicts are reported, not enforced, and `kernel` the
 * integrity model the kernel applies, the only refusal.
 */
export interface WarnSide {
  policyRun: SupervisedRun;
  kernel: FsModel;
  report(v: Verdict): void;
}

/**
 * The policy's meaning, not the carved rules: inside a write grant as written, outside every protected and
 * hidden path (they are the grants' exceptions), and allowed by decidePath. `moves`: removing or renaming it
 * must not move a protected path inside it either. null = allowed.
 */
export function policyVerdict(r: SupervisedRun, call: string, e: EmulatedName, moves: boolean, access: 'read' | 'write', globs?: GlobMatcher): Verdict | null {
  const prot = r.protected ?? protectedPaths(r.policy);
  const d = decidePath(r.policy, e.resolved, access, { tmpDir: r.tmpDir, protected: prot, globs });
  const containsProtected = moves && prot.some((pp) => !pp.write && pp.abs !== e.resolved && isUnder(pp.abs, e.resolved));
  if (grantsAllow(r.grants, e.resolved, access, true) && d.allowed && !containsProtected) return null;
  return (
    decideFile(r, e.written, e.abs, e.resolved, access, moves) ?? {
      kind: 'file',
      severity: 'error',
      rule: 'outside-granted-paths',
      what: `${call} of ${e.written}`,
      why: `${e.resolved} is outside what profile ${r.policy.profile} grants for ${access}`,
      path: e.written,
      resolvedPath: e.resolved,
    }
  );
}

/**
 * Whether warn mode's kernel lets `access` happen at `p` (its grants and, in the namespace tier, its mounts:
 * the supervisor performs in the host's view, where a read-only bind is not), and, for a move, whether no
 * path the kernel keeps lies inside it.
 */
export function integrityAllows(kernel: FsModel, p: string, access: 'read' | 'write', moves: boolean): boolean {
  if (!modelAllows(kernel, p, access, true)) return false;
  if (!moves) return true;
  const kept = [...kernel.protectedInWritable.map((x) => x.path), ...kernel.hidden.map((h) => h.path)];
  return !kept.some((k) => k !== p && isUnder(k, p));
}

export function integrityVerdict(call: string, e: EmulatedName): Verdict {
  return { kind: 'file', severity: 'critical', rule: 'integrity', what: `${call} of ${e.written}`, why: `${e.resolved} is in the integrity set, which warn mode keeps too`, path: e.written, resolvedPath: e.resolved };
}
