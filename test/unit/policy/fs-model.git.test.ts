// The git metadata the protected set follows, against the holes an outside review found: hooksPath in the
// global config, git's value syntax, husky v9, a workspace inside a repository, submodules, includes and
// core.fsmonitor. Each case fails on the model that read only the repository's own config with a small parser.
import * as assert from 'node:assert/strict';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import type { FsModelFs } from '../../../src/policy/fs-model-types';
import { gitConfigValues } from '../../../src/policy/git-config';
import { protectedSet } from '../../../src/policy/protected-set';
import { buildFsModel } from '../../../src/policy/fs-model';
import { fakeFs } from '../fixtures/fake-fs';

const WS = '/work/proj';
const HOME = '/home/u';

const pol = (user: PolicyInput = {}, ws = WS) => resolvePolicy({ user }, { workspace: ws, home: HOME }).policy;
const req = { tmpDir: '/tmp/run-1', toolRoots: [], file: `${WS}/script.sh`, tier: 'namespaces' as const };
const prot = (fs: FsModelFs, ws = WS) => protectedSet(pol({}, ws), fs).map((e) => e.abs);
const mounted = (fs: FsModelFs, ws = WS) => buildFsModel(pol({}, ws), { ...req, file: `${ws}/script.sh` }, fs).protectedInWritable.map((e) => e.path);
const HEAD = { [`${WS}/.git/HEAD`]: 'ref: refs/heads/main\n' };

describe('policy/fs-model: git metadata the protected set follows', () => {
  it('core.hooksPath set only in the global config, relative: resolved against the work tree and protected', () => {
    for (const cfg of [`${HOME}/.gitconfig`, `${HOME}/.config/git/config`]) {
      const fs = fakeFs({ ...HEAD, [cfg]: '[core]\n\thooksPath = .githooks\n' });
      assert.ok(mounted(fs).includes(`${WS}/.githooks`), cfg);
    }
  });

  it('values are parsed as git does: quotes keep whitespace, escapes, comments, trailing whitespace', () => {
    assert.deepEqual(gitConfigValues('[core]\n\thooksPath = "hooks "\n', 'core', 'hooksPath'), ['hooks ']);
    assert.deepEqual(gitConfigValues('[core]\n\thooksPath = hooks   # c\n', 'core', 'hooksPath'), ['hooks']);
    assert.deepEqual(gitConfigValues('[core]\n\thooksPath = a;b\n', 'core', 'hooksPath'), ['a']);
    assert.deepEqual(gitConfigValues('[core]\n\thooksPath = "a\\"b\\\\c\\td"\n', 'core', 'hooksPath'), ['a"b\\c\td']);
    assert.deepEqual(gitConfigValues('[core]\n\thooksPath = "x\\t"\n', 'core', 'hooksPath'), ['x\t']);
    assert.deepEqual(gitConfigValues('[Core]\n\tHooksPath = a\n[core]hookspath=b\n', 'core', 'hooksPath'), ['a', 'b']);
    assert.deepEqual(gitConfigValues('[core]\n\thooksPath = ho\\\noks\n', 'core', 'hooksPath'), ['hooks'], 'line continuation');
    const fs = fakeFs({ ...HEAD, [`${WS}/.git/config`]: '[core]\n\thooksPath = "hooks "\n' });
    assert.ok(mounted(fs).includes(`${WS}/hooks `));
  });

  it('husky v9 (core.hooksPath = .husky/_): the scripts in .husky are protected too', () => {
    const fs = fakeFs({ ...HEAD, [`${WS}/.git/config`]: '[core]\n\thooksPath = .husky/_\n' });
    const m = mounted(fs);
    assert.ok(m.includes(`${WS}/.husky/_`) && m.includes(`${WS}/.husky`), JSON.stringify(m));
  });

  it('a workspace inside a repository: the containing .git is protected, objects/refs/logs writable', () => {
    const ws = '/tmp/mono/pkg';
    const fs = fakeFs({ '/tmp/mono/.git/HEAD': 'ref: refs/heads/main\n', [`${ws}/a.txt`]: '' });
    const model = buildFsModel(pol({}, ws), { ...req, file: `${ws}/script.sh` }, fs);
    const e = model.protectedInWritable.find((x) => x.path === '/tmp/mono/.git');
    assert.ok(e, JSON.stringify(model.protectedInWritable));
    assert.deepEqual(e.writableInside, ['objects', 'refs', 'logs'].map((w) => `/tmp/mono/.git/${w}`));
    // Its hooksPath is relative to its own work tree.
    const fs2 = fakeFs({ '/tmp/mono/.git/config': '[core]\nhooksPath = .hooks\n' });
    assert.ok(mounted(fs2, ws).includes('/tmp/mono/.hooks'));
    assert.ok(!prot(fakeFs({ [`${ws}/a.txt`]: '' }), ws).some((p) => p.startsWith('/tmp/mono/.git')), 'nothing when no repository');
  });

  it('submodules: the .git of every checked-out submodule is protected; missing ones are not', () => {
    const fs = fakeFs({
      ...HEAD,
      [`${WS}/.gitmodules`]: '[submodule "sub"]\n\tpath = libs/sub\n\turl = x\n[submodule "gone"]\n\tpath = gone\n[submodule "evil"]\n\tpath = ../../etc\n',
      [`${WS}/libs/sub/.git`]: 'gitdir: ../../.git/modules/sub\n',
    });
    const m = mounted(fs);
    assert.ok(m.includes(`${WS}/libs/sub/.git`), JSON.stringify(m));
    assert.ok(!m.includes(`${WS}/gone/.git`));
    assert.ok(!prot(fs).includes('/etc/.git'));
  });

  it('included config files in a writable root are protected (relative to the including file, ~ expanded), transitively', () => {
    const fs = fakeFs({
      ...HEAD,
      [`${WS}/.git/config`]: '[include]\n\tpath = ../.gitconfig.local\n[includeIf "gitdir:/work/"]\n\tpath = ~/inc\n',
      [`${WS}/.gitconfig.local`]: '[include]\n\tpath = more.cfg\n',
      [`${HOME}/.gitconfig`]: '[include]\n\tpath = /work/proj/shared.cfg\n',
      [`${WS}/shared.cfg`]: '[core]\n\thooksPath = viaInclude\n',
    });
    const m = mounted(fs);
    for (const p of [`${WS}/.gitconfig.local`, `${WS}/more.cfg`, `${WS}/shared.cfg`, `${WS}/viaInclude`]) assert.ok(m.includes(p), `${p}: ${JSON.stringify(m)}`);
    assert.ok(prot(fs).includes(`${HOME}/inc`));
  });

  it('core.fsmonitor naming an existing file in the workspace is protected; a boolean or a missing file is not', () => {
    const fs = fakeFs({ ...HEAD, [`${WS}/.git/config`]: '[core]\n\tfsmonitor = tools/fsmon.sh\n', [`${WS}/tools/fsmon.sh`]: '#!/bin/sh\n' });
    assert.ok(mounted(fs).includes(`${WS}/tools/fsmon.sh`));
    const fs2 = fakeFs({ ...HEAD, [`${WS}/.git/config`]: '[core]\n\tfsmonitor = true\n' });
    assert.ok(!prot(fs2).includes(`${WS}/true`));
  });
});
