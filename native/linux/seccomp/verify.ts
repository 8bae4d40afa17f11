// The kernel's check of a classic seccomp-bpf program, modelled: bpf_check_classic() (net/core/filter.c)
// followed by seccomp_check_filter() (kernel/seccomp.c). The compiler runs every program through it, and the
// evaluator (./evaluate.ts) refuses what it refuses.
import { SECCOMP_DATA_SIZE } from './arch';
import { BPF, BPF_MAXINSNS, BPF_MEMWORDS, type SockFilter } from './dsl';

export const OP = Object.freeze({
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

export function isCondJump(code: number): boolean {
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

/** Each field of each instruction fits its sock_filter width. */
export function checkFields(prog: SockFilter[]): void {
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
