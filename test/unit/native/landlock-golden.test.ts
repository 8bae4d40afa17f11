// Golden dumps of the compiled Landlock rules for a fixed fixture tree: the filesystem model's grants,
// expanded around their carve-outs as the launcher does. Any change to what the kernel is asked to grant
// shows up as a reviewed diff. UPDATE_GOLDEN=1 rewrites them (run from the repository root).
import { strict as assert } from 'node:assert';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import type { FsTier } from '../../../src/policy/fs-model-types';
import { landlockGrants, landlockPlan, runFsModel } from '../../../native/linux/compile-plan';
import { grantsAllow, modelAllows } from '../../../src/policy/grants-allow';
import { expandCarveOuts } from '../../../native/linux/carve-outs';
import type { LandlockRule } from '../../../src/protocol/plan';
import { assertGolden } from '../fixtures/golden';
import { fakeFs } from '../fixtures/fake-fs';
import { HOME, LINUX_TREE as FILES, WS } from '../fixtures/linux-tree';

const GOLDEN_DIR = 'test/unit/native/golden';

function tree() {
  const modelFs = fakeFs(FILES);
  return { modelFs, readdir: modelFs.readdir, isDir: modelFs.isDir };
}

function dump(rules: LandlockRule[]): string {
  const byPath = new Map<string, Set<string>>();
  for (const r of rules) {
    const s = byPath.get(r.path) ?? new Set<string>();
    for (const a of r.access) s.add(a);
    byPath.set(r.path, s);
  }
  return (
    [...byPath.keys()]
      .sort()
      .map((p) => `${JSON.stringify(p)} ${[...byPath.get(p)!].sort().join(',')}`)
      .join('\n') + '\n'
  );
}

const CASES: { file: string; input: PolicyInput; tier: FsTier }[] = [
  { file: 'landlock-moderate-namespaces.txt', input: { filesystem: { denyRead: ['secrets/**'] } }, tier: 'namespaces' },
  { file: 'landlock-moderate-fallback.txt', input: { filesystem: { denyRead: ['secrets/**'] } }, tier: 'fallback' },
  { file: 'landlock-strict-fallback.txt', input: { profile: 'strict', filesystem: { allowRead: ['~/.ssh/*.pub', '~/notes.txt'], denyWrite: ['*.py'] } }, tier: 'fallback' },
  { file: 'landlock-permissive-namespaces.txt', input: { profile: 'permissive', filesystem: { allowWrite: ['.git/hooks/**'] } }, tier: 'namespaces' },
];

describe('Landlock golden dumps (filesystem model → rules)', () => {
  for (const c of CASES) {
    it(c.file, () => {
      const t = tree();
      const policy = resolvePolicy({ user: c.input }, { workspace: WS, home: HOME }).policy;
      const grants = landlockGrants(policy, { tmpDir: '/tmp/run-1', toolRoots: [], file: `${WS}/main.py`, namespaces: c.tier === 'namespaces', listener: true }, t.modelFs);
      const plan = landlockPlan(grants, (rules, cuts) => expandCarveOuts(rules, cuts, t.readdir, t.isDir), ['abstract_unix_socket', 'signal']);
      const text = dump(plan.rules);
      assertGolden(GOLDEN_DIR, c.file, text);
    });
  }
});

describe('runFsModel: the tier decides who holds the protected paths', () => {
  const policy = (input: Record<string, unknown> = {}) => resolvePolicy({ user: { filesystem: { denyRead: ['secrets/**'] }, ...input } }, { workspace: WS, home: HOME }).policy;
  const base = { tmpDir: '/tmp/run-1', toolRoots: [], file: `${WS}/main.py`, listener: true };

  it('namespace tier: denyRead stays a Landlock carve-out; .git and .vscode are left to the read-only mounts', () => {
    const m = runFsModel(policy(), { ...base, namespaces: true }, tree().modelFs);
    assert.equal(m.tier, 'namespaces');
    assert.equal(modelAllows(m, `${WS}/secrets/key`, 'read'), false, 'hidden by a mount');
    assert.equal(grantsAllow(m.grants, `${WS}/.git/hooks/x`, 'write'), true, 'Landlock leaves it to the mount');
    assert.equal(modelAllows(m, `${WS}/.git/hooks/x`, 'write'), false, 'the read-only mount holds it');
    assert.equal(modelAllows(m, `${WS}/.git/objects/cc`, 'write', false), true);
  });

  it('namespace tier: a protected path the mounts cannot cover (missing, outside the workspace) stays a carve-out', () => {
    const m = runFsModel(policy({ profile: 'permissive' }), { ...base, namespaces: true }, tree().modelFs);
    assert.equal(grantsAllow(m.grants, `${HOME}/.bashrc`, 'write'), true, 'exists: the read-only mount holds it');
    assert.equal(grantsAllow(m.grants, `${HOME}/.zshrc`, 'write', false), false, 'missing: no mount, so Landlock');
    assert.equal(grantsAllow(m.grants, `${HOME}/.config/autostart/x.desktop`, 'write', false), false);
  });

  it('fallback tier: every protected path is a carve-out, with or without a supervisor', () => {
    for (const listener of [true, false]) {
      const m = runFsModel(policy(), { ...base, listener }, tree().modelFs);
      assert.equal(m.tier, 'fallback');
      assert.equal(grantsAllow(m.grants, `${WS}/.git/hooks/x`, 'write'), false);
      assert.equal(grantsAllow(m.grants, `${WS}/.sandbox/audit.jsonl`, 'read'), false);
    }
  });
});
