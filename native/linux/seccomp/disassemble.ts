// Classic BPF as bytes and as text: the kernel's sock_filter encoding (and back), and a disassembler that
// names seccomp_data fields and syscalls, for golden dumps and `script-sandbox explain`.
import { AUDIT_ARCH, SECCOMP_DATA_ARCH, SECCOMP_DATA_ARGS, SECCOMP_DATA_IP, SECCOMP_DATA_NR, syscallTable, type SeccompArch } from './arch';
import { BPF, type SockFilter } from './dsl';
import { describeReturn } from './evaluate';

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** struct sock_filter[] as the kernel reads it: u16 code, u8 jt, u8 jf, u32 k, little-endian, 8 bytes each. */
export function encodeFilter(prog: SockFilter[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((ins, i) => {
    const ok = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
    if (!ok(ins.code, 0xffff) || !ok(ins.jt, 0xff) || !ok(ins.jf, 0xff) || !ok(ins.k, 0xffffffff)) {
      throw new Error(`instruction ${i} is not a valid sock_filter: ${JSON.stringify(ins)}`);
    }
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k, i * 8 + 4);
  });
  return buf;
}

/** The inverse of encodeFilter. */
export function decodeFilter(buf: Buffer): SockFilter[] {
  if (buf.length % 8 !== 0) throw new Error(`${buf.length} bytes is not a whole number of sock_filter entries`);
  const out: SockFilter[] = [];
  for (let o = 0; o < buf.length; o += 8) {
    out.push({ code: buf.readUInt16LE(o), jt: buf.readUInt8(o + 2), jf: buf.readUInt8(o + 3), k: buf.readUInt32LE(o + 4) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Disassembly

function fieldName(k: number): string {
  if (k === SECCOMP_DATA_NR) return 'nr';
  if (k === SECCOMP_DATA_ARCH) return 'arch';
  if (k === SECCOMP_DATA_IP) return 'ip.lo';
  if (k === SECCOMP_DATA_IP + 4) return 'ip.hi';
  if (k >= SECCOMP_DATA_ARGS && k < SECCOMP_DATA_ARGS + 48 && k % 4 === 0) {
    const i = Math.floor((k - SECCOMP_DATA_ARGS) / 8);
    return `args[${i}].${(k - SECCOMP_DATA_ARGS) % 8 === 0 ? 'lo' : 'hi'}`;
  }
  return `?${k}`;
}

const ALU_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [BPF.ADD]: 'add',
  [BPF.SUB]: 'sub',
  [BPF.MUL]: 'mul',
  [BPF.DIV]: 'div',
  [BPF.OR]: 'or',
  [BPF.AND]: 'and',
  [BPF.LSH]: 'lsh',
  [BPF.RSH]: 'rsh',
  [BPF.MOD]: 'mod',
  [BPF.XOR]: 'xor',
});
const JMP_NAMES: Readonly<Record<number, string>> = Object.freeze({ [BPF.JEQ]: 'jeq', [BPF.JGT]: 'jgt', [BPF.JGE]: 'jge', [BPF.JSET]: 'jset' });

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const pcStr = (n: number): string => String(n).padStart(4, '0');

export interface DisassembleOptions {
  /** Names syscall numbers in comments. Default: inferred from the program's arch check, if any. */
  arch?: SeccompArch;
}

/**
 * One line per instruction: "pc  mnemonic  operands  ; comment", with absolute jump targets. Stable across
 * runs (golden dumps depend on it). Comments name seccomp_data fields, return actions and, where A holds nr
 * on every path into a comparison, the syscall compared against.
 */
export function disassemble(prog: SockFilter[], opts: DisassembleOptions = {}): string {
  const flen = prog.length;
  // Forward dataflow (jumps only go forward): which seccomp_data word A holds at each pc, null when unknown or
  // when paths disagree, undefined when no path reaches the pc.
  const aIn: (number | null | undefined)[] = new Array<number | null | undefined>(flen).fill(undefined);
  if (flen) aIn[0] = null;
  const merge = (pc: number, v: number | null): void => {
    if (pc < 0 || pc >= flen) return;
    const cur = aIn[pc];
    aIn[pc] = cur === undefined ? v : cur === v ? cur : null;
  };
  let arch = opts.arch;
  for (let pc = 0; pc < flen; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    const a = aIn[pc];
    if (a === undefined) continue;
    const cls = code & 0x07;
    if (cls === BPF.RET) continue;
    if (code === (BPF.JMP | BPF.JA)) {
      merge(pc + 1 + k, a);
    } else if (cls === BPF.JMP) {
      if (arch === undefined && a === SECCOMP_DATA_ARCH && (code & 0xf0) === BPF.JEQ && !(code & BPF.X)) {
        arch = (Object.keys(AUDIT_ARCH) as SeccompArch[]).find((x) => AUDIT_ARCH[x] === k);
      }
      merge(pc + 1 + jt, a);
      merge(pc + 1 + jf, a);
    } else if (code === (BPF.LD | BPF.W | BPF.ABS)) {
      merge(pc + 1, k);
    } else if (cls === BPF.LD || cls === BPF.ALU || code === (BPF.MISC | BPF.TXA)) {
      merge(pc + 1, null);
    } else {
      merge(pc + 1, a);
    }
  }
  const names = new Map<number, string>();
  if (arch) for (const [name, nr] of Object.entries(syscallTable(arch))) names.set(nr, name);

  const lines: string[] = [];
  for (let pc = 0; pc < flen; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    const cls = code & 0x07;
    let text: string;
    let comment = '';
    if (code === (BPF.LD | BPF.W | BPF.ABS)) {
      text = `ld   [${k}]`;
      comment = fieldName(k);
    } else if (code === (BPF.LD | BPF.IMM)) text = `ld   #${hex(k)}`;
    else if (code === (BPF.LD | BPF.W | BPF.LEN)) text = 'ld   #len';
    else if (code === (BPF.LD | BPF.MEM)) text = `ld   M[${k}]`;
    else if (code === (BPF.LDX | BPF.IMM)) text = `ldx  #${hex(k)}`;
    else if (code === (BPF.LDX | BPF.W | BPF.LEN)) text = 'ldx  #len';
    else if (code === (BPF.LDX | BPF.MEM)) text = `ldx  M[${k}]`;
    else if (code === BPF.ST) text = `st   M[${k}]`;
    else if (code === BPF.STX) text = `stx  M[${k}]`;
    else if (code === (BPF.MISC | BPF.TAX)) text = 'tax';
    else if (code === (BPF.MISC | BPF.TXA)) text = 'txa';
    else if (code === (BPF.ALU | BPF.NEG)) text = 'neg';
    else if (code === (BPF.RET | BPF.K)) {
      text = `ret  #${hex(k)}`;
      comment = describeReturn(k);
    } else if (code === (BPF.RET | BPF.A)) text = 'ret  a';
    else if (code === (BPF.JMP | BPF.JA)) text = `ja   ${pcStr(pc + 1 + k)}`;
    else if (cls === BPF.ALU && ALU_NAMES[code & 0xf0] && (code & ~0xf8) === BPF.ALU) {
      text = `${ALU_NAMES[code & 0xf0]!.padEnd(4)} ${code & BPF.X ? 'x' : `#${hex(k)}`}`;
    } else if (cls === BPF.JMP && JMP_NAMES[code & 0xf0] && (code & ~0xf8) === BPF.JMP) {
      const operand = code & BPF.X ? 'x' : `#${hex(k)}`;
      text = `${JMP_NAMES[code & 0xf0]!.padEnd(4)} ${operand.padEnd(12)} jt ${pcStr(pc + 1 + jt)}  jf ${pcStr(pc + 1 + jf)}`;
      const a = aIn[pc];
      if (!(code & BPF.X) && a === SECCOMP_DATA_NR && (code & 0xf0) !== BPF.JSET) {
        const n = names.get(k);
        if (n) comment = (code & 0xf0) === BPF.JEQ ? n : `nr ${JMP_NAMES[code & 0xf0] === 'jgt' ? '>' : '>='} ${n}`;
      } else if (!(code & BPF.X) && a === SECCOMP_DATA_ARCH && (code & 0xf0) === BPF.JEQ) {
        const x = (Object.keys(AUDIT_ARCH) as SeccompArch[]).find((y) => AUDIT_ARCH[y] === k);
        if (x) comment = `AUDIT_ARCH_${x.toUpperCase()}`;
      }
    } else {
      text = `.word code=${hex(code)} jt=${jt} jf=${jf} k=${hex(k)}`;
    }
    const line = `${pcStr(pc)}  ${text}`;
    lines.push(comment ? `${line.padEnd(48)} ; ${comment}` : line);
  }
  return lines.join('\n') + '\n';
}
