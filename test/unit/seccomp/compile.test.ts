// The compiler against the meaning of its input: hand-picked cases, boundary values for every condition
// operator at both widths, programs far beyond the 8-bit jump range, and seeded random specs, each checked by
// running the compiled program in the evaluator and comparing with decideBySpec.
import { strict as assert } from 'node:assert';
import {
  AUDIT_ARCH,
  BPF,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  arg32,
  arg64,
  compileFilter,
  createEvaluator,
  decodeFilter,
  disassemble,
  encodeFilter,
  errno,
  rule,
  syscallTable,
  verifyFilter,
  type ArgCondition,
  type ArgOp,
  type FilterSpec,
  type SeccompAction,
  type SeccompArch,
  type SeccompRule,
} from '../../../native/linux/seccomp';
import { ARCHES, decideBySpec, prng, type Call } from './reference';

const EPERM = errno(1);
const ALLOW: SeccompAction = { kind: 'allow' };
const spec = (arch: SeccompArch, rules: SeccompRule[], defaultAction: SeccompAction = ALLOW): FilterSpec => ({ arch, defaultAction, rules });

/** Compiles `s` and checks every call against decideBySpec; returns the program. */
function checkAgainstSpec(s: FilterSpec, calls: Call[], label = ''): ReturnType<typeof compileFilter> {
  const prog = compileFilter(s);
  const run = createEvaluator(prog);
  for (const c of calls) {
    const got = run(c);
    const want = decideBySpec(s, c);
    if (got !== want) {
      assert.fail(`${label} ${s.arch} nr=${c.nr} args=[${(c.args ?? []).map((a) => '0x' + BigInt.asUintN(64, BigInt(a)).toString(16)).join(', ')}]: program returns 0x${got.toString(16)}, spec says 0x${want.toString(16)}`);
    }
  }
  return prog;
}

/** Values around `v` at 64 bits: itself, ±1, with the other word changed, all ones, zero. */
function around(v: bigint, mask: bigint): bigint[] {
  const u = (x: bigint): bigint => BigInt.asUintN(64, x);
  return [v, u(v + 1n), u(v - 1n), v ^ (1n << 32n), v ^ 1n, v ^ (1n << 63n), u(v | mask), u(v & ~mask), u(~v), 0n, 0xffffffffffffffffn, 0xffffffffn, 0x100000000n, v & 0xffffffffn, (v & 0xffffffffn) | (0xdeadbeefn << 32n)];
}

describe('seccomp compiler', () => {
  it('encodes sock_filter as u16 code, u8 jt, u8 jf, u32 k little-endian', () => {
    const prog = [
      { code: 0x15, jt: 1, jf: 2, k: 0xc000003e },
      { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
    ];
    const buf = encodeFilter(prog);
    assert.equal(buf.toString('hex'), '150001023e0000c0' + '060000000000ff7f');
    assert.deepEqual(decodeFilter(buf), prog);
    assert.throws(() => encodeFilter([{ code: 0x10000, jt: 0, jf: 0, k: 0 }]), /not a valid sock_filter/);
    assert.throws(() => decodeFilter(Buffer.alloc(7)), /whole number/);
  });

  for (const arch of ARCHES) {
    describe(arch, () => {
      const t = syscallTable(arch);
      const me = AUDIT_ARCH[arch];

      it('kills any other ABI, whatever the syscall', () => {
        const prog = compileFilter(spec(arch, [rule('getpid', EPERM, 'test')]));
        const run = createEvaluator(prog);
        for (const foreign of [0x40000003 /* i386 */, 0x40000028 /* arm */, AUDIT_ARCH[arch === 'x86_64' ? 'aarch64' : 'x86_64'], 0, 0xffffffff]) {
          for (const nr of [0, t.getpid!, 0xffffffff]) assert.equal(run({ nr, arch: foreign }), SECCOMP_RET_KILL_PROCESS);
        }
        assert.equal(run({ nr: t.getpid!, arch: me }), 0x00050001);
        assert.equal(run({ nr: t.read!, arch: me }), SECCOMP_RET_ALLOW);
      });

      it(arch === 'x86_64' ? 'kills x32 numbers (bit 30), exempting -1' : 'has no x32 check', () => {
        const run = createEvaluator(compileFilter(spec(arch, [rule('getpid', EPERM, 'test')])));
        const x32 = arch === 'x86_64' ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ALLOW;
        assert.equal(run({ nr: 0x40000000 | 1, arch: me }), x32);
        assert.equal(run({ nr: 0x40000000 | t.getpid!, arch: me }), x32);
        assert.equal(run({ nr: 0x7fffffff, arch: me }), x32);
        assert.equal(run({ nr: 0x80000000, arch: me }), x32);
        assert.equal(run({ nr: 0x3fffffff, arch: me }), SECCOMP_RET_ALLOW);
        assert.equal(run({ nr: -1, arch: me }), SECCOMP_RET_ALLOW);
      });

      it('every operator at both widths, on boundary values', () => {
        const ops: ArgOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'masked-any', 'masked-eq'];
        const values64 = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000005n, 0xfffffffe00000001n, 0xffffffffffffffffn, 0x8000000000000000n];
        const masks64 = [1n, 0xfn, 0xffffffffn, 0xffffffff00000000n, 0x8000000000000001n, 0xffffffffffffffffn, 0x7e020000n];
        const syscalls = ['getpid', 'getppid', 'getuid', 'geteuid', 'getgid', 'getegid', 'gettid', 'sched_yield'].filter((n) => t[n] !== undefined);
        let s = 0;
        for (const width of [32, 64] as const) {
          for (const op of ops) {
            const conds: ArgCondition[] = [];
            const fit = (v: bigint): bigint => BigInt.asUintN(width, v);
            const masks = masks64.map(fit).filter((m) => m !== 0n);
            if (op === 'masked-any') for (const m of masks) conds.push({ arg: 1, op, value: 0, mask: m, width });
            else if (op === 'masked-eq') for (const m of masks) conds.push({ arg: 1, op, value: m & 0x8000000100000001n, mask: m, width });
            else for (const v of values64) conds.push({ arg: 1, op, value: fit(v), width });
            for (const c of conds) {
              const name = syscalls[s++ % syscalls.length]!;
              const rules = [rule(name, EPERM, 'test', [c])];
              const calls: Call[] = around(BigInt(c.op === 'masked-any' ? c.mask! : c.value), BigInt(c.mask ?? 0)).map((v) => ({ nr: t[name]!, arch: me, args: [0, v] }));
              checkAgainstSpec(spec(arch, rules), calls, `${op}/${width} ${JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}`);
            }
          }
        }
      });

      it('a 64-bit eq does not match when only the high word differs; a 32-bit eq ignores the high word', () => {
        const run = createEvaluator(
          compileFilter(spec(arch, [rule('getpid', EPERM, 'test', [arg64(0).eq(0x100000005n)]), rule('getppid', EPERM, 'test', [arg32(0).eq(5)])])),
        );
        const call = (name: string, a: bigint): number => run({ nr: t[name]!, arch: me, args: [a] });
        assert.equal(call('getpid', 0x100000005n), 0x00050001);
        assert.equal(call('getpid', 0x200000005n), SECCOMP_RET_ALLOW);
        assert.equal(call('getpid', 0x5n), SECCOMP_RET_ALLOW);
        assert.equal(call('getpid', 0x100000006n), SECCOMP_RET_ALLOW);
        assert.equal(call('getppid', 5n), 0x00050001);
        assert.equal(call('getppid', 0xffffffff00000005n), 0x00050001);
        assert.equal(call('getppid', 6n), SECCOMP_RET_ALLOW);
      });

      it('first matching rule wins; a rule after an unconditional one is dead; conditions are ANDed', () => {
        const s = spec(arch, [
          rule('getpid', { kind: 'allow' }, 'allow 1', [arg32(0).eq(1)]),
          rule('getpid', errno(13), 'and', [arg32(0).ge(10), arg32(0).lt(20), arg64(1).ne(0)]),
          rule('getpid', errno(2), 'catch-all'),
          rule('getpid', errno(3), 'dead'),
          rule('getuid', { kind: 'kill' }, 'kill'),
        ], errno(99));
        const calls: Call[] = [];
        for (const a0 of [0, 1, 9, 10, 15, 19, 20]) for (const a1 of [0n, 1n, 1n << 40n]) calls.push({ nr: t.getpid!, arch: me, args: [a0, a1] });
        calls.push({ nr: t.getuid!, arch: me }, { nr: t.read!, arch: me });
        checkAgainstSpec(s, calls);
        const run = createEvaluator(compileFilter(s));
        assert.equal(run({ nr: t.getpid!, arch: me, args: [1] }), SECCOMP_RET_ALLOW);
        assert.equal(run({ nr: t.getpid!, arch: me, args: [15, 1n << 40n] }), 0x0005000d);
        assert.equal(run({ nr: t.getpid!, arch: me, args: [15, 0] }), 0x00050002);
        assert.equal(run({ nr: t.read!, arch: me }), 0x00050063);
      });

      it('skips rules for syscalls the arch lacks; refuses names no arch has', () => {
        const s = spec(arch, [rule('open', EPERM, 'x86_64 only'), rule('renameat', EPERM, 'both'), rule('vm86', EPERM, 'i386 only')]);
        const run = createEvaluator(compileFilter(s));
        // On aarch64, 2 is io_submit: an x86_64-only rule must not leak onto whatever has its number here.
        assert.equal(run({ nr: 2, arch: me }), arch === 'x86_64' ? 0x00050001 : SECCOMP_RET_ALLOW);
        assert.equal(run({ nr: t.renameat!, arch: me }), 0x00050001);
        assert.throws(() => compileFilter(spec(arch, [rule('opne', EPERM, 'typo')])), /unknown syscall "opne"/);
      });

      it('handles programs far beyond the 8-bit jump range (trampolines), with every decision intact', () => {
        const names = Object.keys(t).filter((n) => !['read', 'write', 'exit_group'].includes(n));
        const r = prng(arch === 'x86_64' ? 1 : 2);
        const rules: SeccompRule[] = [];
        for (const n of names) {
          if (r.chance(0.15)) rules.push(rule(n, errno(1 + r.int(100)), 'cond', [arg32(0).eq(r.int(4)), arg64(1).ge(BigInt(r.int(3)) << 32n)]));
          rules.push(rule(n, r.pick([EPERM, errno(13), { kind: 'kill' }, { kind: 'notify' }, { kind: 'log' }] as SeccompAction[]), 'all'));
        }
        const s = spec(arch, rules);
        const calls: Call[] = [];
        for (const nr of [...Object.values(t), 471, 500, 1000]) for (const args of [[0, 0n], [1, 1n << 32n], [2, 3n << 32n], [3, 2n << 32n]]) calls.push({ nr, arch: me, args });
        const prog = checkAgainstSpec(s, calls);
        assert.ok(prog.length > 1000, `${prog.length} instructions`);
        assert.ok(prog.some((i) => i.code === (BPF.JMP | BPF.JA)), 'long jumps were needed and emitted');
      });

      it('refuses programs over 4096 instructions with a clear error', () => {
        const rules = Object.keys(t).flatMap((n) => [0, 1, 2, 3].map((i) => rule(n, EPERM, 'big', [arg64(i as 0 | 1 | 2 | 3).ne(BigInt(i) << 33n)])));
        assert.throws(() => compileFilter(spec(arch, rules)), /needs \d+ instructions, more than the kernel's limit of 4096/);
      });

      it('matches decideBySpec on seeded random specs', () => {
        const names = Object.keys(t);
        const ops: ArgOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'masked-any', 'masked-eq'];
        const interesting = [0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0x8000000000000000n];
        const actions: SeccompAction[] = [ALLOW, EPERM, errno(4095), errno(0), { kind: 'kill' }, { kind: 'trap' }, { kind: 'notify' }, { kind: 'log' }];
        let sawTrampoline = false;
        for (let seed = 1; seed <= 60; seed++) {
          const r = prng(seed * 7919 + (arch === 'x86_64' ? 0 : 1));
          const value = (): bigint => (r.chance(0.5) ? r.pick(interesting) : r.chance(0.5) ? BigInt(r.u32()) : r.u64());
          const syscalls = Array.from({ length: 1 + r.int(seed % 5 === 0 ? 120 : 25) }, () => r.pick(names));
          const rules: SeccompRule[] = [];
          for (const n of syscalls) {
            for (let k = r.int(4); k >= 0; k--) {
              const when: ArgCondition[] = [];
              for (let c = r.int(4); c > 0; c--) {
                const width = r.chance(0.5) ? 32 : 64;
                const fit = (v: bigint): bigint => BigInt.asUintN(width, v);
                const op = r.pick(ops);
                const arg = r.int(6) as 0 | 1 | 2 | 3 | 4 | 5;
                if (op === 'masked-any' || op === 'masked-eq') {
                  const mask = fit(value()) || 1n;
                  when.push({ arg, op, mask, value: op === 'masked-eq' ? value() & mask : 0, width });
                } else when.push({ arg, op, value: fit(value()), width });
              }
              rules.push(rule(n, r.pick(actions), `r${k}`, when));
            }
          }
          const s = spec(arch, rules, r.pick(actions));
          const calls: Call[] = [];
          for (const rl of rules) {
            for (let i = 0; i < 12; i++) {
              const args = Array.from({ length: 6 }, (_, ai) => {
                const c = rl.when?.find((w) => w.arg === ai);
                if (c && r.chance(0.8)) return r.pick(around(BigInt(c.op === 'masked-any' ? c.mask! : c.value), BigInt(c.mask ?? 0)));
                return value();
              });
              calls.push({ nr: t[rl.syscall]!, arch: me, args });
            }
          }
          calls.push({ nr: t.read!, arch: me }, { nr: 999, arch: me }, { nr: t.read!, arch: 0x40000003 });
          const prog = checkAgainstSpec(s, calls, `seed ${seed}`);
          sawTrampoline ||= prog.some((i) => i.code === (BPF.JMP | BPF.JA));
        }
        assert.ok(sawTrampoline, 'some random programs needed long jumps');
      });
    });
  }

  it('validates conditions and actions', () => {
    const bad: [ArgCondition, RegExp][] = [
      [{ arg: 0, op: 'masked-any', value: 0, mask: 0, width: 32 }, /zero mask/],
      [{ arg: 0, op: 'masked-eq', value: 0x10, mask: 0x0f, width: 32 }, /outside mask/],
      [{ arg: 0, op: 'eq', value: 0x100000000, width: 32 }, /does not fit in 32 bits/],
      [{ arg: 0, op: 'eq', value: 1n << 64n, width: 64 }, /does not fit in 64 bits/],
      [{ arg: 0, op: 'eq', value: 2 ** 53, width: 64 }, /safe integer/],
      [{ arg: 0, op: 'masked-any', value: 0, width: 32 }, /needs a mask/],
      [{ arg: 0, op: 'eq', value: 0, mask: 1, width: 32 }, /takes no mask/],
      [{ arg: 6 as 0, op: 'eq', value: 0, width: 32 }, /0\.\.5/],
      [{ arg: 0, op: 'eq', value: 0, width: 16 as 32 }, /width/],
    ];
    for (const [c, re] of bad) assert.throws(() => compileFilter(spec('x86_64', [rule('getpid', EPERM, 'test', [c])])), re, JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    assert.throws(() => compileFilter(spec('x86_64', [rule('getpid', errno(4096), 'test')])), /errno 4096/);
    assert.throws(() => compileFilter(spec('x86_64', [rule('getpid', EPERM, '  ')])), /reason is required/);
    assert.throws(() => compileFilter({ arch: 'mips' as SeccompArch, defaultAction: ALLOW, rules: [] }), /unsupported seccomp arch/);
    // Negative values are two's complement at the condition's width.
    const run = createEvaluator(compileFilter(spec('x86_64', [rule('openat', EPERM, 'AT_FDCWD', [arg32(0).eq(-100)])])));
    assert.equal(run({ nr: 257, arch: AUDIT_ARCH.x86_64, args: [0xffffff9cn] }), 0x00050001);
    assert.equal(run({ nr: 257, arch: AUDIT_ARCH.x86_64, args: [-100] }), 0x00050001);
  });

  it('an empty spec is the arch check and the default', () => {
    const prog = compileFilter(spec('aarch64', [], errno(38)));
    verifyFilter(prog);
    assert.equal(prog.length, 5);
    assert.equal(createEvaluator(prog)({ nr: 63, arch: AUDIT_ARCH.aarch64 }), 0x00050026);
  });

  it('disassembles one stable, annotated line per instruction', () => {
    const prog = compileFilter(spec('x86_64', [rule('ptrace', EPERM, 't'), rule('ioctl', EPERM, 't', [arg32(1).eq(0x5412)])]));
    const text = disassemble(prog);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, prog.length);
    assert.equal(disassemble(prog), text);
    assert.match(lines[0]!, /^0000  ld   \[4\] +; arch$/);
    assert.match(text, /jeq  #0x65 .*; ptrace/);
    assert.match(text, /ld   \[24\] +; args\[1\]\.lo/);
    assert.match(text, /ret  #0x50001 +; ERRNO\(1\)/);
    // Without an arch check in the program, nothing can be named; the arch option supplies it.
    const bare = [{ code: BPF.LD | BPF.W | BPF.ABS, jt: 0, jf: 0, k: 0 }, { code: BPF.JMP | BPF.JEQ | BPF.K, jt: 0, jf: 1, k: 56 }, { code: 6, jt: 0, jf: 0, k: 0 }, { code: 6, jt: 0, jf: 0, k: 0x7fff0000 }];
    assert.doesNotMatch(disassemble(bare), /clone|openat/);
    assert.match(disassemble(bare, { arch: 'x86_64' }), /; clone/);
    assert.match(disassemble(bare, { arch: 'aarch64' }), /; openat/);
  });
});
