// The filter description language: what a rule means, independent of how it is compiled. A FilterSpec is
// plain data, so it can be built by the profile, inspected by tests, and compiled for either arch.
import { MAX_ERRNO, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_LOG, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF } from './arch';
import type { SeccompArch } from './arch';

export type SeccompAction =
  | { kind: 'allow' }
  | { kind: 'errno'; errno: number }
  | { kind: 'kill' }
  | { kind: 'trap' }
  | { kind: 'notify' }
  | { kind: 'log' };

export type ArgIndex = 0 | 1 | 2 | 3 | 4 | 5;

export type ArgOp =
  | 'eq' //          v == value
  | 'ne' //          v != value
  | 'masked-any' //  (v & mask) != 0
  | 'masked-eq' //   (v & mask) == value
  | 'gt' //          v >  value (unsigned)
  | 'ge' //          v >= value (unsigned)
  | 'lt' //          v <  value (unsigned)
  | 'le'; //         v <= value (unsigned)

export interface ArgCondition {
  arg: ArgIndex;
  op: ArgOp;
  /** Ignored by 'masked-any'. Negative numbers are taken as two's complement at `width` bits. */
  value: bigint | number;
  /** Required by the masked ops, refused by the others. */
  mask?: bigint | number;
  /**
   * 32 = compare the low word only: the kernel truncates int/unsigned int arguments, so a 64-bit check on
   * them is bypassable by setting high bits the kernel then ignores. 64 = the whole register.
   */
  width: 32 | 64;
}

export interface SeccompRule {
  syscall: string;
  action: SeccompAction;
  /** All must hold. Absent or empty: the rule matches every call of `syscall`. */
  when?: ArgCondition[];
  /** Short human text, e.g. 'ptrace: inspect or control other processes'. */
  reason: string;
}

export interface FilterSpec {
  arch: SeccompArch;
  defaultAction: SeccompAction;
  /** First match wins, per syscall, in order. Rules naming a syscall the arch lacks are skipped. */
  rules: SeccompRule[];
}

/** struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const ALLOW: SeccompAction = Object.freeze({ kind: 'allow' });
export const KILL: SeccompAction = Object.freeze({ kind: 'kill' });
export const NOTIFY: SeccompAction = Object.freeze({ kind: 'notify' });

export function errno(n: number): SeccompAction {
  return { kind: 'errno', errno: n };
}

/** The 32-bit SECCOMP_RET_* value an action compiles to. Throws on an errno the kernel would clamp. */
export function actionToReturn(action: SeccompAction): number {
  switch (action.kind) {
    case 'allow':
      return SECCOMP_RET_ALLOW;
    case 'errno':
      if (!Number.isInteger(action.errno) || action.errno < 0 || action.errno > MAX_ERRNO) {
        throw new Error(`errno ${action.errno} is outside 0..${MAX_ERRNO}`);
      }
      return (SECCOMP_RET_ERRNO | action.errno) >>> 0;
    case 'kill':
      return SECCOMP_RET_KILL_PROCESS;
    case 'trap':
      return SECCOMP_RET_TRAP;
    case 'notify':
      return SECCOMP_RET_USER_NOTIF;
    case 'log':
      return SECCOMP_RET_LOG;
    default:
      throw new Error(`unknown seccomp action ${JSON.stringify(action)}`);
  }
}

export function rule(syscall: string, action: SeccompAction, reason: string, when?: ArgCondition[]): SeccompRule {
  return when && when.length ? { syscall, action, reason, when } : { syscall, action, reason };
}

export interface ArgBuilder {
  eq(value: bigint | number): ArgCondition;
  ne(value: bigint | number): ArgCondition;
  gt(value: bigint | number): ArgCondition;
  ge(value: bigint | number): ArgCondition;
  lt(value: bigint | number): ArgCondition;
  le(value: bigint | number): ArgCondition;
  maskedAny(mask: bigint | number): ArgCondition;
  maskedEq(mask: bigint | number, value: bigint | number): ArgCondition;
}

function argBuilder(arg: ArgIndex, width: 32 | 64): ArgBuilder {
  const c = (op: ArgOp, value: bigint | number): ArgCondition => ({ arg, op, value, width });
  return {
    eq: (v) => c('eq', v),
    ne: (v) => c('ne', v),
    gt: (v) => c('gt', v),
    ge: (v) => c('ge', v),
    lt: (v) => c('lt', v),
    le: (v) => c('le', v),
    maskedAny: (mask) => ({ arg, op: 'masked-any', value: 0, mask, width }),
    maskedEq: (mask, value) => ({ arg, op: 'masked-eq', value, mask, width }),
  };
}

/** Conditions on the low 32 bits of an argument (int, unsigned int, and anything the kernel truncates). */
export function arg32(i: ArgIndex): ArgBuilder {
  return argBuilder(i, 32);
}

/** Conditions on the full 64-bit argument (pointers, unsigned long, u64). */
export function arg64(i: ArgIndex): ArgBuilder {
  return argBuilder(i, 64);
}

/** A condition with its operands normalised to unsigned bigints of its width, after validation. */
export interface NormalizedCondition {
  arg: ArgIndex;
  op: ArgOp;
  width: 32 | 64;
  value: bigint;
  mask: bigint;
}

function toUnsigned(v: bigint | number, width: 32 | 64, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error(`${what} ${v} is not a safe integer; use a bigint`);
  const b = BigInt(v);
  const min = -(1n << BigInt(width - 1));
  const max = (1n << BigInt(width)) - 1n;
  if (b < min || b > max) throw new Error(`${what} ${v} does not fit in ${width} bits`);
  return BigInt.asUintN(width, b);
}

/**
 * Validates a condition and normalises its operands. Refuses conditions that can never hold or always hold
 * by construction (a zero mask, a masked-eq value with bits outside the mask): those are spec bugs, and a
 * security rule that silently never matches is worse than an error.
 */
export function normalizeCondition(c: ArgCondition): NormalizedCondition {
  if (!Number.isInteger(c.arg) || c.arg < 0 || c.arg > 5) throw new Error(`argument index ${String(c.arg)} is not 0..5`);
  if (c.width !== 32 && c.width !== 64) throw new Error(`width ${String(c.width)} is not 32 or 64`);
  const masked = c.op === 'masked-any' || c.op === 'masked-eq';
  const known: ArgOp[] = ['eq', 'ne', 'masked-any', 'masked-eq', 'gt', 'ge', 'lt', 'le'];
  if (!known.includes(c.op)) throw new Error(`unknown condition op ${String(c.op)}`);
  if (masked && c.mask === undefined) throw new Error(`${c.op} needs a mask`);
  if (!masked && c.mask !== undefined) throw new Error(`${c.op} takes no mask`);
  const mask = masked ? toUnsigned(c.mask as bigint | number, c.width, 'mask') : (1n << BigInt(c.width)) - 1n;
  const value = c.op === 'masked-any' ? 0n : toUnsigned(c.value, c.width, 'value');
  if (masked && mask === 0n) throw new Error(`${c.op} with a zero mask never matches`);
  if (c.op === 'masked-eq' && (value & ~mask) !== 0n) throw new Error(`masked-eq value 0x${value.toString(16)} has bits outside mask 0x${mask.toString(16)}`);
  return { arg: c.arg, op: c.op, width: c.width, value, mask };
}

/** Whether a normalised condition holds for a 64-bit argument value: the semantics the compiler must match. */
export function conditionHolds(c: NormalizedCondition, arg: bigint): boolean {
  const v = BigInt.asUintN(c.width, arg);
  switch (c.op) {
    case 'eq':
      return v === c.value;
    case 'ne':
      return v !== c.value;
    case 'masked-any':
      return (v & c.mask) !== 0n;
    case 'masked-eq':
      return (v & c.mask) === c.value;
    case 'gt':
      return v > c.value;
    case 'ge':
      return v >= c.value;
    case 'lt':
      return v < c.value;
    case 'le':
      return v <= c.value;
  }
}

/** Classic BPF opcode fields (include/uapi/linux/filter.h, bpf_common.h). */
export const BPF = Object.freeze({
  // classes
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  MISC: 0x07,
  // ld/ldx sizes
  W: 0x00,
  H: 0x08,
  B: 0x10,
  // ld/ldx modes
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  LEN: 0x80,
  MSH: 0xa0,
  // alu ops
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  // jmp ops
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  // sources
  K: 0x00,
  X: 0x08,
  // ret sources
  A: 0x10,
  // misc ops
  TAX: 0x00,
  TXA: 0x80,
});

/** BPF_MAXINSNS: the kernel refuses longer classic programs. */
export const BPF_MAXINSNS = 4096;
/** BPF_MEMWORDS: scratch memory cells M[0..15]. */
export const BPF_MEMWORDS = 16;
