// The evaluator and verifier on hand-written programs: every opcode seccomp accepts, and the kernel's reasons
// for refusing a program.
import { strict as assert } from 'node:assert';
import {
  AUDIT_ARCH_X86_64,
  BPF,
  BpfVerifyError,
  actionOf,
  describeReturn,
  encodeSeccompData,
  evaluateFilter,
  verifyFilter,
  type SockFilter,
} from '../../../native/linux/seccomp';

const I = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });
const LD = (k: number): SockFilter => I(BPF.LD | BPF.W | BPF.ABS, k);
const LDI = (k: number): SockFilter => I(BPF.LD | BPF.IMM, k);
const LDXI = (k: number): SockFilter => I(BPF.LDX | BPF.IMM, k);
const ALU_K = (op: number, k: number): SockFilter => I(BPF.ALU | op | BPF.K, k);
const ALU_X = (op: number): SockFilter => I(BPF.ALU | op | BPF.X);
const RET_A = I(BPF.RET | BPF.A);
const RET = (k: number): SockFilter => I(BPF.RET | BPF.K, k);
const data = { nr: 59, arch: AUDIT_ARCH_X86_64, ip: 0x1122334455667788n, args: [0xaabbccdd00112233n, -1, 7, 0, 0, 0x8000000000000000n] };

/** Runs `body` then `ret a`. */
const runA = (...body: SockFilter[]): number => evaluateFilter([...body, RET_A], data);

describe('seccomp evaluator', () => {
  it('lays out seccomp_data like the kernel (little-endian, 64 bytes)', () => {
    const b = encodeSeccompData({ nr: -1, arch: AUDIT_ARCH_X86_64, ip: 0x0102030405060708n, args: [1n, -2] });
    assert.equal(b.length, 64);
    assert.equal(b.readUInt32LE(0), 0xffffffff);
    assert.equal(b.readUInt32LE(4), 0xc000003e);
    assert.equal(b.readUInt32LE(8), 0x05060708);
    assert.equal(b.readUInt32LE(12), 0x01020304);
    assert.equal(b.readBigUInt64LE(16), 1n);
    assert.equal(b.readBigUInt64LE(24), 0xfffffffffffffffen);
    assert.throws(() => encodeSeccompData({ nr: 0, arch: 0, args: [0, 0, 0, 0, 0, 0, 0] }), /6/);
    assert.throws(() => encodeSeccompData({ nr: 0, arch: 0, args: [2 ** 60] }), /bigint/);
  });

  it('loads words of nr, arch, ip and args', () => {
    assert.equal(runA(LD(0)), 59);
    assert.equal(runA(LD(4)), 0xc000003e);
    assert.equal(runA(LD(8)), 0x55667788);
    assert.equal(runA(LD(12)), 0x11223344);
    assert.equal(runA(LD(16)), 0x00112233);
    assert.equal(runA(LD(20)), 0xaabbccdd);
    assert.equal(runA(LD(24)), 0xffffffff);
    assert.equal(runA(LD(60)), 0x80000000);
  });

  it('ALU with K: 32-bit wrap-around, unsigned division, shifts', () => {
    assert.equal(runA(LDI(0xffffffff), ALU_K(BPF.ADD, 2)), 1);
    assert.equal(runA(LDI(1), ALU_K(BPF.SUB, 2)), 0xffffffff);
    assert.equal(runA(LDI(0x80000001), ALU_K(BPF.MUL, 2)), 2);
    assert.equal(runA(LDI(0x10001), ALU_K(BPF.MUL, 0x10001)), 0x20001);
    assert.equal(runA(LDI(0xffffffff), ALU_K(BPF.MUL, 0xffffffff)), 1); // beyond 2^53: exact low word
    assert.equal(runA(LDI(0x12345678), ALU_K(BPF.MUL, 0x9abcdef1)), Number((0x12345678n * 0x9abcdef1n) & 0xffffffffn));
    assert.equal(runA(LDI(0xffffffff), ALU_K(BPF.DIV, 2)), 0x7fffffff);
    assert.equal(runA(LDI(0xf0f0), ALU_K(BPF.AND, 0xff00)), 0xf000);
    assert.equal(runA(LDI(0xf0f0), ALU_K(BPF.OR, 0x0f0f)), 0xffff);
    assert.equal(runA(LDI(0xffff0000), ALU_K(BPF.XOR, 0xffffffff)), 0xffff);
    assert.equal(runA(LDI(0x80000001), ALU_K(BPF.LSH, 1)), 2);
    assert.equal(runA(LDI(0x80000000), ALU_K(BPF.RSH, 31)), 1);
    assert.equal(runA(LDI(1), I(BPF.ALU | BPF.NEG)), 0xffffffff);
    assert.equal(runA(LDI(0), I(BPF.ALU | BPF.NEG)), 0);
  });

  it('ALU with X, TAX/TXA, and shifts by X masked to 5 bits', () => {
    assert.equal(runA(LDI(7), LDXI(5), ALU_X(BPF.SUB)), 2);
    assert.equal(runA(LDI(100), LDXI(7), ALU_X(BPF.DIV)), 14);
    assert.equal(runA(LDI(3), LDXI(33), ALU_X(BPF.LSH)), 6);
    assert.equal(runA(LDI(12), LDXI(34), ALU_X(BPF.RSH)), 3);
    assert.equal(runA(LDI(9), I(BPF.MISC | BPF.TAX), LDI(1), ALU_X(BPF.ADD)), 10);
    assert.equal(runA(LDXI(42), I(BPF.MISC | BPF.TXA)), 42);
    assert.equal(runA(I(BPF.LD | BPF.W | BPF.LEN)), 64);
    assert.equal(runA(I(BPF.LDX | BPF.W | BPF.LEN), I(BPF.MISC | BPF.TXA)), 64);
  });

  it('division by X == 0 ends the program with 0 (KILL_THREAD)', () => {
    assert.equal(evaluateFilter([LDI(5), LDXI(0), ALU_X(BPF.DIV), RET(0x7fff0000)], data), 0);
  });

  it('scratch memory: ST/STX then LD/LDX', () => {
    assert.equal(runA(LDI(11), I(BPF.ST, 3), LDXI(22), I(BPF.STX, 15), LDI(0), I(BPF.LD | BPF.MEM, 3), I(BPF.LDX | BPF.MEM, 15), ALU_X(BPF.ADD)), 33);
  });

  it('conditional jumps compare unsigned, with K and X; ja skips', () => {
    const pick = (jump: SockFilter, a: number): number => evaluateFilter([LDI(a), LDXI(0x80000000), jump, RET(1), RET(2)], data);
    assert.equal(pick(I(BPF.JMP | BPF.JEQ | BPF.K, 5, 0, 1), 5), 1);
    assert.equal(pick(I(BPF.JMP | BPF.JEQ | BPF.K, 5, 0, 1), 6), 2);
    assert.equal(pick(I(BPF.JMP | BPF.JGT | BPF.K, 0x7fffffff, 0, 1), 0x80000000), 1); // unsigned
    assert.equal(pick(I(BPF.JMP | BPF.JGT | BPF.K, 5, 0, 1), 5), 2);
    assert.equal(pick(I(BPF.JMP | BPF.JGE | BPF.K, 5, 0, 1), 5), 1);
    assert.equal(pick(I(BPF.JMP | BPF.JSET | BPF.K, 0x10, 0, 1), 0x30), 1);
    assert.equal(pick(I(BPF.JMP | BPF.JSET | BPF.K, 0x10, 0, 1), 0x20), 2);
    assert.equal(pick(I(BPF.JMP | BPF.JEQ | BPF.X, 0, 0, 1), 0x80000000), 1);
    assert.equal(pick(I(BPF.JMP | BPF.JGT | BPF.X, 0, 0, 1), 0xffffffff), 1);
    assert.equal(pick(I(BPF.JMP | BPF.JGE | BPF.X, 0, 0, 1), 0x7fffffff), 2);
    assert.equal(pick(I(BPF.JMP | BPF.JSET | BPF.X, 0, 0, 1), 0x80000001), 1);
    assert.equal(evaluateFilter([I(BPF.JMP | BPF.JA, 1), RET(1), RET(2)], data), 2);
  });

  it('the verifier refuses what the kernel refuses', () => {
    const bad: [string, SockFilter[], RegExp][] = [
      ['empty', [], /length 0/],
      ['too long', new Array<SockFilter>(4097).fill(RET(0)), /4097/],
      ['misaligned load', [LD(2), RET_A], /aligned/],
      ['load past seccomp_data', [LD(64), RET_A], /out of range/],
      ['halfword load', [I(BPF.LD | BPF.H | BPF.ABS, 0), RET_A], /not allowed in seccomp/],
      ['indirect load', [I(BPF.LD | BPF.W | BPF.IND, 0), RET_A], /not allowed in seccomp/],
      ['msh', [I(BPF.LDX | BPF.B | BPF.MSH, 0), RET_A], /not allowed in seccomp/],
      ['mod (valid classic BPF, refused by seccomp)', [LDI(5), ALU_K(BPF.MOD, 3), RET_A], /not allowed in seccomp/],
      ['division by constant 0', [ALU_K(BPF.DIV, 0), RET_A], /division/],
      ['shift by 32', [ALU_K(BPF.LSH, 32), RET_A], /shift/],
      ['scratch cell 16', [I(BPF.ST, 16), RET_A], /M\[16\]/],
      ['read before write', [I(BPF.LD | BPF.MEM, 0), RET_A], /before it is written/],
      ['write on one path only', [LD(0), I(BPF.JMP | BPF.JEQ | BPF.K, 1, 0, 1), I(BPF.ST, 2), I(BPF.LD | BPF.MEM, 2), RET_A], /before it is written/],
      ['ja past the end', [I(BPF.JMP | BPF.JA, 1), RET_A], /past the end/],
      ['jeq past the end', [I(BPF.JMP | BPF.JEQ | BPF.K, 0, 1, 0), RET_A], /past the end/],
      ['last is not ret', [RET_A, LDI(0)], /not a return/],
      ['ret x', [I(BPF.RET | BPF.X)], /not classic/],
      ['unknown opcode', [I(0xff), RET_A], /not classic/],
      ['malformed field', [{ code: BPF.RET | BPF.K, jt: 256, jf: 0, k: 0 }], /malformed/],
    ];
    for (const [what, prog, re] of bad) {
      assert.throws(() => verifyFilter(prog), (e: unknown) => e instanceof BpfVerifyError && re.test(e.message), what);
      if (prog.length) assert.throws(() => evaluateFilter(prog, data), BpfVerifyError, what);
    }
    // A write on every path before the read is fine.
    verifyFilter([LD(0), I(BPF.ST, 2), I(BPF.JMP | BPF.JEQ | BPF.K, 1, 0, 1), I(BPF.ST, 2), I(BPF.LD | BPF.MEM, 2), RET_A]);
  });

  it('verify: false runs MOD (classic semantics) for completeness', () => {
    assert.equal(evaluateFilter([LDI(17), ALU_K(BPF.MOD, 5), RET_A], data, { verify: false }), 2);
    assert.equal(evaluateFilter([LDI(17), LDXI(0), ALU_X(BPF.MOD), RET_A], data, { verify: false }), 0);
  });

  it('actionOf / describeReturn decode like __seccomp_filter', () => {
    assert.deepEqual(actionOf(0x00050001), { action: 'errno', errno: 1 });
    assert.deepEqual(actionOf(0x0005ffff), { action: 'errno', errno: 4095 }); // clamped to MAX_ERRNO
    assert.deepEqual(actionOf(0x7fff0000), { action: 'allow' });
    assert.deepEqual(actionOf(0x7fff1234), { action: 'allow' });
    assert.deepEqual(actionOf(0x80000000), { action: 'kill_process' });
    assert.deepEqual(actionOf(0), { action: 'kill_thread' });
    assert.deepEqual(actionOf(0x00030007), { action: 'trap', data: 7 });
    assert.deepEqual(actionOf(0x7ff00003), { action: 'trace', data: 3 });
    assert.deepEqual(actionOf(0x7fc00000), { action: 'notify' });
    assert.deepEqual(actionOf(0x7ffc0000), { action: 'log' });
    assert.deepEqual(actionOf(0x12340000), { action: 'kill_process' }); // unknown action
    assert.equal(describeReturn(0x00050026), 'ERRNO(38)');
    assert.equal(describeReturn(0x7fc00000), 'USER_NOTIF');
    assert.equal(describeReturn(0x80000000), 'KILL_PROCESS');
    assert.equal(describeReturn(0x7fff0000), 'ALLOW');
    assert.match(describeReturn(0x12340000), /unknown action 0x12340000/);
  });
});
