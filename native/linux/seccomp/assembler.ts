// The BPF assembler under the compiler: instructions with symbolic forward jumps, resolved to offsets, with
// `ja` trampolines where a conditional jump's 8-bit offset would overflow.
import { BPF, type SockFilter } from './dsl';

// ---------------------------------------------------------------------------------------------------------
// Assembler

export type Label = string;
export type Target = Label | 'next';

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
export class Asm {
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
export function assemble(items: Item[]): SockFilter[] {
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
