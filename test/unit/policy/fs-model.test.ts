// The filesystem model: the protected set read from git metadata through an injected file system, the
// lists the namespace stage mounts, the tiers' carve-outs, and unprotect from the user's layers only.
import * as assert from 'node:assert/strict';
import { SandboxError } from '../../../src/errors';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import { gitConfigValues, parseGitFile } from '../../../src/policy/git-config';
import { protectedSet } from '../../../src/policy/protected-set';
import { grantsAllow, modelAllows } from '../../../src/policy/grants-allow';
import { buildFsModel } from '../../../src/policy/fs-model';
import { decidePath } from '../../../src/policy/evaluate';
import { tighten } from '../../../src/gitscript/run';
import { fakeFs } from '../fixtures/fake-fs';

const WS = '/work/proj';
const HOME = '/home/u';

const pol = (user: PolicyInput = {}, run?: PolicyInput) => resolvePolicy({ user, ...(run ? { run } : {}) }, { workspace: WS, home: HOME }).policy;
const req = { tmpDir: '/tmp/run-1', toolRoots: [], file: `${WS}/script.sh`, tier: 'namespaces' as const };

describe('policy/fs-model: protected set', () => {
  it('a .git directory: .git protected as a whole, objects/refs/logs writable inside', () => {
    const fs = fakeFs({ [`${WS}/.git/HEAD`]: 'ref: refs/heads/main\n', [`${WS}/.git/config`]: '[core]\n\tbare = false\n' });
    const m = buildFsModel(pol(), req, fs);
    const git = m.protectedInWritable.find((e) => e.path === `${WS}/.git`);
    assert.ok(git, 'no .git entry');
    assert.deepEqual(git.writableInside, [`${WS}/.git/objects`, `${WS}/.git/refs`, `${WS}/.git/logs`]);
    assert.ok(m.protectedInWritable.some((e) => e.path === `${WS}/.vscode`));
    assert.deepEqual(m.hidden.map((h) => h.path), [`${WS}/.sandbox`]);
  });

  it('core.hooksPath inside the workspace is protected; outside a writable root it is not listed', () => {
    const inside = fakeFs({ [`${WS}/.git/config`]: '[core]\n\thooksPath = .husky/_\n[remote "origin"]\n\turl = x\n' });
    const m = buildFsModel(pol(), req, inside);
    const hooks = m.protectedInWritable.find((e) => e.path === `${WS}/.husky/_`);
    assert.ok(hooks, JSON.stringify(m.protectedInWritable));
    assert.match(hooks.reason, /hooksPath/);
    assert.equal(decidePath(pol(), `${WS}/.husky/_/pre-commit`, 'write', { protected: m.protected }).rule, `protected:${WS}/.husky/_`);
    assert.equal(decidePath(pol(), `${WS}/.husky/_/pre-commit`, 'write').allowed, true, 'without the model: not known');

    const home = fakeFs({ [`${WS}/.git/config`]: '[core]\n  hooksPath = "~/githooks" ; shared\n' });
    const mh = buildFsModel(pol(), req, home);
    assert.ok(mh.protected.some((e) => e.abs === `${HOME}/githooks`), 'tilde is expanded');
    assert.ok(!mh.protectedInWritable.some((e) => e.path === `${HOME}/githooks`), 'home is not writable in moderate');
    const abs = buildFsModel(pol(), req, fakeFs({ [`${WS}/.git/config`]: '[CORE]\nHOOKSPATH=/srv/hooks\n' }));
    assert.ok(abs.protected.some((e) => e.abs === '/srv/hooks'), 'section and key are case-insensitive');
  });

  it('a .git file (worktree): the .git file, its gitdir and the common dir are protected; hooksPath read from the common config', () => {
    const fs = fakeFs({
      [`${WS}/.git`]: 'gitdir: /repos/main/.git/worktrees/proj\n',
      '/repos/main/.git/worktrees/proj/commondir': '../..\n',
      '/repos/main/.git/config': '[core]\n\thooksPath = tools/hooks\n',
    });
    const prot = protectedSet(pol(), fs);
    const paths = prot.map((e) => e.abs);
    assert.ok(paths.includes(`${WS}/.git`));
    assert.ok(paths.includes('/repos/main/.git/worktrees/proj'));
    assert.ok(paths.includes('/repos/main/.git'));
    assert.ok(paths.includes(`${WS}/tools/hooks`), 'hooksPath is relative to the worktree root');
    // A gitdir inside a writable root is mounted read-only with its own objects/refs/logs writable.
    const sub = fakeFs({ [`${WS}/lib/.git`]: 'x', [`${WS}/.git`]: 'gitdir: .git-modules/sub\n' });
    const m = buildFsModel(pol(), req, sub);
    const gd = m.protectedInWritable.find((e) => e.path === `${WS}/.git-modules/sub`);
    assert.ok(gd, JSON.stringify(m.protectedInWritable));
    assert.ok(gd.writableInside.includes(`${WS}/.git-modules/sub/objects`));
    assert.equal(decidePath(pol(), `${WS}/.git-modules/sub/hooks/post-checkout`, 'write', { protected: m.protected }).allowed, false);
    assert.equal(decidePath(pol(), `${WS}/.git-modules/sub/objects/aa/bb`, 'write', { protected: m.protected }).allowed, true);
  });

  it('no .git: the path stays protected (creating one is blocked), nothing else is added', () => {
    const m = buildFsModel(pol(), req, fakeFs({}));
    assert.ok(m.protectedInWritable.some((e) => e.path === `${WS}/.git`));
    assert.deepEqual(
      m.protected.filter((e) => e.abs.startsWith(WS)).map((e) => e.abs),
      [`${WS}/.git`, `${WS}/.vscode`, `${WS}/.sandbox`],
    );
  });

  it('start-up files are protected inside writable roots when home is writable', () => {
    const homeWs = resolvePolicy({}, { workspace: HOME, home: HOME }).policy;
    const m = buildFsModel(homeWs, { ...req, file: `${HOME}/s.sh` }, fakeFs({ [`${HOME}/.bashrc`]: '' }));
    assert.ok(m.protectedInWritable.some((e) => e.path === `${HOME}/.bashrc`));
    assert.ok(m.hidden.some((e) => e.path === `${HOME}/.ssh`), 'a secret in a writable root is hidden');
    const moderate = buildFsModel(pol(), req, fakeFs({}));
    assert.ok(!moderate.protectedInWritable.some((e) => e.path === `${HOME}/.bashrc`));
    const permissive = buildFsModel(pol({ profile: 'permissive' }), req, fakeFs({}));
    assert.ok(permissive.protectedInWritable.some((e) => e.path === `${HOME}/.bashrc`));
  });

  it('the audit folder, when elsewhere, is hidden too', () => {
    const m = buildFsModel(pol({ filesystem: { allowWrite: ['/srv/logs'] } }), { ...req, auditDir: '/srv/logs/audit' }, fakeFs({}));
    assert.ok(m.hidden.some((h) => h.path === '/srv/logs/audit'));
  });
});

describe('policy/fs-model: unprotect', () => {
  it('from the user layer: the path drops out of the protected set and the mounts', () => {
    const p = pol({ filesystem: { unprotect: ['.git'] } });
    assert.deepEqual(p.filesystem.unprotect, [`${WS}/.git`]);
    const fs = fakeFs({ [`${WS}/.git/config`]: '[core]\n\thooksPath = .husky/_\n' });
    const m = buildFsModel(p, req, fs);
    assert.ok(!m.protectedInWritable.some((e) => e.path.startsWith(`${WS}/.git`)));
    assert.ok(!m.protected.some((e) => e.abs === `${WS}/.husky/_`), 'hooksPath discovery follows .git');
    assert.equal(decidePath(p, `${WS}/.git/config`, 'write').rule, 'workspace');
    assert.ok(m.protectedInWritable.some((e) => e.path === `${WS}/.vscode`), 'the rest stays');
  });

  it('from run flags too', () => {
    const p = pol({}, { filesystem: { unprotect: ['.vscode'] } });
    assert.ok(!p.filesystem.protected.includes(`${WS}/.vscode`));
  });

  it('from the workspace file: rejected with a clear error, even when a loosening is approved', () => {
    for (const approvedLoosening of [false, true]) {
      assert.throws(
        () => resolvePolicy({ workspace: { filesystem: { unprotect: ['.git'] } } }, { workspace: WS, home: HOME, approvedLoosening }),
        (e: unknown) => e instanceof SandboxError && e.code === 'POLICY_LOOSENING' && /filesystem\.unprotect/.test(e.message) && /only your own settings/.test(e.message),
      );
    }
  });

  it('from a git-script policy: rejected', () => {
    assert.throws(() => tighten(pol(), { filesystem: { unprotect: ['.git'] } }, WS), (e: unknown) => e instanceof SandboxError && /may only tighten/.test(e.message));
  });
});

describe('policy/fs-model: tiers, globs and the evaluator', () => {
  const fs = fakeFs({ [`${WS}/.git/HEAD`]: '', [`${WS}/.vscode/settings.json`]: '{}', [`${WS}/a.txt`]: '' });

  it('fallback: protected paths in writable roots are carve-outs, objects/refs/logs granted back', () => {
    const m = buildFsModel(pol(), { ...req, tier: 'fallback' }, fs);
    assert.equal(grantsAllow(m.grants, `${WS}/.git/hooks/pre-commit`, 'write'), false);
    assert.equal(grantsAllow(m.grants, `${WS}/.git/objects/aa/bb`, 'write'), true);
    assert.equal(grantsAllow(m.grants, `${WS}/.vscode/settings.json`, 'write'), false);
    assert.equal(grantsAllow(m.grants, `${WS}/.sandbox/audit.jsonl`, 'read'), false);
    assert.equal(grantsAllow(m.grants, `${WS}/a.txt`, 'write'), true);
  });

  it('namespaces: the same paths are left to the mounts; modelAllows applies them', () => {
    const m = buildFsModel(pol(), req, fs);
    assert.equal(grantsAllow(m.grants, `${WS}/.git/hooks/pre-commit`, 'write'), true);
    assert.equal(modelAllows(m, `${WS}/.git/hooks/pre-commit`, 'write'), false);
    assert.equal(modelAllows(m, `${WS}/.git/objects/aa/bb`, 'write'), true);
    assert.equal(modelAllows(m, `${WS}/.sandbox/audit.jsonl`, 'read'), false);
    assert.equal(modelAllows(m, `${WS}/a.txt`, 'write'), true);
  });

  it('a workspace with glob characters: denyRead holds on the literal path', () => {
    for (const name of ['proj (copy)', '[x]', '{a,b}', 'st*r', 'q?', '!neg', 'ünï côdé']) {
      const ws = `/work/${name}`;
      const p = resolvePolicy({ run: { filesystem: { denyRead: ['secrets/**'] } } }, { workspace: ws, home: HOME }).policy;
      for (const tier of ['namespaces', 'fallback'] as const) {
        const m = buildFsModel(p, { ...req, file: `${ws}/s.sh`, tier }, fakeFs({ [`${ws}/secrets/key`]: 'k' }));
        assert.equal(modelAllows(m, `${ws}/secrets/key`, 'read'), false, `${name} ${tier}`);
        assert.equal(modelAllows(m, `${ws}/other`, 'read'), true, `${name} ${tier}`);
        assert.ok(m.hidden.some((h) => h.path === `${ws}/secrets`), name);
      }
      assert.equal(decidePath(p, `${ws}/secrets/key`, 'read').allowed, false, name);
    }
  });

  it('a pattern glob stands for the entries it matches, not its whole prefix', () => {
    const tree = fakeFs({ [`${WS}/yarn.lock`]: '', [`${WS}/a.txt`]: '', [`${WS}/sub/x.lock`]: '' });
    const p = pol({ filesystem: { denyWrite: ['*.lock'] } });
    const m = buildFsModel(p, { ...req, tier: 'fallback' }, tree);
    assert.equal(grantsAllow(m.grants, `${WS}/yarn.lock`, 'write'), false);
    assert.equal(grantsAllow(m.grants, `${WS}/a.txt`, 'write'), true);
    assert.equal(grantsAllow(m.grants, `${WS}/sub/x.lock`, 'write'), true);
    const ns = buildFsModel(p, req, tree);
    assert.deepEqual(ns.protectedInWritable.filter((e) => /denyWrite/.test(e.reason)).map((e) => e.path), [`${WS}/yarn.lock`]);
  });

  it('gitConfigValues and parseGitFile', () => {
    assert.deepEqual(gitConfigValues('[core]\n\thooksPath = a\n[core "x"]\nhookspath=b # c\n[user]\nhooksPath = no\n', 'core', 'hooksPath'), ['a', 'b']);
    assert.deepEqual(gitConfigValues('[core] hooksPath = "sp ace"\n', 'core', 'hooksPath'), ['sp ace']);
    assert.equal(parseGitFile('gitdir: ../main/.git/worktrees/w\n', '/r/w'), '/r/main/.git/worktrees/w');
    assert.equal(parseGitFile('nonsense', '/r/w'), null);
  });
});
