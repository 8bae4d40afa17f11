// FilterSpec → classic BPF. Layout:
//   arch check (kill on any other ABI) → load nr → x86_64: kill x32 numbers → binary-search dispatch on nr →
//   shared return instructions → one block per syscall whose rules test arguments.
// All jumps are emitted against labels and resolved by a small assembler that inserts `ja` trampolines where
// a conditional jump's 8-bit offset would overflow, so program size never breaks control flow. The result is
// run through the kernel-equivalent verifier before it is returned.
import {
  AUDIT_ARCH,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  SECCOMP_RET_KILL_PROCESS,
  X32_SYSCALL_BIT,
  argHiOffset,
  argLoOffset,
  isKnownSyscall,
  syscallNumber,
} from './arch';
import { BPF, BPF_MAXINSNS, actionToReturn, normalizeCondition, type FilterSpec, type NormalizedCondition, type SockFilter } from './dsl';
import { verifyFilter } from './verify';
import { Asm, assemble, type Label } from './assembler';

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

