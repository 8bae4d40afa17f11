// A model of how the kernel runs a classic seccomp-bpf program, so unit tests can check the compiler without
// a kernel (the kernel's check of a program before it runs is ./verify.ts). The interpreter mirrors the
// classic→eBPF conversion's semantics (32-bit A and X starting at 0, unsigned compares, shifts by X masked to
// 5 bits, division by X == 0 ending the program with 0).
import {
  MAX_ERRNO,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_SIZE,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
} from './arch';
import { BPF, BPF_MEMWORDS, type SockFilter } from './dsl';
import { BpfVerifyError, OP, checkFields, isCondJump, verifyFilter } from './verify';

export interface SeccompDataInput {
  /** The syscall number as the kernel sees it (int; -1 and 0xffffffff are the same value). */
  nr: number;
  /** AUDIT_ARCH_* of the calling ABI. */
  arch: number;
  ip?: bigint;
  /** Up to six arguments; numbers and bigints are taken modulo 2^64 (so -1 is all ones). */
  args?: (bigint | number)[];
}

/** The 64-byte struct seccomp_data the kernel hands the filter (little-endian on both supported arches). */
export function encodeSeccompData(d: SeccompDataInput): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA_SIZE);
  if (!Number.isInteger(d.nr) || d.nr < -0x80000000 || d.nr > 0xffffffff) throw new Error(`nr ${d.nr} is not a 32-bit integer`);
  if (!Number.isInteger(d.arch) || d.arch < 0 || d.arch > 0xffffffff) throw new Error(`arch ${d.arch} is not a 32-bit unsigned integer`);
  const args = d.args ?? [];
  if (args.length > 6) throw new Error(`${args.length} arguments; seccomp_data has 6`);
  buf.writeUInt32LE(d.nr >>> 0, 0);
  buf.writeUInt32LE(d.arch, 4);
  buf.writeBigUInt64LE(BigInt.asUintN(64, d.ip ?? 0n), 8);
  args.forEach((a, i) => {
    if (typeof a === 'number' && !Number.isSafeInteger(a)) throw new Error(`argument ${i} (${a}) is not a safe integer; use a bigint`);
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), SECCOMP_DATA_ARGS + 8 * i);
  });
  return buf;
}

function runOn(prog: SockFilter[], data: Buffer): number {
  let A = 0;
  let X = 0;
  const M = new Uint32Array(BPF_MEMWORDS);
  const flen = prog.length;
  let pc = 0;
  // Jumps only go forward, so the loop runs at most flen times.
  while (pc < flen) {
    const { code, jt, jf, k } = prog[pc]!;
    pc++;
    switch (code) {
      case OP.LD_W_ABS:
        if (k >= SECCOMP_DATA_SIZE || k & 3) throw new BpfVerifyError(`load of seccomp_data[${k}]`, pc - 1);
        A = data.readUInt32LE(k);
        continue;
      case OP.LD_W_LEN:
        A = SECCOMP_DATA_SIZE;
        continue;
      case OP.LDX_W_LEN:
        X = SECCOMP_DATA_SIZE;
        continue;
      case OP.LD_IMM:
        A = k;
        continue;
      case OP.LDX_IMM:
        X = k;
        continue;
      case OP.LD_MEM:
        A = M[k]!;
        continue;
      case OP.LDX_MEM:
        X = M[k]!;
        continue;
      case OP.ST:
        M[k] = A;
        continue;
      case OP.STX:
        M[k] = X;
        continue;
      case OP.TAX:
        X = A;
        continue;
      case OP.TXA:
        A = X;
        continue;
      case OP.RET_K:
        return k >>> 0;
      case OP.RET_A:
        return A >>> 0;
      case OP.NEG:
        A = -A >>> 0;
        continue;
      case OP.JA:
        pc += k;
        continue;
    }
    const cls = code & 0x07;
    const src = code & BPF.X ? X : k;
    if (cls === BPF.ALU) {
      switch (code & 0xf0) {
        case BPF.ADD:
          A = (A + src) >>> 0;
          break;
        case BPF.SUB:
          A = (A - src) >>> 0;
          break;
        case BPF.MUL:
          A = Math.imul(A, src) >>> 0;
          break;
        case BPF.DIV:
          if (src === 0) return 0; // classic semantics: the program ends with 0 (SECCOMP_RET_KILL_THREAD)
          A = Math.floor(A / src) >>> 0;
          break;
        case BPF.MOD:
          if (src === 0) return 0;
          A = A % src >>> 0;
          break;
        case BPF.OR:
          A = (A | src) >>> 0;
          break;
        case BPF.AND:
          A = (A & src) >>> 0;
          break;
        case BPF.XOR:
          A = (A ^ src) >>> 0;
          break;
        case BPF.LSH:
          A = (A << (src & 31)) >>> 0;
          break;
        case BPF.RSH:
          A = A >>> (src & 31);
          break;
        default:
          throw new BpfVerifyError(`unknown ALU opcode 0x${code.toString(16)}`, pc - 1);
      }
      continue;
    }
    if (cls === BPF.JMP && isCondJump(code)) {
      let taken: boolean;
      switch (code & 0xf0) {
        case BPF.JEQ:
          taken = A === src;
          break;
        case BPF.JGT:
          taken = A > src;
          break;
        case BPF.JGE:
          taken = A >= src;
          break;
        default:
          taken = (A & src) !== 0;
          break;
      }
      pc += taken ? jt : jf;
      continue;
    }
    throw new BpfVerifyError(`opcode 0x${code.toString(16)} cannot run in a seccomp filter`, pc - 1);
  }
  throw new BpfVerifyError('ran past the end of the program', null);
}

export interface EvaluateOptions {
  /** Check the program like the kernel does before running it (default true). */
  verify?: boolean;
}

/** Verifies `prog` once and returns a function that runs it on seccomp_data: for many evaluations. */
export function createEvaluator(prog: SockFilter[], opts: EvaluateOptions = {}): (data: SeccompDataInput) => number {
  if (opts.verify !== false) verifyFilter(prog);
  else checkFields(prog);
  const copy = prog.map((i) => ({ ...i }));
  return (data) => runOn(copy, encodeSeccompData(data));
}

/** The SECCOMP_RET_* value `prog` returns for one syscall. Throws BpfVerifyError for a program the kernel refuses. */
export function evaluateFilter(prog: SockFilter[], data: SeccompDataInput, opts: EvaluateOptions = {}): number {
  return createEvaluator(prog, opts)(data);
}

export type ReturnAction =
  | { action: 'kill_process' }
  | { action: 'kill_thread' }
  | { action: 'trap'; data: number }
  | { action: 'errno'; errno: number }
  | { action: 'notify' }
  | { action: 'trace'; data: number }
  | { action: 'log' }
  | { action: 'allow' };

/**
 * What the kernel does with a filter's return value. Unknown actions are treated as KILL_PROCESS and errno
 * data above MAX_ERRNO is clamped, as in __seccomp_filter().
 */
export function actionOf(ret: number): ReturnAction {
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = ret & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET_KILL_THREAD:
      return { action: 'kill_thread' };
    case SECCOMP_RET_TRAP:
      return { action: 'trap', data };
    case SECCOMP_RET_ERRNO:
      return { action: 'errno', errno: Math.min(data, MAX_ERRNO) };
    case SECCOMP_RET_USER_NOTIF:
      return { action: 'notify' };
    case SECCOMP_RET_TRACE:
      return { action: 'trace', data };
    case SECCOMP_RET_LOG:
      return { action: 'log' };
    case SECCOMP_RET_ALLOW:
      return { action: 'allow' };
    default:
      return { action: 'kill_process' };
  }
}

/** A short human form of a return value, e.g. "ERRNO(1)", "ALLOW", "KILL_PROCESS". */
export function describeReturn(ret: number): string {
  const a = actionOf(ret);
  const known = [SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO, SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW];
  const actionBits = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  switch (a.action) {
    case 'errno':
      return `ERRNO(${a.errno})`;
    case 'trap':
      return `TRAP(${a.data})`;
    case 'trace':
      return `TRACE(${a.data})`;
    case 'kill_process':
      return known.includes(actionBits) ? 'KILL_PROCESS' : `KILL_PROCESS (unknown action 0x${actionBits.toString(16)})`;
    default:
      return a.action === 'notify' ? 'USER_NOTIF' : a.action.toUpperCase();
  }
}
