// Deny globs and names made during the run: the directories where a new match could appear are carved in
// both tiers (globNewNameCuts), so Landlock grants no create (or, for denyRead, read) right on new names
// there and the supervisor decides them by performing the call (src/host/linux/supervisor-emulate.ts).
import * as assert from 'node:assert/strict';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import { grantsAllow, modelAllows } from '../../../src/policy/grants-allow';
import { buildFsModel } from '../../../src/policy/fs-model';
import { globMayMatchBelow, globNewNameCuts } from '../../../src/policy/glob-kernel-paths';
import { carvedDirs } from '../../../src/host/linux/supervisor-emulate';
import { wayOf } from '../../../src/host/linux/supervisor-emulate-globs';
import { fakeFs } from '../fixtures/fake-fs';
import { expandCarveOuts } from '../../../native/linux/carve-outs';
import { landlockPlan } from '../../../native/linux/compile-plan';

const WS = '/work/proj';
const HOME = '/home/u';
const pol = (user: PolicyInput) => resolvePolicy({ user }, { workspace: WS, home: HOME }).policy;
const req = { tmpDir: '/tmp/run-1', toolRoots: [], file: `${WS}/script.sh`, tier: 'namespaces' as const };

describe('policy: deny globs keep names made during the run', () => {
  it('globNewNameCuts: the prefix (existing or not) and each directory that could hold a match; none for a subtree glob', () => {
    const tree = fakeFs({ [`${WS}/data/a.key`]: '', [`${WS}/data/sub/b.txt`]: '', [`${WS}/other/c.key`]: '' });
    assert.deepEqual(globNewNameCuts(`${WS}/data/*.key`, tree), [`${WS}/data/*.key`]);
    assert.deepEqual(globNewNameCuts(`${WS}/data/**/*.key`, tree), [`${WS}/data/**`, `${WS}/data/sub/*.key`]);
    assert.deepEqual(globNewNameCuts(`${WS}/missing/*.key`, tree), [`${WS}/missing/*.key`]);
    assert.deepEqual(globNewNameCuts(`${WS}/*/x/*.key`, tree), [`${WS}/*`, `${WS}/data/x`, `${WS}/other/x`]);
    assert.deepEqual(globNewNameCuts(`${WS}/secrets/**`, tree), []);
    assert.deepEqual(globNewNameCuts(`${WS}/data/a.key`, tree), []);
    assert.equal(globNewNameCuts(`${WS}/data/**/*.key`, tree, 1), null, 'over the budget: the whole prefix is denied instead');
  });

  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`denyWrite data/*.key (${tier}): data and its ancestors in the grant are carved, existing names stay writable, new ones have no rule`, () => {
      const tree = fakeFs({ [`${WS}/data/a.key`]: '', [`${WS}/data/b.txt`]: '', [`${WS}/top.txt`]: '' });
      const m = buildFsModel(pol({ filesystem: { denyWrite: ['data/*.key'] } }), { ...req, tier }, tree);
      assert.equal(grantsAllow(m.grants, `${WS}/data/b.txt`, 'write'), true);
      assert.equal(grantsAllow(m.grants, `${WS}/data/new.key`, 'write', false), false, 'a new name in data has no Landlock right');
      assert.equal(grantsAllow(m.grants, `${WS}/data/new.txt`, 'write', false), false, 'any new name: the supervisor decides it');
      assert.equal(grantsAllow(m.grants, `${WS}/data/new.txt`, 'read', false), true, 'reading is not carved for a write glob');
      const carved = carvedDirs(m);
      assert.ok(carved.has(`${WS}/data`) && carved.has(WS), [...carved].join(' '));
    });

    it(`denyRead secrets/*.pem (${tier}): new names in secrets have no read right, existing non-matching ones keep theirs`, () => {
      const tree = fakeFs({ [`${WS}/secrets/a.pem`]: '', [`${WS}/secrets/b.txt`]: '' });
      const m = buildFsModel(pol({ filesystem: { denyRead: ['secrets/*.pem'] } }), { ...req, tier }, tree);
      assert.equal(modelAllows(m, `${WS}/secrets/a.pem`, 'read'), false, 'a match at the start: a carve-out, or a hidden mount');
      assert.equal(grantsAllow(m.grants, `${WS}/secrets/b.txt`, 'read'), true);
      assert.equal(grantsAllow(m.grants, `${WS}/secrets/new.pem`, 'read', false), false);
      assert.equal(grantsAllow(m.grants, `${WS}/secrets/new.pem`, 'write', false), false);
    });
  }

  it('a subtree deny glob carves nothing new: its prefix is kept whole', () => {
    const tree = fakeFs({ [`${WS}/secrets/a.pem`]: '', [`${WS}/x.txt`]: '' });
    const m = buildFsModel(pol({ filesystem: { denyWrite: ['secrets/**'] } }), req, tree);
    assert.equal(grantsAllow(m.grants, `${WS}/new.txt`, 'write', false), true, 'the workspace root is not carved in the namespace tier');
  });

  it('the way of a glob: folders a match could be below, not names that cannot lead to one', () => {
    const g = `${WS}/data/*.key`;
    assert.equal(globMayMatchBelow(`${WS}/data`, g), true);
    assert.equal(globMayMatchBelow(WS, g), true);
    assert.equal(globMayMatchBelow(`${WS}/other`, g), false);
    assert.equal(wayOf(`${WS}/data`, [g]), g);
    assert.equal(wayOf(`${WS}/data/x.txt`, [g]), null);
    assert.equal(wayOf(`${WS}/data/x.key`, [g]), null, 'a match is decided as one, not as the way');
    assert.equal(wayOf(`${WS}/data/sub`, [`${WS}/data/**/*.key`]), `${WS}/data/**/*.key`);
  });

  // A Landlock rule on a file follows its inode through a rename made outside the run (data/draft.txt moved
  // to data/new.key): so files in a deny glob's folders get no rule of their own; subfolders keep theirs, less
  // the rights the glob denies (glob-entry-rules.test.ts).
  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`denyWrite data/*.key and denyRead secrets/*.pem (${tier}): no Landlock rule on a file in their folders`, () => {
      const files = [`${WS}/data/a.key`, `${WS}/data/draft.txt`, `${WS}/data/sub/b.txt`, `${WS}/secrets/draft.txt`, `${WS}/top.txt`];
      const tree = fakeFs(Object.fromEntries(files.map((f) => [f, ''])));
      const m = buildFsModel(pol({ filesystem: { denyWrite: ['data/*.key'], denyRead: ['secrets/*.pem'] } }), { ...req, tier }, tree);
      const write = m.grants.find((g) => g.paths.includes(WS) && g.access.includes('write_file'))!;
      const read = m.grants.find((g) => g.paths.some((root) => root === '/' || `${WS}/`.startsWith(`${root}/`)) && !g.access.includes('write_file'))!;
      assert.deepEqual(write.noFileRules?.sort(), [`${WS}/data`, `${WS}/secrets`]);
      assert.deepEqual(read.noFileRules, [`${WS}/secrets`], 'reads are carved for the read glob only');
      const dirs = new Set([WS, `${WS}/data`, `${WS}/data/sub`, `${WS}/secrets`]);
      const readdir = (d: string) => tree.readdir(d);
      const plan = landlockPlan(m.grants, (rules, cuts, noFile, without) => expandCarveOuts(rules, cuts, readdir, (p) => dirs.has(p), undefined, noFile, without), []);
      const ruled = (p: string, right: string) => plan.rules.some((r) => r.path === p && r.access.includes(right as never));
      for (const f of [`${WS}/data/draft.txt`, `${WS}/secrets/draft.txt`]) assert.equal(ruled(f, 'write_file'), false, `${f} has a write rule of its own`);
      assert.equal(ruled(`${WS}/secrets/draft.txt`, 'read_file'), false, 'a file in the read glob\'s folder has a read rule of its own');
      // A subfolder keeps a rule, without the rights the glob denies (the rule would follow it onto the glob).
      assert.equal(ruled(`${WS}/data/sub`, 'read_file'), true, 'a subfolder not on the glob\'s way keeps its rule');
      assert.equal(ruled(`${WS}/data/sub`, 'write_file'), false, 'a subfolder in a denyWrite glob\'s folder keeps its write rights');
      assert.equal(ruled(`${WS}/top.txt`, 'write_file'), true, 'files elsewhere in the workspace root keep theirs');
    });
  }

  it('a glob at the workspace root (*.key): the root is the glob\'s folder, its files lose their own rules; a protected subtree\'s parent alone does not', () => {
    const tree = fakeFs({ [`${WS}/a.txt`]: '', [`${WS}/.git/config`]: '', [`${WS}/src/b.txt`]: '' });
    const root = buildFsModel(pol({ filesystem: { denyWrite: ['*.key'] } }), { ...req, tier: 'fallback' }, tree);
    assert.deepEqual(root.grants.find((g) => g.paths.includes(WS))?.noFileRules, [WS]);
    const plain = buildFsModel(pol({}), { ...req, tier: 'fallback' }, tree);
    assert.ok(plain.grants.every((g) => g.noFileRules === undefined), 'the fallback tier carves the root for .git, but keeps its files\' rules');
  });
});
