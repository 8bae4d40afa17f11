// Resource limits (setrlimit). Applied in the launcher before exec; inherited by the script and its children.
import { SandboxError } from '../../src/errors';
import type { RlimitResource, RlimitSpec } from '../../src/protocol/plan';
import { RLIM_INFINITY, type Libc, type Rlimit } from './libc';

/** RLIMIT_* numbers; identical on x86_64 and aarch64 (asm-generic/resource.h). */
export const RLIMIT_RESOURCE: Readonly<Record<RlimitResource, number>> = {
  cpu: 0,
  fsize: 1,
  core: 4,
  nproc: 6,
  nofile: 7,
  as: 9,
};

function toRlim(v: number): bigint {
  if (v === -1) return RLIM_INFINITY;
  if (!Number.isSafeInteger(v) || v < 0) throw new SandboxError('PROTOCOL_INVALID', `rlimit value ${v} is not a non-negative integer or -1`);
  return BigInt(v);
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * What setrlimit will be given: the hard limit is clamped to the current hard limit (only a privileged
 * process could raise it, and a sandbox never should), and the soft limit to the new hard limit. Pure.
 */
export function clampRlimit(spec: RlimitSpec, current: Rlimit): Rlimit {
  const hard = min(toRlim(spec.hard), current.hard);
  const soft = min(toRlim(spec.soft), hard);
  return { soft, hard };
}

export interface AppliedRlimit {
  resource: RlimitResource;
  soft: bigint;
  hard: bigint;
  /** True when the request asked for more than the current hard limit allowed. */
  clamped: boolean;
}

/** Applies each limit in order; throws SandboxError (call "setrlimit"/"getrlimit", errno) on the first failure. */
export function applyRlimits(libc: Libc, specs: readonly RlimitSpec[]): AppliedRlimit[] {
  const out: AppliedRlimit[] = [];
  for (const spec of specs) {
    const resource = RLIMIT_RESOURCE[spec.resource];
    if (resource === undefined) throw new SandboxError('PROTOCOL_INVALID', `unknown rlimit resource "${spec.resource}"`);
    const current = libc.getrlimit(resource);
    const next = clampRlimit(spec, current);
    libc.setrlimit(resource, next);
    out.push({ resource: spec.resource, ...next, clamped: next.hard !== toRlim(spec.hard) || next.soft !== toRlim(spec.soft) });
  }
  return out;
}
