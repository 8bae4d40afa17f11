// Test helpers: a direct reading of a FilterSpec's meaning (no BPF involved), a seeded PRNG, and shorthands.
// The compiler is checked against decideBySpec, which shares only the per-condition semantics with it.
import {
  AUDIT_ARCH,
  SECCOMP_RET_KILL_PROCESS,
  X32_SYSCALL_BIT,
  actionToReturn,
  conditionHolds,
  normalizeCondition,
  syscallNumber,
  type FilterSpec,
  type SeccompArch,
} from '../../../native/linux/seccomp';

export interface Call {
  nr: number;
  arch: number;
  args?: (bigint | number)[];
}

/** What `spec` means for one call: arch and x32 checks, then the first matching rule, else the default. */
export function decideBySpec(spec: FilterSpec, call: Call): number {
  if (call.arch !== AUDIT_ARCH[spec.arch]) return SECCOMP_RET_KILL_PROCESS;
  const nr = call.nr >>> 0;
  if (spec.arch === 'x86_64' && nr >= X32_SYSCALL_BIT && nr !== 0xffffffff) return SECCOMP_RET_KILL_PROCESS;
  for (const r of spec.rules) {
    if (syscallNumber(spec.arch, r.syscall) !== nr) continue;
    const holds = (r.when ?? []).every((c) => conditionHolds(normalizeCondition(c), BigInt.asUintN(64, BigInt(call.args?.[c.arg] ?? 0))));
    if (holds) return actionToReturn(r.action);
  }
  return actionToReturn(spec.defaultAction);
}

/** mulberry32: deterministic, so a failing case can be replayed from its seed. */
export function prng(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T; u32(): number; u64(): bigint; chance(p: number): boolean } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    int: (n: number): number => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    u32: (): number => Math.floor(next() * 4294967296) >>> 0,
    u64: (): bigint => (BigInt(r.u32()) << 32n) | BigInt(r.u32()),
    chance: (p: number): boolean => next() < p,
  };
  return r;
}

export const ARCHES: readonly SeccompArch[] = ['x86_64', 'aarch64'];
