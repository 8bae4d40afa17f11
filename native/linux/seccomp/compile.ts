// FilterSpec → classic BPF. Layout:
//   arch check (kill on any other ABI) → load nr → x86_64: kill x32 numbers → binary-search dispatch on nr →
//   shared return instructions → one block per syscall whose rules test arguments.
// All jumps are emitted against labels and resolved by a small assembler that inserts `ja` trampolines where
// a conditional jump's 8-bit offset would overflow, so program size never breaks control flow. The result is
// run through the kernel-equivalent verifier before it is returned.
import {
  AUDIT_ARCH,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_IP,
  SECCOMP_DATA_NR,
  SECCOMP_RET_KILL_PROCESS,
  X32_SYSCALL_BIT,
  argHiOffset,
  argLoOffset,
  isKnownSyscall,
  syscallNumber,
  syscallTable,
  type SeccompArch,
} from './arch';
import { BPF, BPF_MAXINSNS, actionToReturn, normalizeCondition, type FilterSpec, type NormalizedCondition, type SockFilter } from './dsl';
import { describeReturn, verifyFilter } from './evaluate';

// ---------------------------------------------------------------------------------------------------------
// Assembler

type Label = string;
type Target = Label | 'next';

type Item =
  | { t: 'ins'; code: number; k: number }
  | { t: 'jc'; code: number; k: number; jt: Label; jf: Label }
  | { t: 'ja'; to: Label }
  | { t: 'label'; name: Label };

/**
 * Collects instructions with symbolic jump targets (forward only). It also tracks which seccomp_data word A
 * holds, to skip reloading it: every jump records A's state for its target, and when a label is placed, A is
 * known there only if every way in (recorded jumps, and falling through from the instruction before) agrees.
 * Since jumps only go forward, all ways into a label are known when it is placed.
 */
class Asm {
  readonly items: Item[] = [];
  private count = 0;
  /** Offset of the seccomp_data word A holds on the current path, else null. */
  private aHolds: number | null = null;
  /** False right after a ret or an unconditional jump: the next instruction is reachable only by label. */
  private fallsThrough = true;
  private readonly incoming = new Map<Label, (number | null)[]>();
  private readonly placed = new Set<Label>();

  label(prefix: string): Label {
    return `${prefix}.${this.count++}`;
  }

  place(name: Label): void {
    if (this.placed.has(name)) throw new Error(`internal: label ${name} placed twice`);
    this.placed.add(name);
    this.items.push({ t: 'label', name });
    const ways = [...(this.incoming.get(name) ?? [])];
    if (this.fallsThrough) ways.push(this.aHolds);
    this.aHolds = ways.length > 0 && ways.every((w) => w !== null && w === ways[0]) ? ways[0]! : null;
    this.fallsThrough = true;
  }

  private reach(label: Label): void {
    if (this.placed.has(label)) throw new Error(`internal: backward jump to ${label}`);
    const list = this.incoming.get(label) ?? [];
    list.push(this.aHolds);
    this.incoming.set(label, list);
  }

  ld(offset: number): void {
    if (this.aHolds === offset && this.fallsThrough) return;
    this.items.push({ t: 'ins', code: BPF.LD | BPF.W | BPF.ABS, k: offset });
    this.aHolds = offset;
    this.fallsThrough = true;
  }

  and(k: number): void {
    this.items.push({ t: 'ins', code: BPF.ALU | BPF.AND | BPF.K, k: k >>> 0 });
    this.aHolds = null;
  }

  ret(k: number): void {
    this.items.push({ t: 'ins', code: BPF.RET | BPF.K, k: k >>> 0 });
    this.fallsThrough = false;
  }

  ja(to: Label): void {
    this.reach(to);
    this.items.push({ t: 'ja', to });
    this.fallsThrough = false;
  }

  /** A conditional jump on A against constant k; 'next' is the instruction that follows. */
  jump(op: number, k: number, jt: Target, jf: Target): void {
    if (jt === 'next' && jf === 'next') throw new Error('internal: conditional jump with both branches to next');
    const next = jt === 'next' || jf === 'next' ? this.label('next') : null;
    const t = jt === 'next' ? next! : jt;
    const f = jf === 'next' ? next! : jf;
    this.reach(t);
    this.reach(f);
    this.items.push({ t: 'jc', code: BPF.JMP | op | BPF.K, k: k >>> 0, jt: t, jf: f });
    this.fallsThrough = false;
    if (next) this.place(next);
  }
}

/**
 * Resolves labels. A conditional branch whose target is more than 255 instructions ahead is routed through
 * a `ja` (32-bit offset) placed right after the jump; inserting it can push other branches out of range, so
 * layout repeats until nothing changes (each round converts at least one branch, so it terminates).
 */
function assemble(items: Item[]): SockFilter[] {
  const far = items.map(() => ({ t: false, f: false }));
  const trampolines = (i: number): number => Number(far[i]!.t) + Number(far[i]!.f);
  let pcOf: number[] = [];
  let pos = new Map<Label, number>();
  for (;;) {
    pcOf = new Array<number>(items.length).fill(-1);
    pos = new Map<Label, number>();
    let pc = 0;
    items.forEach((it, i) => {
      if (it.t === 'label') {
        if (pos.has(it.name)) throw new Error(`internal: label ${it.name} placed twice`);
        pos.set(it.name, pc);
        return;
      }
      pcOf[i] = pc;
      pc += 1 + (it.t === 'jc' ? trampolines(i) : 0);
    });
    const target = (l: Label): number => {
      const p = pos.get(l);
      if (p === undefined) throw new Error(`internal: label ${l} never placed`);
      return p;
    };
    let changed = false;
    items.forEach((it, i) => {
      if (it.t === 'jc') {
        const p = pcOf[i]!;
        const n = trampolines(i);
        for (const b of ['t', 'f'] as const) {
          if (far[i]![b]) continue;
          const off = target(b === 't' ? it.jt : it.jf) - (p + 1);
          if (off < n) throw new Error(`internal: backward jump to ${b === 't' ? it.jt : it.jf}`);
          if (off > 255) {
            far[i]![b] = true;
            changed = true;
          }
        }
      } else if (it.t === 'ja') {
        if (target(it.to) < pcOf[i]! + 1) throw new Error(`internal: backward jump to ${it.to}`);
      }
    });
    if (!changed) break;
  }
  const out: SockFilter[] = [];
  items.forEach((it, i) => {
    if (it.t === 'label') return;
    const p = pcOf[i]!;
    if (out.length !== p) throw new Error('internal: layout mismatch');
    if (it.t === 'ins') {
      out.push({ code: it.code, jt: 0, jf: 0, k: it.k });
    } else if (it.t === 'ja') {
      out.push({ code: BPF.JMP | BPF.JA, jt: 0, jf: 0, k: pos.get(it.to)! - (p + 1) });
    } else {
      const fr = far[i]!;
      const tPc = fr.t ? p + 1 : -1;
      const fPc = fr.f ? p + 1 + Number(fr.t) : -1;
      const jt = fr.t ? 0 : pos.get(it.jt)! - (p + 1);
      const jf = fr.f ? fPc - (p + 1) : pos.get(it.jf)! - (p + 1);
      out.push({ code: it.code, jt, jf, k: it.k });
      if (fr.t) out.push({ code: BPF.JMP | BPF.JA, jt: 0, jf: 0, k: pos.get(it.jt)! - (tPc + 1) });
      if (fr.f) out.push({ code: BPF.JMP | BPF.JA, jt: 0, jf: 0, k: pos.get(it.jf)! - (fPc + 1) });
    }
  });
  for (const [pc, ins] of out.entries()) {
    if (ins.jt > 255 || ins.jf > 255 || ins.jt < 0 || ins.jf < 0 || ins.k < 0) throw new Error(`internal: jump offset out of range at ${pc}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Compiler

interface CompiledRule {
  ret: number;
  conds: NormalizedCondition[];
}

interface SyscallGroup {
  nr: number;
  name: string;
  rules: CompiledRule[];
}

/**
 * Resolves names for the arch and orders rules per syscall. Unknown names (on every arch) throw; names the
 * arch lacks are skipped. Rules after an unconditional one can never match and are dropped, as are trailing
 * rules whose action equals the default (matching or not, the result is the same).
 */
function groupRules(spec: FilterSpec, defaultRet: number): SyscallGroup[] {
  const groups = new Map<number, SyscallGroup & { closed: boolean }>();
  spec.rules.forEach((r, i) => {
    if (typeof r.syscall !== 'string' || !isKnownSyscall(r.syscall)) {
      throw new Error(`rule ${i}: unknown syscall ${JSON.stringify(r.syscall)} (in neither the x86_64 nor the aarch64 table)`);
    }
    if (typeof r.reason !== 'string' || !r.reason.trim()) throw new Error(`rule ${i} (${r.syscall}): a reason is required`);
    let conds: NormalizedCondition[];
    let ret: number;
    try {
      conds = (r.when ?? []).map(normalizeCondition);
      ret = actionToReturn(r.action);
    } catch (e) {
      throw new Error(`rule ${i} (${r.syscall}): ${(e as Error).message}`);
    }
    const nr = syscallNumber(spec.arch, r.syscall);
    if (nr === undefined) return;
    let g = groups.get(nr);
    if (!g) {
      g = { nr, name: r.syscall, rules: [], closed: false };
      groups.set(nr, g);
    }
    if (g.closed) return;
    g.rules.push({ ret, conds });
    if (conds.length === 0) g.closed = true;
  });
  const out: SyscallGroup[] = [];
  for (const g of groups.values()) {
    while (g.rules.length && g.rules[g.rules.length - 1]!.ret === defaultRet) g.rules.pop();
    if (g.rules.length) out.push({ nr: g.nr, name: g.name, rules: g.rules });
  }
  return out.sort((a, b) => a.nr - b.nr);
}

const LO32 = 0xffffffffn;

/** Emits a test of one condition: falls through when it holds, jumps to `fail` when it does not. */
function emitCondition(a: Asm, c: NormalizedCondition, fail: Label): void {
  const lo = argLoOffset(c.arg);
  if (c.width === 32) {
    const v = Number(c.value);
    const m = Number(c.mask);
    a.ld(lo);
    switch (c.op) {
      case 'eq':
        return a.jump(BPF.JEQ, v, 'next', fail);
      case 'ne':
        return a.jump(BPF.JEQ, v, fail, 'next');
      case 'masked-any':
        return a.jump(BPF.JSET, m, 'next', fail);
      case 'masked-eq':
        if (m !== 0xffffffff) a.and(m);
        return a.jump(BPF.JEQ, v, 'next', fail);
      case 'gt':
        return a.jump(BPF.JGT, v, 'next', fail);
      case 'ge':
        return a.jump(BPF.JGE, v, 'next', fail);
      case 'lt':
        return a.jump(BPF.JGE, v, fail, 'next');
      case 'le':
        return a.jump(BPF.JGT, v, fail, 'next');
    }
  }
  // 64 bits: two 32-bit words, high word first; the low word decides only when the high words are equal.
  const hi = argHiOffset(c.arg);
  const vh = Number(c.value >> 32n);
  const vl = Number(c.value & LO32);
  const mh = Number(c.mask >> 32n);
  const ml = Number(c.mask & LO32);
  const pass = a.label('pass');
  switch (c.op) {
    case 'eq':
      a.ld(hi);
      a.jump(BPF.JEQ, vh, 'next', fail);
      a.ld(lo);
      a.jump(BPF.JEQ, vl, 'next', fail);
      return;
    case 'ne':
      a.ld(hi);
      a.jump(BPF.JEQ, vh, 'next', pass);
      a.ld(lo);
      a.jump(BPF.JEQ, vl, fail, pass);
      a.place(pass);
      return;
    case 'masked-any':
      // normalizeCondition refuses a zero mask, so at least one word is tested.
      if (mh !== 0 && ml !== 0) {
        a.ld(hi);
        a.jump(BPF.JSET, mh, pass, 'next');
        a.ld(lo);
        a.jump(BPF.JSET, ml, pass, fail);
        a.place(pass);
      } else if (mh !== 0) {
        a.ld(hi);
        a.jump(BPF.JSET, mh, 'next', fail);
      } else {
        a.ld(lo);
        a.jump(BPF.JSET, ml, 'next', fail);
      }
      return;
    case 'masked-eq':
      // A word whose mask is zero compares 0 == 0 (value bits outside the mask are refused): skip it.
      if (mh !== 0) {
        a.ld(hi);
        if (mh !== 0xffffffff) a.and(mh);
        a.jump(BPF.JEQ, vh, 'next', fail);
      }
      if (ml !== 0) {
        a.ld(lo);
        if (ml !== 0xffffffff) a.and(ml);
        a.jump(BPF.JEQ, vl, 'next', fail);
      }
      return;
    case 'gt':
    case 'ge':
      a.ld(hi);
      a.jump(BPF.JGT, vh, pass, 'next');
      a.jump(BPF.JEQ, vh, 'next', fail);
      a.ld(lo);
      a.jump(c.op === 'gt' ? BPF.JGT : BPF.JGE, vl, pass, fail);
      a.place(pass);
      return;
    case 'lt':
    case 'le':
      a.ld(hi);
      a.jump(BPF.JGT, vh, fail, 'next');
      a.jump(BPF.JEQ, vh, 'next', pass);
      a.ld(lo);
      a.jump(c.op === 'lt' ? BPF.JGE : BPF.JGT, vl, fail, pass);
      a.place(pass);
      return;
  }
}

/** Dispatch leaves compare up to this many numbers in a row; above it the range is split with one `jge`. */
const LEAF_SIZE = 4;

function emitDispatch(a: Asm, groups: SyscallGroup[], targetOf: (g: SyscallGroup) => Label, defaultRet: number): void {
  const gen = (lo: number, hi: number): void => {
    if (hi - lo <= LEAF_SIZE) {
      for (let i = lo; i < hi; i++) a.jump(BPF.JEQ, groups[i]!.nr, targetOf(groups[i]!), 'next');
      a.ret(defaultRet);
      return;
    }
    const mid = lo + Math.floor((hi - lo) / 2);
    const right = a.label('ge');
    a.jump(BPF.JGE, groups[mid]!.nr, right, 'next');
    gen(lo, mid);
    a.place(right);
    gen(mid, hi);
  };
  gen(0, groups.length);
}

/** Compiles `spec` to a classic BPF seccomp program. Throws on unknown syscalls, bad conditions, or > 4096 instructions. */
export function compileFilter(spec: FilterSpec): SockFilter[] {
  if (spec.arch !== 'x86_64' && spec.arch !== 'aarch64') throw new Error(`unsupported seccomp arch ${String(spec.arch)}`);
  const defaultRet = actionToReturn(spec.defaultAction);
  const groups = groupRules(spec, defaultRet);
  const a = new Asm();

  // The arch check comes first: syscall numbers only mean something for one ABI (i386 via int 0x80 on x86_64,
  // arm32 compat on aarch64 would otherwise dispatch through the wrong table).
  const archOk = a.label('arch_ok');
  a.ld(SECCOMP_DATA_ARCH);
  a.jump(BPF.JEQ, AUDIT_ARCH[spec.arch], archOk, 'next');
  a.ret(SECCOMP_RET_KILL_PROCESS);
  a.place(archOk);
  a.ld(SECCOMP_DATA_NR);
  if (spec.arch === 'x86_64') {
    // x32 calls share AUDIT_ARCH_X86_64 and differ only by bit 30 of nr. nr == -1 (0xffffffff) is exempt, as
    // in libseccomp: it is what a tracer writes to skip a call, and the kernel answers it with ENOSYS.
    const dispatch = a.label('dispatch');
    a.jump(BPF.JGE, X32_SYSCALL_BIT, 'next', dispatch);
    a.jump(BPF.JEQ, 0xffffffff, dispatch, 'next');
    a.ret(SECCOMP_RET_KILL_PROCESS);
    a.place(dispatch);
  }

  // Syscalls with one unconditional rule jump straight to a return shared by every syscall with that action.
  const shared = new Map<number, Label>();
  const blocks = new Map<number, Label>();
  for (const g of groups) {
    const only = g.rules.length === 1 && g.rules[0]!.conds.length === 0 ? g.rules[0]!.ret : null;
    if (only !== null) {
      if (!shared.has(only)) shared.set(only, a.label(`ret_${only.toString(16)}`));
    } else {
      blocks.set(g.nr, a.label(`sys_${g.name}`));
    }
  }
  const targetOf = (g: SyscallGroup): Label => blocks.get(g.nr) ?? shared.get(g.rules[0]!.ret)!;
  emitDispatch(a, groups, targetOf, defaultRet);
  for (const [ret, label] of shared) {
    a.place(label);
    a.ret(ret);
  }
  for (const g of groups) {
    const label = blocks.get(g.nr);
    if (!label) continue;
    a.place(label);
    let fellThrough = true;
    for (const r of g.rules) {
      const fail = a.label('fail');
      for (const c of r.conds) emitCondition(a, c, fail);
      a.ret(r.ret);
      if (r.conds.length === 0) {
        fellThrough = false;
        break;
      }
      a.place(fail);
    }
    if (fellThrough) a.ret(defaultRet);
  }

  const prog = assemble(a.items);
  if (prog.length > BPF_MAXINSNS) {
    throw new Error(
      `the ${spec.arch} seccomp program needs ${prog.length} instructions, more than the kernel's limit of ${BPF_MAXINSNS} (BPF_MAXINSNS); deny fewer syscalls or use fewer argument conditions`,
    );
  }
  verifyFilter(prog); // the kernel's own checks, so a compiler bug surfaces here rather than as EINVAL at install
  return prog;
}

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
