// Golden plans: the whole Linux compile (resolved policy + run request → LinuxPlan, as the launcher receives
// it) for a fixed fixture tree, per profile, mode and tier. Any change to what the launcher is asked to do
// (Landlock rules, namespace mounts, rlimits, which filter, whether Landlock is required) shows up as a
// diff of these JSON files. UPDATE_GOLDEN=1 rewrites them (run the unit tests from the repository root):
// review the diff before committing it. The seccomp program is summarised by its size and digest here; its
// instructions have their own golden dumps (test/unit/seccomp/golden).
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import { compileLinuxPlan, type CompileRequest } from '../../../native/linux/compile-plan';
import { expandCarveOuts } from '../../../native/linux/carve-outs';
import type { LinuxPlan } from '../../../src/protocol/plan';
import { assertGolden } from '../fixtures/golden';
import { fakeFs } from '../fixtures/fake-fs';
import { HOME, LINUX_TREE, WS } from '../fixtures/linux-tree';

const GOLDEN_DIR = 'test/unit/native/golden';

const request = (over: Partial<CompileRequest>): CompileRequest => ({
  runId: 'run-1',
  file: `${WS}/main.py`,
  argv: ['python3', `${WS}/main.py`],
  env: { PATH: '/usr/bin:/bin', HOME, TMPDIR: '/tmp/run-1' },
  cwd: WS,
  tmpDir: '/tmp/run-1',
  toolRoots: [],
  arch: 'x86_64',
  nprocLimit: null,
  listener: true,
  namespaces: true,
  xdgConfigHome: `${HOME}/.config`,
  ...over,
});

const CASES: { file: string; input: PolicyInput; req: Partial<CompileRequest> }[] = [
  { file: 'plan-moderate-enforce-namespaces.json', input: { filesystem: { denyRead: ['secrets/**'] } }, req: {} },
  { file: 'plan-moderate-enforce-fallback.json', input: { filesystem: { denyRead: ['secrets/**'] } }, req: { namespaces: false } },
  {
    file: 'plan-strict-enforce-fallback-nolistener.json',
    input: { profile: 'strict', network: { preset: 'none' }, limits: { cpuSeconds: 30, fileSizeMiB: 64, openFiles: 256 } },
    req: { namespaces: false, listener: false, nprocLimit: 64 },
  },
  { file: 'plan-moderate-warn-namespaces.json', input: { mode: 'warn', limits: { cpuSeconds: 30 } }, req: {} },
  { file: 'plan-moderate-warn-fallback.json', input: { mode: 'warn' }, req: { namespaces: false } },
  { file: 'plan-permissive-enforce-aarch64.json', input: { profile: 'permissive', filesystem: { allowWrite: ['.git/hooks/**'] } }, req: { arch: 'aarch64' } },
  { file: 'plan-disabled.json', input: { mode: 'disabled' }, req: {} },
];

function compile(input: PolicyInput, over: Partial<CompileRequest>): LinuxPlan {
  const tree = fakeFs(LINUX_TREE);
  const policy = resolvePolicy({ user: input }, { workspace: WS, home: HOME }).policy;
  return compileLinuxPlan(policy, request(over), { expand: (rules, cuts) => expandCarveOuts(rules, cuts, tree.readdir, tree.isDir), fs: tree });
}

/** The plan as JSON, the BPF program replaced by its length and digest. */
function render(plan: LinuxPlan): string {
  const seccomp = plan.seccomp && {
    listener: plan.seccomp.listener,
    program: (() => {
      const bytes = Buffer.from(plan.seccomp.program, 'base64');
      return { instructions: bytes.length / 8, sha256: createHash('sha256').update(bytes).digest('hex').slice(0, 16) };
    })(),
  };
  return JSON.stringify({ ...plan, seccomp }, null, 2) + '\n';
}

describe('Linux plan compile: golden plans (policy + run request → LinuxPlan)', () => {
  for (const c of CASES) {
    it(c.file, () => assertGolden(GOLDEN_DIR, c.file, render(compile(c.input, c.req))));
  }

  it('the same inputs compile to the same plan (nothing in it depends on time or order of reads)', () => {
    for (const c of CASES) assert.equal(render(compile(c.input, c.req)), render(compile(c.input, c.req)), c.file);
  });

  // Checked on the plans themselves, so a regenerated golden cannot quietly lose them.
  it('enforce requires Landlock and blocks; warn keeps only the integrity set and no limit but core; disabled applies nothing', () => {
    const enforce = compile(CASES[0]!.input, {});
    assert.equal(enforce.requireLandlock, true);
    assert.ok(enforce.landlock!.scopes.includes('signal'));
    const warn = compile({ mode: 'warn', limits: { cpuSeconds: 30 } }, {});
    assert.equal(warn.requireLandlock, true, 'warn keeps the integrity set, so it needs Landlock too');
    assert.deepEqual(warn.landlock!.scopes, []);
    assert.deepEqual(warn.rlimits, [{ resource: 'core', soft: 0, hard: 0 }]);
    assert.ok(warn.landlock!.rules.some((r) => WS.startsWith(`${r.path}/`) && r.access.includes('write_file')), 'warn: the workspace is writable (blocks are reported, not made)');
    assert.ok(!enforce.landlock!.rules.some((r) => r.path === '/home/u/.bashrc' && r.access.includes('write_file')), 'enforce: no write rule on a protected rc file');
    const disabled = compile({ mode: 'disabled' }, {});
    assert.equal(disabled.landlock, null);
    assert.equal(disabled.seccomp, null);
    assert.equal(disabled.noNewPrivs, false);
    assert.equal(disabled.requireLandlock, false);
  });

  it('the namespace tier mounts .git read-only and hides the audit folder; the fallback tier has no mounts', () => {
    const ns = compile(CASES[0]!.input, {});
    assert.ok(ns.namespaces, 'namespace plan present');
    const text = JSON.stringify(ns.namespaces);
    assert.ok(text.includes(`${WS}/.git`), text);
    assert.ok(text.includes(`${WS}/.sandbox`), text);
    assert.equal(compile(CASES[0]!.input, { namespaces: false }).namespaces, null);
  });
});
