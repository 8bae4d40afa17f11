// A folder directly in a deny glob's folder (`data/sub` for `data/*.key`) keeps a Landlock rule only without
// the rights the glob denies (Grant entryDirsWithout): the rule follows the folder's inode through a rename
// made outside the run onto the glob. Below it the supervisor performs those calls (inGlobEntry). A policy
// without a non-subtree deny glob compiles to the same plan as before.
import * as assert from 'node:assert/strict';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import { buildFsModel } from '../../../src/policy/fs-model';
import { READ_RIGHTS, RW_RIGHTS, WRITE_RIGHTS } from '../../../src/policy/fs-model-types';
import { inGlobEntry } from '../../../src/host/linux/supervisor-emulate-globs';
import { expandCarveOuts } from '../../../native/linux/carve-outs';
import { compileLinuxPlan, landlockPlan, type CompileRequest } from '../../../native/linux/compile-plan';
import { fakeFs } from '../fixtures/fake-fs';
import { HOME as TREE_HOME, LINUX_TREE, WS as TREE_WS } from '../fixtures/linux-tree';

const WS = '/work/proj';
const HOME = '/home/u';
const pol = (user: PolicyInput, ws = WS, home = HOME) => resolvePolicy({ user }, { workspace: ws, home }).policy;
const req = { tmpDir: '/tmp/run-1', toolRoots: [], file: `${WS}/script.sh` };
const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort();

describe('deny globs: rules on folders in a glob\'s folder', () => {
  const files = [`${WS}/data/a.key`, `${WS}/data/draft.txt`, `${WS}/data/sub/b.txt`, `${WS}/data/sub/deep/c.txt`, `${WS}/secrets/sub/s.txt`, `${WS}/src/x.txt`];
  const tree = fakeFs(Object.fromEntries(files.map((f) => [f, ''])));
  const policy = pol({ filesystem: { denyWrite: ['data/*.key'], denyRead: ['secrets/*.pem'] } });

  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`the model says what each glob folder's subfolders lose: denyWrite the write rights, denyRead every right (${tier})`, () => {
      const m = buildFsModel(policy, { ...req, tier }, tree);
      const write = m.grants.find((g) => g.paths.includes(WS) && g.access.includes('write_file'))!;
      const read = m.grants.find((g) => g.paths.some((root) => root === '/' || `${WS}/`.startsWith(`${root}/`)) && !g.access.includes('write_file'))!;
      assert.deepEqual(sorted(write.entryDirsWithout?.[`${WS}/data`]), sorted(WRITE_RIGHTS));
      assert.deepEqual(sorted(write.entryDirsWithout?.[`${WS}/secrets`]), sorted(RW_RIGHTS));
      assert.deepEqual(Object.keys(read.entryDirsWithout ?? {}), [`${WS}/secrets`], 'a denyWrite glob takes nothing from the read grant');
      assert.deepEqual(sorted(read.entryDirsWithout?.[`${WS}/secrets`]), sorted(READ_RIGHTS));

      const isDir = (p: string) => tree.isDir(p);
      const plan = landlockPlan(m.grants, (rules, cuts, noFile, without) => expandCarveOuts(rules, cuts, tree.readdir, isDir, undefined, noFile, without), []);
      const rights = (p: string) => new Set(plan.rules.filter((r) => r.path === p).flatMap((r) => r.access));
      const sub = rights(`${WS}/data/sub`);
      for (const w of WRITE_RIGHTS) assert.equal(sub.has(w), false, `data/sub keeps ${w}`);
      // Reads and exec stay the kernel's below data/sub (the workspace's read rule may cover them instead).
      assert.ok(['execute', 'read_file', 'read_dir'].every((r) => sub.has(r as never) || plan.rules.some((x) => x.path === WS && x.access.includes(r as never))));
      assert.equal(rights(`${WS}/secrets/sub`).size, 0, 'secrets/sub has a rule');
      assert.equal(plan.rules.some((r) => r.path.startsWith(`${WS}/data/sub/`) || r.path.startsWith(`${WS}/secrets/sub/`)), false, 'a rule below a glob folder entry');
      assert.ok(rights(`${WS}/src`).has('write_file'), 'folders elsewhere keep their rules');
    });
  }

  it('expandCarveOuts: a subfolder of a listed folder loses the listed rights; a rule left with none is not emitted', () => {
    const t = fakeFs({ '/r/g/sub/f': '', '/r/g/f': '', '/r/h/sub/f': '', '/r/other/f': '' });
    const out = expandCarveOuts([{ path: '/r', access: ['read_file', 'write_file', 'make_reg'] }], ['/r/g/*.key', '/r/h/*.pem'], t.readdir, t.isDir, undefined, ['/r/g', '/r/h'], {
      '/r/g': ['write_file', 'make_reg'],
      '/r/h': ['read_file', 'write_file', 'make_reg'],
    });
    assert.deepEqual(out, [
      { path: '/r/g/sub', access: ['read_file'] },
      { path: '/r/other', access: ['read_file', 'write_file', 'make_reg'] },
    ]);
  });

  it('inGlobEntry: an entry of a glob folder and what is below it, for the globs that deny the access', () => {
    const r = { policy, fileTier: 'fallback' as const };
    assert.equal(inGlobEntry(r, `${WS}/data/sub`, 'write'), true);
    assert.equal(inGlobEntry(r, `${WS}/data/sub/deep/c.txt`, 'write'), true);
    assert.equal(inGlobEntry(r, `${WS}/data/x.key/f`, 'write'), true, 'below a match: the decision refuses it');
    assert.equal(inGlobEntry(r, `${WS}/data/sub/b.txt`, 'read'), false, 'a denyWrite glob leaves reads to the kernel');
    assert.equal(inGlobEntry(r, `${WS}/secrets/sub/s.txt`, 'read'), true);
    assert.equal(inGlobEntry(r, `${WS}/secrets/sub/s.txt`, 'write'), true, 'a denyRead glob denies writing too');
    assert.equal(inGlobEntry(r, `${WS}/data`, 'write'), false, 'the glob folder itself is carved, not an entry');
    assert.equal(inGlobEntry(r, `${WS}/src/x.txt`, 'write'), false);
    assert.equal(inGlobEntry(r, WS, 'write'), false);
    const nested = { policy: pol({ filesystem: { denyWrite: ['data/*/x.key'] } }), fileTier: 'namespaces' as const };
    assert.equal(inGlobEntry(nested, `${WS}/data/sub/deep/f`, 'write'), true, 'data/sub is a glob folder: deep is its entry');
    assert.equal(inGlobEntry(nested, `${WS}/data/sub/f`, 'write'), true);
    const subtree = { policy: pol({ filesystem: { denyWrite: ['data/**'] } }), fileTier: 'namespaces' as const };
    assert.equal(inGlobEntry(subtree, `${WS}/data/sub/f`, 'write'), false, 'a subtree glob is the kernel\'s whole');
  });
});

describe('deny globs: a policy without a non-subtree deny glob compiles to the same plan as before', () => {
  const request = (namespaces: boolean): CompileRequest => ({
    runId: 'run-1',
    file: `${TREE_WS}/main.py`,
    argv: ['python3', `${TREE_WS}/main.py`],
    env: { PATH: '/usr/bin:/bin', HOME: TREE_HOME, TMPDIR: '/tmp/run-1' },
    cwd: TREE_WS,
    tmpDir: '/tmp/run-1',
    toolRoots: [],
    arch: 'x86_64',
    nprocLimit: null,
    listener: true,
    namespaces,
    xdgConfigHome: `${TREE_HOME}/.config`,
  });
  const inputs: PolicyInput[] = [
    {},
    { filesystem: { denyRead: ['secrets/**'], denyWrite: ['.husky', 'main.py'] } },
    { profile: 'strict', filesystem: { allowWrite: ['/tmp/x/**'] } },
    { profile: 'permissive', filesystem: { allowWrite: ['.git/hooks/**'], readOnly: false } },
    { mode: 'warn', filesystem: { denyRead: ['~/.ssh'] } },
  ];
  for (const namespaces of [true, false]) {
    for (const input of inputs) {
      it(`${JSON.stringify(input)} (${namespaces ? 'namespace' : 'fallback'} tier): the expansion never gets the new argument, the plan is unchanged`, () => {
        const tree = fakeFs(LINUX_TREE);
        const policy = pol(input, TREE_WS, TREE_HOME);
        const seen: unknown[] = [];
        const now = compileLinuxPlan(policy, request(namespaces), {
          fs: tree,
          expand: (rules, cuts, noFile, without) => {
            seen.push(noFile, without);
            return expandCarveOuts(rules, cuts, tree.readdir, tree.isDir, undefined, noFile, without);
          },
        });
        // The expansion as it was: no entryDirsWithout argument at all.
        const before = compileLinuxPlan(policy, request(namespaces), { fs: tree, expand: (rules, cuts, noFile) => expandCarveOuts(rules, cuts, tree.readdir, tree.isDir, undefined, noFile) });
        assert.ok(seen.length > 0, 'no carve-out expanded: the comparison says nothing');
        assert.ok(seen.every((x) => x === undefined), `the expansion got ${JSON.stringify(seen)}`);
        assert.deepEqual(now, before);
      });
    }
  }
  it('a non-subtree glob does change it (the comparison above can see a difference)', () => {
    const tree = fakeFs({ ...LINUX_TREE, [`${TREE_WS}/data/sub/f`]: '' });
    const policy = pol({ filesystem: { denyWrite: ['data/*.key'] } }, TREE_WS, TREE_HOME);
    const full = compileLinuxPlan(policy, request(true), { fs: tree, expand: (rules, cuts, noFile, without) => expandCarveOuts(rules, cuts, tree.readdir, tree.isDir, undefined, noFile, without) });
    const before = compileLinuxPlan(policy, request(true), { fs: tree, expand: (rules, cuts, noFile) => expandCarveOuts(rules, cuts, tree.readdir, tree.isDir, undefined, noFile) });
    assert.notDeepEqual(full.landlock, before.landlock);
  });
});
