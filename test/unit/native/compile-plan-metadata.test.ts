// compileLinuxPlan's metadataLocked parameter reaches the seccomp program: by default it follows the tier
// (open in the namespace tier, where read-only mounts hold metadata; locked in the fallback tier), and true denies the metadata calls (EPERM in enforce without a supervisor, a notification with one).
import * as assert from 'node:assert/strict';
import { compileLinuxPlan, type CompileDeps, type CompileRequest } from '../../../native/linux/compile-plan';
import { AUDIT_ARCH, SECCOMP_RET_ALLOW, SECCOMP_RET_USER_NOTIF, createEvaluator, decodeFilter, syscallTable } from '../../../native/linux/seccomp';
import { resolvePolicy } from '../../../src/policy';

const CTX = { workspace: '/work/proj', home: '/home/u' };
const EPERM_RET = 0x00050001;

const req = (listener: boolean, namespaces?: boolean): CompileRequest => ({
  runId: 'r',
  file: '/usr/bin/python3',
  argv: ['python3'],
  env: {},
  cwd: CTX.workspace,
  tmpDir: '/tmp/run-r',
  toolRoots: [],
  arch: 'x86_64',
  nprocLimit: null,
  listener,
  namespaces,
});

describe('compileLinuxPlan metadataLocked', () => {
  const t = syscallTable('x86_64');
  const me = AUDIT_ARCH.x86_64;
  const run = (listener: boolean, locked?: boolean, namespaces = true) => {
    const { policy } = resolvePolicy({ run: { profile: 'moderate' } }, CTX);
    const deps: CompileDeps = { expand: (rules) => rules };
    const plan = locked === undefined ? compileLinuxPlan(policy, req(listener, namespaces), deps) : compileLinuxPlan(policy, req(listener, namespaces), deps, locked);
    return createEvaluator(decodeFilter(Buffer.from(plan.seccomp!.program, 'base64')));
  };

  it('defaults to the tier: chmod, fchown and utimensat pass in the namespace tier, are denied in the fallback tier', () => {
    const ev = run(false);
    for (const s of ['chmod', 'fchown', 'utimensat']) assert.equal(ev({ nr: t[s]!, arch: me, args: [3, 0o777] }), SECCOMP_RET_ALLOW, s);
    const fallback = run(false, undefined, false);
    for (const s of ['chmod', 'fchown', 'utimensat']) assert.equal(fallback({ nr: t[s]!, arch: me, args: [3, 0o777] }), EPERM_RET, s);
  });

  it('true: denied with EPERM by the kernel, or sent to the supervisor (which answers EPERM in enforce)', () => {
    for (const s of ['chmod', 'fchmod', 'fchownat', 'setxattr', 'utimensat', 'file_setattr']) {
      assert.equal(run(false, true)({ nr: t[s]!, arch: me, args: [3, 0o777] }), EPERM_RET, s);
      assert.equal(run(true, true)({ nr: t[s]!, arch: me, args: [3, 0o777] }), SECCOMP_RET_USER_NOTIF, s);
    }
  });

  it('SysV IPC: allowed in the namespace tier (private IPC namespace), EPERM in the fallback tier on x86_64 and aarch64', () => {
    const IPC = ['shmget', 'shmat', 'shmctl', 'shmdt', 'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'semget', 'semop', 'semtimedop', 'semctl'];
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const tab = syscallTable(arch);
      const build = (namespaces: boolean) => {
        const { policy } = resolvePolicy({ run: { profile: 'strict', network: { preset: 'none' } } }, CTX);
        const plan = compileLinuxPlan(policy, { ...req(false, namespaces), arch }, { expand: (rules) => rules });
        return createEvaluator(decodeFilter(Buffer.from(plan.seccomp!.program, 'base64')));
      };
      const ns = build(true);
      const fallback = build(false);
      for (const s of IPC) {
        assert.ok(tab[s] !== undefined, `${arch} ${s}`);
        assert.equal(ns({ nr: tab[s]!, arch: AUDIT_ARCH[arch], args: [0x1234, 0, 0] }), SECCOMP_RET_ALLOW, `${arch} ${s} namespace tier`);
        assert.equal(fallback({ nr: tab[s]!, arch: AUDIT_ARCH[arch], args: [0x1234, 0, 0] }), EPERM_RET, `${arch} ${s} fallback tier`);
      }
    }
  });
});
