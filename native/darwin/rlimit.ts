// Resource limits on Darwin: the numbers differ from Linux (apple-oss-distributions/xnu:bsd/sys/resource.h,
// PLATFORMS.md §2.4), and so does what the kernel accepts. Pure apart from applyDarwinRlimits.
import { SandboxError } from '../../src/errors';
import type { RlimitResource, RlimitSpec } from '../../src/protocol/plan';

/** RLIMIT_* on Darwin. RSS is an alias of AS (5); NPROC and NOFILE are 7 and 8 (Linux: 6 and 7). */
export const DARWIN_RLIMIT = Object.freeze({
  CPU: 0,
  FSIZE: 1,
  DATA: 2,
  STACK: 3,
  CORE: 4,
  AS: 5,
  RSS: 5,
  MEMLOCK: 6,
  NPROC: 7,
  NOFILE: 8,
});

/** RLIM_INFINITY on Darwin: 2^63 - 1 (Linux: ~0). */
export const DARWIN_RLIM_INFINITY = (1n << 63n) - 1n;
/** OPEN_MAX from <sys/syslimits.h>: the soft NOFILE limit may not be infinite (setrlimit(2) on macOS). */
export const DARWIN_OPEN_MAX = 10240n;

/**
 * The plan's resources that Darwin enforces, by number. `as` is left out: since macOS 12 setrlimit(AS)
 * answers EINVAL and it was never enforced (PLATFORMS.md §2.4); `nproc` counts every process of the user,
 * so a tree limit would fail at once: the watchdog holds both.
 */
export const DARWIN_RESOURCE: Readonly<Partial<Record<RlimitResource, number>>> = Object.freeze({
  cpu: DARWIN_RLIMIT.CPU,
  fsize: DARWIN_RLIMIT.FSIZE,
  core: DARWIN_RLIMIT.CORE,
  nofile: DARWIN_RLIMIT.NOFILE,
});

export interface DarwinRlimit {
  soft: bigint;
  hard: bigint;
}

function toRlim(v: number): bigint {
  if (v === -1) return DARWIN_RLIM_INFINITY;
  if (!Number.isSafeInteger(v) || v < 0) throw new SandboxError('PROTOCOL_INVALID', `rlimit value ${v} is not a non-negative integer or -1`);
  return BigInt(v);
}
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** Hard clamped to the current hard limit, soft to the new hard; NOFILE's soft also to OPEN_MAX. Pure. */
export function clampDarwinRlimit(spec: RlimitSpec, current: DarwinRlimit): DarwinRlimit {
  const hard = min(toRlim(spec.hard), current.hard);
  let soft = min(toRlim(spec.soft), hard);
  if (spec.resource === 'nofile') soft = min(soft, DARWIN_OPEN_MAX);
  return { soft, hard };
}

/** Which plan entries Darwin cannot apply (they are the watchdog's), for the capability report. */
export function unsupportedDarwinResources(specs: readonly RlimitSpec[]): RlimitResource[] {
  return specs.map((s) => s.resource).filter((r) => DARWIN_RESOURCE[r] === undefined);
}

export interface RlimitCalls {
  getrlimit(resource: number): DarwinRlimit;
  setrlimit(resource: number, limit: DarwinRlimit): void;
}

/** Applies each supported limit in order; an unsupported one is skipped (the host's watchdog holds it). */
export function applyDarwinRlimits(calls: RlimitCalls, specs: readonly RlimitSpec[]): void {
  for (const spec of specs) {
    const nr = DARWIN_RESOURCE[spec.resource];
    if (nr === undefined) continue;
    calls.setrlimit(nr, clampDarwinRlimit(spec, calls.getrlimit(nr)));
  }
}
