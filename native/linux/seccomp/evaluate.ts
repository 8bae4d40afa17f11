// A model of how the kernel checks and runs a classic seccomp-bpf program, so unit tests can check the
// compiler without a kernel. The verifier mirrors bpf_check_classic() (net/core/filter.c) followed by
// seccomp_check_filter() (kernel/seccomp.c); the interpreter mirrors the classic→eBPF conversion's semantics
// (32-bit A and X starting at 0, unsigned compares, shifts by X masked to 5 bits, division by X == 0 ending
// the program with 0).
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
import { BPF, BPF_MAXINSNS, BPF_MEMWORDS, type SockFilter } from './dsl';

const OP = Object.freeze({
  LD_W_ABS: BPF.LD | BPF.W | BPF.ABS,
  LD_H_ABS: BPF.LD | BPF.H | BPF.ABS,
  LD_B_ABS: BPF.LD | BPF.B | BPF.ABS,
  LD_W_IND: BPF.LD | BPF.W | BPF.IND,
  LD_H_IND: BPF.LD | BPF.H | BPF.IND,
  LD_B_IND: BPF.LD | BPF.B | BPF.IND,
  LD_W_LEN: BPF.LD | BPF.W | BPF.LEN,
  LD_IMM: BPF.LD | BPF.IMM,
  LD_MEM: BPF.LD | BPF.MEM,
  LDX_W_LEN: BPF.LDX | BPF.W | BPF.LEN,
  LDX_B_MSH: BPF.LDX | BPF.B | BPF.MSH,
  LDX_IMM: BPF.LDX | BPF.IMM,
  LDX_MEM: BPF.LDX | BPF.MEM,
  ST: BPF.ST,
  STX: BPF.STX,
  TAX: BPF.MISC | BPF.TAX,
  TXA: BPF.MISC | BPF.TXA,
  RET_K: BPF.RET | BPF.K,
  RET_A: BPF.RET | BPF.A,
  JA: BPF.JMP | BPF.JA,
  NEG: BPF.ALU | BPF.NEG,
} as const);

const ALU_OPS: readonly number[] = Object.freeze([BPF.ADD, BPF.SUB, BPF.MUL, BPF.DIV, BPF.OR, BPF.AND, BPF.LSH, BPF.RSH, BPF.MOD, BPF.XOR]);
const JCOND_OPS: readonly number[] = Object.freeze([BPF.JEQ, BPF.JGT, BPF.JGE, BPF.JSET]);

function isCondJump(code: number): boolean {
  return (code & 0x07) === BPF.JMP && JCOND_OPS.includes(code & 0xf0) && (code & ~0xf8) === BPF.JMP;
}

/** chk_code_allowed(): the classic opcodes the socket-filter checker knows at all. */
function classicCodeAllowed(code: number): boolean {
  switch (code) {
    case OP.LD_W_ABS:
    case OP.LD_H_ABS:
    case OP.LD_B_ABS:
    case OP.LD_W_IND:
    case OP.LD_H_IND:
    case OP.LD_B_IND:
    case OP.LD_W_LEN:
    case OP.LD_IMM:
    case OP.LD_MEM:
    case OP.LDX_W_LEN:
    case OP.LDX_B_MSH:
    case OP.LDX_IMM:
    case OP.LDX_MEM:
    case OP.ST:
    case OP.STX:
    case OP.TAX:
    case OP.TXA:
    case OP.RET_K:
    case OP.RET_A:
    case OP.JA:
    case OP.NEG:
      return true;
  }
  for (const op of ALU_OPS) if (code === (BPF.ALU | op | BPF.K) || code === (BPF.ALU | op | BPF.X)) return true;
  for (const op of JCOND_OPS) if (code === (BPF.JMP | op | BPF.K) || code === (BPF.JMP | op | BPF.X)) return true;
  return false;
}

/** seccomp_check_filter(): the subset seccomp accepts (no packet loads other than W ABS, no MOD, no MSH). */
function seccompCodeAllowed(code: number): boolean {
  switch (code) {
    case OP.LD_W_ABS:
    case OP.LD_W_LEN:
    case OP.LDX_W_LEN:
    case OP.RET_K:
    case OP.RET_A:
    case OP.NEG:
    case OP.LD_IMM:
    case OP.LDX_IMM:
    case OP.TAX:
    case OP.TXA:
    case OP.LD_MEM:
    case OP.LDX_MEM:
    case OP.ST:
    case OP.STX:
    case OP.JA:
      return true;
  }
  for (const op of [BPF.ADD, BPF.SUB, BPF.MUL, BPF.DIV, BPF.AND, BPF.OR, BPF.XOR, BPF.LSH, BPF.RSH] as number[]) {
    if (code === (BPF.ALU | op | BPF.K) || code === (BPF.ALU | op | BPF.X)) return true;
  }
  for (const op of JCOND_OPS) if (code === (BPF.JMP | op | BPF.K) || code === (BPF.JMP | op | BPF.X)) return true;
  return false;
}

/** Thrown for a program the kernel would refuse at SECCOMP_SET_MODE_FILTER (EINVAL). */
export class BpfVerifyError extends Error {
  constructor(
    message: string,
    readonly pc: number | null,
  ) {
    super(pc === null ? message : `instruction ${pc}: ${message}`);
    this.name = 'BpfVerifyError';
  }
}

function checkFields(prog: SockFilter[]): void {
  prog.forEach((ins, pc) => {
    const ok = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
    if (!ins || !ok(ins.code, 0xffff) || !ok(ins.jt, 0xff) || !ok(ins.jf, 0xff) || !ok(ins.k, 0xffffffff)) {
      throw new BpfVerifyError(`malformed sock_filter ${JSON.stringify(ins)}`, pc);
    }
  });
}

/** check_load_and_stores(): every scratch cell read must be written on every path that reaches the read. */
function checkLoadsAndStores(prog: SockFilter[]): void {
  const flen = prog.length;
  const masks = new Array<number>(flen).fill(0xffff);
  let memvalid = 0;
  for (let pc = 0; pc < flen; pc++) {
    memvalid &= masks[pc]!;
    const { code, k, jt, jf } = prog[pc]!;
    if (code === OP.ST || code === OP.STX) {
      memvalid |= 1 << k;
    } else if (code === OP.LD_MEM || code === OP.LDX_MEM) {
      if (!(memvalid & (1 << k))) throw new BpfVerifyError(`M[${k}] may be read before it is written`, pc);
    } else if (code === OP.JA) {
      masks[pc + 1 + k] = masks[pc + 1 + k]! & memvalid;
      memvalid = 0xffff;
    } else if (isCondJump(code)) {
      masks[pc + 1 + jt] = masks[pc + 1 + jt]! & memvalid;
      masks[pc + 1 + jf] = masks[pc + 1 + jf]! & memvalid;
      memvalid = 0xffff;
    }
  }
}

/**
 * Throws BpfVerifyError where the kernel would refuse `prog` as a seccomp filter: length outside
 * 1..BPF_MAXINSNS, an opcode seccomp does not accept, a load outside or misaligned in seccomp_data, a jump
 * past the end, a constant division by zero or shift ≥ 32, a scratch cell out of range or read before
 * written, or a last instruction that is not a return.
 */
export function verifyFilter(prog: SockFilter[]): void {
  const flen = prog.length;
  if (flen === 0 || flen > BPF_MAXINSNS) throw new BpfVerifyError(`program length ${flen} is outside 1..${BPF_MAXINSNS}`, null);
  checkFields(prog);
  for (let pc = 0; pc < flen; pc++) {
    const { code, k, jt, jf } = prog[pc]!;
    const hex = `0x${code.toString(16).padStart(2, '0')}`;
    if (!classicCodeAllowed(code)) throw new BpfVerifyError(`opcode ${hex} is not classic BPF`, pc);
    if (code === (BPF.ALU | BPF.DIV | BPF.K) || code === (BPF.ALU | BPF.MOD | BPF.K)) {
      if (k === 0) throw new BpfVerifyError('division by constant zero', pc);
    } else if (code === (BPF.ALU | BPF.LSH | BPF.K) || code === (BPF.ALU | BPF.RSH | BPF.K)) {
      if (k >= 32) throw new BpfVerifyError(`shift by ${k}`, pc);
    } else if (code === OP.LD_MEM || code === OP.LDX_MEM || code === OP.ST || code === OP.STX) {
      if (k >= BPF_MEMWORDS) throw new BpfVerifyError(`scratch cell M[${k}] does not exist`, pc);
    } else if (code === OP.JA) {
      if (k >= flen - pc - 1) throw new BpfVerifyError(`ja +${k} jumps past the end`, pc);
    } else if (isCondJump(code)) {
      if (pc + jt + 1 >= flen || pc + jf + 1 >= flen) throw new BpfVerifyError(`conditional jump +${jt}/+${jf} past the end`, pc);
    }
  }
  const last = prog[flen - 1]!.code;
  if (last !== OP.RET_K && last !== OP.RET_A) throw new BpfVerifyError('the last instruction is not a return', flen - 1);
  checkLoadsAndStores(prog);
  // seccomp_check_filter() runs after the classic checks, on the same program.
  for (let pc = 0; pc < flen; pc++) {
    const { code, k } = prog[pc]!;
    if (!seccompCodeAllowed(code)) throw new BpfVerifyError(`opcode 0x${code.toString(16).padStart(2, '0')} is not allowed in seccomp filters`, pc);
    if (code === OP.LD_W_ABS && (k >= SECCOMP_DATA_SIZE || k & 3)) {
      throw new BpfVerifyError(`load of seccomp_data[${k}] is out of range or not 4-byte aligned`, pc);
    }
  }
}

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
