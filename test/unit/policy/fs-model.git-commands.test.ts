// Git config commands that run a workspace file later (core.pager, alias `!`, textconv, …), the global
// config under $XDG_CONFIG_HOME, and the warn-mode integrity model. Pure: a fake tree.
import * as assert from 'node:assert/strict';
import { resolvePolicy } from '../../../src/policy';
import type { FsModelFs } from '../../../src/policy/fs-model-types';
import { gitConfigEntries } from '../../../src/policy/git-config';
import { commandFiles, configCommand } from '../../../src/policy/git-config-commands';
import { protectedSet } from '../../../src/policy/protected-set';
import { integrityModel } from '../../../src/policy/integrity-model';

const WS = '/work/proj';
const HOME = '/home/u';
const files = (f: Record<string, string>): FsModelFs => ({
  readFile: (p) => f[p] ?? null,
  kind: (p) => (p in f ? 'file' : Object.keys(f).some((k) => k.startsWith(p + '/')) ? 'dir' : null),
  readdir: () => null,
});
const pol = (run: Record<string, unknown> = {}) => resolvePolicy({ run }, { workspace: WS, home: HOME }).policy;

describe('fs-model: git config commands and $XDG_CONFIG_HOME', () => {
  it('configCommand: the keys that run a program; aliases only with `!`; credential helpers only as `!` or absolute', () => {
    const cmd = (text: string) => gitConfigEntries(text).map(configCommand);
    assert.deepEqual(cmd('[core]\n\tpager = less -R\n\teditor = vim\n\tsshCommand = ssh -i k\n\tautocrlf = true'), ['less -R', 'vim', 'ssh -i k', null]);
    assert.deepEqual(cmd('[alias]\n\tst = status\n\tx = !tools/x.sh'), [null, 'tools/x.sh']);
    assert.deepEqual(cmd('[diff "bin"]\n\ttextconv = t.sh\n[diff]\n\texternal = d.sh\n[filter "f"]\n\tclean = c\n\tsmudge = s\n\tprocess = p\n\trequired = true'), ['t.sh', 'd.sh', 'c', 's', 'p', null]);
    assert.deepEqual(cmd('[credential]\n\thelper = store\n\thelper = !./h.sh\n\thelper = /opt/h'), [null, './h.sh', '/opt/h']);
    assert.deepEqual(cmd('[merge "m"]\n\tdriver = m.sh %O %A\n[gpg]\n\tprogram = ./g\n[sequence]\n\teditor = ./e'), ['m.sh %O %A', './g', './e']);
  });

  it('commandFiles: a first word with a slash, an interpreter\'s script; PATH names, expansions and system paths left out', () => {
    const f = (c: string) => commandFiles(c, HOME, WS);
    assert.deepEqual(f('./tools/pager.sh -R'), [`${WS}/tools/pager.sh`]);
    assert.deepEqual(f('"tools/my pager.sh" -R'), [`${WS}/tools/my pager.sh`]);
    assert.deepEqual(f('less -R'), []);
    assert.deepEqual(f('sh textconv.sh'), [`${WS}/textconv.sh`]);
    assert.deepEqual(f('/usr/bin/python3 tools/x.py'), [`${WS}/tools/x.py`]);
    assert.deepEqual(f('~/bin/ed'), [`${HOME}/bin/ed`]);
    assert.deepEqual(f('$HOME/bin/x'), []);
    assert.deepEqual(f('/usr/bin/less'), []);
  });

  it('protectedSet: programs named by the repository config and by $XDG_CONFIG_HOME/git/config; that folder protected', () => {
    const fs = files({
      [`${WS}/.git/HEAD`]: 'ref: refs/heads/main\n',
      [`${WS}/.git/config`]: '[core]\n\tpager = ./tools/pager.sh\n[alias]\n\tx = !sh tools/alias.sh\n',
      '/cfg/git/config': '[sequence]\n\teditor = tools/seq.sh\n',
    });
    const abs = protectedSet(pol(), fs, { xdgConfigHome: '/cfg' }).map((e) => e.abs);
    for (const p of [`${WS}/tools/pager.sh`, `${WS}/tools/alias.sh`, `${WS}/tools/seq.sh`, '/cfg/git', `${HOME}/.config/git`]) assert.ok(abs.includes(p), p);
    const without = protectedSet(pol(), fs).map((e) => e.abs);
    assert.ok(!without.includes(`${WS}/tools/seq.sh`) && !without.includes('/cfg/git'));
  });

  it('integrityModel (warn): protected paths read-only, own records hidden, secrets readable; fallback carves them out of /', () => {
    const fs = files({ [`${WS}/.git/HEAD`]: 'x' });
    const m = integrityModel(pol({ mode: 'warn' }), { tmpDir: '/tmp/r', toolRoots: [], file: '/bin/sh', tier: 'fallback' }, fs);
    const ro = m.protectedInWritable.map((x) => x.path);
    const hidden = m.hidden.map((h) => h.path);
    for (const p of [`${WS}/.git`, `${WS}/.vscode`, `${HOME}/.bashrc`, `${HOME}/.ssh`]) assert.ok(ro.includes(p), p);
    assert.deepEqual(hidden.sort(), [`${WS}/.sandbox`, `${HOME}/.local/state/script-sandbox`].sort());
    const all = m.grants[0]!;
    assert.deepEqual(all.paths, ['/']);
    for (const p of [...ro, ...hidden, '/dev']) assert.ok(all.except.includes(p), p);
    assert.ok(m.grants.some((g) => g.paths.includes(`${WS}/.git/objects`) && g.access.includes('write_file')));
    const ns = integrityModel(pol({ mode: 'warn' }), { tmpDir: '/tmp/r', toolRoots: [], file: '/bin/sh', tier: 'namespaces' }, fs);
    assert.deepEqual(ns.grants[0]!.except, ['/dev'], 'the mounts keep the integrity set in the namespace tier');
  });
});
