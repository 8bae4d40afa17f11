// explainPolicy and the preset constants.
import * as assert from 'node:assert/strict';
import { ALWAYS_PROTECTED, DEFAULT_SECRET_PATTERNS, SYSTEM_PATHS, explainPolicy, policyDigest, resolvePolicy, compileSecretPattern } from '../../../src/policy';

const CTX = { workspace: '/work/proj', home: '/home/u' };

describe('policy/explain', () => {
  it('is JSON-serialisable and carries the policy and its digest', () => {
    const { policy } = resolvePolicy({ run: { profile: 'strict' } }, CTX);
    const e = explainPolicy(policy);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
    assert.equal(e.policy, policy);
    assert.equal(e.digest, policyDigest(policy));
  });

  it('strict: reads system paths + workspace, writes the workspace, no network, limits with units', () => {
    const { policy } = resolvePolicy({ run: { profile: 'strict' } }, CTX);
    const s = explainPolicy(policy).summary;
    assert.ok(s.filesystem.read.some((l) => l.startsWith('system paths: /usr')));
    assert.ok(s.filesystem.read.includes('the workspace: /work/proj'));
    assert.equal(s.filesystem.write[0], 'the workspace: /work/proj');
    assert.ok(!s.filesystem.write.some((l) => l.startsWith('shared temp')));
    assert.ok(s.filesystem.neverReadable.includes('~/.ssh (SSH keys and known hosts)'));
    assert.ok(s.filesystem.neverWritable.some((l) => l.startsWith('/work/proj/.git ')));
    assert.equal(s.network.preset, 'none');
    assert.deepEqual(s.network.blocked, ['every IP connection']);
    assert.equal(s.limits.memoryMiB, '1024 MiB (1 GiB) for the whole process tree');
    assert.equal(s.limits.cpuSeconds, '60 s (1 min) of CPU time per process');
    assert.equal(s.limits.timeoutSeconds, '300 s (5 min) wall clock, then the whole tree is killed');
    assert.match(s.mode, /^enforce/);
  });

  it('permissive: unlimited limits, writes everywhere outside system paths, ptrace allowed; unlocked protected paths leave the never lists', () => {
    const { policy } = resolvePolicy({ run: { profile: 'permissive', filesystem: { allowRead: ['~/.aws/config'] }, network: { allowHosts: ['api.x.com'] } } }, CTX);
    const s = explainPolicy(policy).summary;
    assert.equal(s.limits.cpuSeconds, 'unlimited');
    assert.equal(s.limits.openFiles, '4096 open files per process');
    assert.match(s.filesystem.write[0]!, /^everywhere except system paths/);
    assert.ok(!s.filesystem.neverReadable.some((l) => l.startsWith('~/.aws')));
    assert.ok(s.filesystem.neverWritable.some((l) => l.startsWith('~/.aws')));
    assert.match(s.syscalls, /ptrace allowed/);
    assert.ok(s.network.allowed.includes('hosts: api.x.com'));
    assert.ok(s.network.blocked.some((l) => /22 SSH/.test(l)));
  });
});

describe('policy/presets constants', () => {
  it('protected entries: secrets neither readable nor writable, rc files and workspace code readable only', () => {
    const byPath = new Map(ALWAYS_PROTECTED.map((e) => [e.path, e]));
    for (const p of ['~/.ssh', '~/.aws', '~/.gnupg', '~/.config/gh', '~/.netrc', '~/.docker/config.json', '~/.kube', '~/.git-credentials', '~/.npmrc', '~/.pypirc', '/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d']) {
      assert.deepEqual([byPath.get(p)?.read, byPath.get(p)?.write], [false, false], p);
    }
    for (const p of ['~/.bashrc', '~/.bash_profile', '~/.profile', '~/.zshrc', '~/.zprofile', '~/.config/fish', '.git', '.vscode']) {
      assert.deepEqual([byPath.get(p)?.read, byPath.get(p)?.write], [true, false], p);
    }
    assert.ok(Object.isFrozen(ALWAYS_PROTECTED) && Object.isFrozen(ALWAYS_PROTECTED[0]));
  });

  it('system paths include the brief\'s list', () => {
    for (const p of ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/boot', '/opt', '/var/lib', '/snap']) assert.ok(SYSTEM_PATHS.includes(p), p);
  });

  it('every default secret pattern compiles and none matches empty text', () => {
    for (const src of DEFAULT_SECRET_PATTERNS) {
      const re = compileSecretPattern(src);
      assert.equal(new RegExp(re.source, re.flags.replace('g', '')).test(''), false, src);
    }
  });
});
