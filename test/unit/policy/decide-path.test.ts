// decidePath: the file decision table.
import * as assert from 'node:assert/strict';
import { decidePath, resolvePolicy, type PolicyInput, type ResolvedPolicy } from '../../../src/policy';

const CTX = { workspace: '/work/proj', home: '/home/u' };
const pol = (run: PolicyInput = {}): ResolvedPolicy => resolvePolicy({ run }, CTX).policy;

type Row = [label: string, policy: ResolvedPolicy, path: string, access: 'read' | 'write', allowed: boolean, rule: string | RegExp];

describe('policy/decidePath', () => {
  const strict = pol({ profile: 'strict' });
  const moderate = pol({ profile: 'moderate' });
  const permissive = pol({ profile: 'permissive' });

  const rows: Row[] = [
    // protected secrets, in every profile
    ['ssh key read, strict', strict, '/home/u/.ssh/id_rsa', 'read', false, 'protected:~/.ssh'],
    ['ssh key read, moderate', moderate, '/home/u/.ssh/id_rsa', 'read', false, 'protected:~/.ssh'],
    ['ssh key read, permissive (readEverywhere)', permissive, '/home/u/.ssh/id_rsa', 'read', false, 'protected:~/.ssh'],
    ['ssh key write, permissive (writeOutsideSystem)', permissive, '/home/u/.ssh/authorized_keys', 'write', false, 'protected:~/.ssh'],
    ['the protected dir itself', permissive, '/home/u/.aws', 'read', false, 'protected:~/.aws'],
    ['/etc/shadow read', moderate, '/etc/shadow', 'read', false, 'protected:/etc/shadow'],
    ['/etc/sudoers.d/x read', permissive, '/etc/sudoers.d/x', 'read', false, 'protected:/etc/sudoers.d'],
    ['docker config read', moderate, '/home/u/.docker/config.json', 'read', false, 'protected:~/.docker/config.json'],
    ['other docker files readable', moderate, '/home/u/.docker/contexts/x', 'read', true, 'profile:moderate(read-everywhere)'],
    ['.sshx is not .ssh', moderate, '/home/u/.sshx', 'read', true, 'profile:moderate(read-everywhere)'],
    // rc files and workspace code: readable, not writable
    ['.bashrc read', moderate, '/home/u/.bashrc', 'read', true, 'profile:moderate(read-everywhere)'],
    ['.bashrc write, permissive', permissive, '/home/u/.bashrc', 'write', false, 'protected:~/.bashrc'],
    ['fish config write', permissive, '/home/u/.config/fish/config.fish', 'write', false, 'protected:~/.config/fish'],
    ['.git/hooks write in workspace', moderate, '/work/proj/.git/hooks/pre-commit', 'write', false, 'protected:.git'],
    ['.git/config write in workspace', moderate, '/work/proj/.git/config', 'write', false, 'protected:.git'],
    ['.git/index write in workspace (git renames lock files in the .git root)', moderate, '/work/proj/.git/index', 'write', false, 'protected:.git'],
    ['.git/objects stays writable (commits)', moderate, '/work/proj/.git/objects/ab/cdef', 'write', true, 'workspace'],
    ['.git/refs stays writable', moderate, '/work/proj/.git/refs/heads/main', 'write', true, 'workspace'],
    ['.sandbox (audit log) is hidden', moderate, '/work/proj/.sandbox/audit.jsonl', 'read', false, 'protected:.sandbox'],
    ['.git/hooks read', strict, '/work/proj/.git/hooks/pre-commit', 'read', true, 'workspace'],
    ['.vscode write', moderate, '/work/proj/.vscode/sandbox.json', 'write', false, 'protected:.vscode'],
    ['.git objects writable', moderate, '/work/proj/.git/objects/ab/cd', 'write', true, 'workspace'],
    // system paths
    ['system write, permissive', permissive, '/usr/bin/python3', 'write', false, 'system-path:/usr'],
    ['/etc write, permissive', permissive, '/etc/hosts', 'write', false, 'system-path:/etc'],
    ['/proc/sys write, permissive', permissive, '/proc/sys/kernel/core_pattern', 'write', false, 'system-path:/proc'],
    ['system read, strict', strict, '/usr/lib/libc.so.6', 'read', true, 'system-path:/usr'],
    // workspace
    ['workspace write, strict', strict, '/work/proj/src/a.py', 'write', true, 'workspace'],
    ['workspace itself', strict, '/work/proj', 'write', true, 'workspace'],
    ['sibling of workspace is not workspace', strict, '/work/proj2/a', 'write', false, 'profile:strict(no-write-outside)'],
    // profile defaults
    ['outside read, strict', strict, '/home/u/notes.txt', 'read', false, 'profile:strict(no-read-outside)'],
    ['outside read, moderate', moderate, '/home/u/notes.txt', 'read', true, 'profile:moderate(read-everywhere)'],
    ['outside write, moderate', moderate, '/home/u/notes.txt', 'write', false, 'profile:moderate(no-write-outside)'],
    ['outside write, permissive', permissive, '/home/u/notes.txt', 'write', true, 'profile:permissive(write-outside-system)'],
    ['/tmp write, strict', strict, '/tmp/x', 'write', false, 'profile:strict(no-write-outside)'],
    ['/tmp write, moderate', moderate, '/tmp/x', 'write', true, 'shared-temp:/tmp'],
    // devices
    ['/dev/null write', strict, '/dev/null', 'write', true, 'device:/dev/null'],
    ['/dev/urandom read', strict, '/dev/urandom', 'read', true, 'device:/dev/urandom'],
    ['/dev/stdout write', strict, '/dev/stdout', 'write', true, 'device:/dev/stdout'],
    ['raw disk read, permissive', permissive, '/dev/sda', 'read', false, 'device:/dev'],
    ['raw disk write, permissive', permissive, '/dev/nvme0n1', 'write', false, 'device:/dev'],
    // .. and doubled slashes
    ['.. out of the workspace into ~/.ssh', moderate, '/work/proj/../../home/u/.ssh/id_rsa', 'read', false, 'protected:~/.ssh'],
    ['.. out of the workspace, write', strict, '/work/proj/sub/../../outside.txt', 'write', false, 'profile:strict(no-write-outside)'],
    ['.. staying inside', strict, '/work/proj/a/../b//c/', 'write', true, 'workspace'],
    ['relative path is workspace-relative', strict, 'src/../x.txt', 'write', true, 'workspace'],
  ];

  for (const [label, p, path, access, allowed, rule] of rows) {
    it(`${label}: ${access} ${path} → ${allowed ? 'allowed' : 'denied'}`, () => {
      const d = decidePath(p, path, access);
      assert.equal(d.allowed, allowed, `${d.rule}: ${d.reason}`);
      if (typeof rule === 'string') assert.equal(d.rule, rule, d.reason);
      else assert.match(d.rule, rule);
      assert.ok(d.reason.length > 10 && !d.reason.includes('\n'));
    });
  }

  it('an allow entry naming the protected path unlocks it (read), and only for the access it names', () => {
    const p = pol({ profile: 'moderate', filesystem: { allowRead: ['~/.ssh/config', '~/.aws'] } });
    assert.deepEqual(decidePath(p, '/home/u/.ssh/config', 'read'), {
      allowed: true,
      rule: 'allowRead:/home/u/.ssh/config',
      reason: '~/.ssh/config is protected (SSH keys and known hosts) but allowRead ~/.ssh/config names it explicitly',
    });
    assert.equal(decidePath(p, '/home/u/.ssh/id_rsa', 'read').rule, 'protected:~/.ssh');
    assert.equal(decidePath(p, '/home/u/.aws/credentials', 'read').allowed, true);
    assert.equal(decidePath(p, '/home/u/.aws/credentials', 'write').rule, 'protected:~/.aws');
  });

  it('a glob inside the protected path names it; wildcards above it do not', () => {
    const named = pol({ profile: 'moderate', filesystem: { allowRead: ['~/.ssh/*.pub'] } });
    assert.equal(decidePath(named, '/home/u/.ssh/id_ed25519.pub', 'read').allowed, true);
    assert.equal(decidePath(named, '/home/u/.ssh/id_ed25519', 'read').allowed, false);
    for (const wide of ['/**', '~/**', '~', '/home/**', '~/.s*/**', '**']) {
      const p = pol({ profile: 'permissive', filesystem: { allowRead: [wide], allowWrite: [wide] } });
      const d = decidePath(p, '/home/u/.ssh/id_rsa', 'read');
      assert.equal(d.allowed, false, `${wide} unlocked ~/.ssh`);
      assert.equal(d.rule, 'protected:~/.ssh');
      assert.equal(decidePath(p, '/home/u/.bashrc', 'write').rule, 'protected:~/.bashrc', wide);
    }
  });

  it('allowWrite naming .vscode unlocks writes there', () => {
    const p = pol({ filesystem: { allowWrite: ['.vscode/launch.json'] } });
    assert.equal(decidePath(p, '/work/proj/.vscode/launch.json', 'write').allowed, true);
    assert.equal(decidePath(p, '/work/proj/.vscode/settings.json', 'write').allowed, false);
  });

  it('explicit deny lists win over everything, also inside the workspace', () => {
    const p = pol({ profile: 'permissive', filesystem: { denyWrite: ['locked/**', '*.lock'], denyRead: ['secrets'], allowRead: ['secrets/public'], allowWrite: ['locked/open'] } });
    assert.equal(decidePath(p, '/work/proj/locked/f', 'write').rule, 'denyWrite:/work/proj/locked/**');
    assert.equal(decidePath(p, '/work/proj/locked/open/f', 'write').allowed, false);
    assert.equal(decidePath(p, '/work/proj/yarn.lock', 'write').rule, 'denyWrite:/work/proj/*.lock');
    assert.equal(decidePath(p, '/work/proj/sub/yarn.lock', 'write').allowed, true); // * does not cross /
    assert.equal(decidePath(p, '/work/proj/secrets/public/x', 'read').rule, 'denyRead:/work/proj/secrets');
    assert.equal(decidePath(p, '/work/proj/free.txt', 'write').rule, 'workspace');
  });

  it('allow lists: a writable path is readable; allowRead does not grant writes', () => {
    const p = pol({ profile: 'strict', filesystem: { allowRead: ['/data/**'], allowWrite: ['/srv/out'] } });
    assert.equal(decidePath(p, '/data/a/b.csv', 'read').rule, 'allowRead:/data/**');
    assert.equal(decidePath(p, '/data/a/b.csv', 'write').allowed, false);
    assert.equal(decidePath(p, '/srv/out/x', 'write').rule, 'allowWrite:/srv/out');
    assert.equal(decidePath(p, '/srv/out/x', 'read').rule, 'allowWrite:/srv/out');
    assert.equal(decidePath(p, '/srv/other', 'read').allowed, false);
  });

  it('a system path is writable only through an allowWrite entry naming it, never through /**', () => {
    const wide = pol({ profile: 'moderate', filesystem: { allowWrite: ['/**'] } });
    assert.equal(decidePath(wide, '/usr/bin/x', 'write').rule, 'system-path:/usr');
    assert.equal(decidePath(wide, '/home/u/x', 'write').rule, 'allowWrite:/**');
    const named = pol({ profile: 'moderate', filesystem: { allowWrite: ['/opt/myapp'] } });
    assert.equal(decidePath(named, '/opt/myapp/cache', 'write').allowed, true);
    assert.equal(decidePath(named, '/opt/other', 'write').allowed, false);
  });

  it('readOnly: no writes, not even in the workspace or allowWrite; the run temp dir stays writable', () => {
    const p = pol({ profile: 'permissive', filesystem: { readOnly: true, allowWrite: ['/srv/out'] } });
    assert.equal(decidePath(p, '/work/proj/a', 'write').rule, 'readOnly');
    assert.equal(decidePath(p, '/srv/out/a', 'write').rule, 'readOnly');
    assert.equal(decidePath(p, '/work/proj/a', 'read').allowed, true);
    assert.equal(decidePath(p, '/tmp/run-1/x', 'write', { tmpDir: '/tmp/run-1' }).rule, 'temp-dir');
    assert.equal(decidePath(p, '/home/u/.ssh/x', 'write', { tmpDir: '/home/u' }).rule, 'protected:~/.ssh');
  });

  it('a workspace inside a system path (/var/lib/jenkins/…) is writable; one that is or contains a system path is not', () => {
    const jenkins = resolvePolicy({}, { workspace: '/var/lib/jenkins/ws', home: '/home/u' }).policy;
    assert.equal(decidePath(jenkins, '/var/lib/jenkins/ws/out.txt', 'write').rule, 'workspace');
    assert.equal(decidePath(jenkins, '/var/lib/dpkg/status', 'write').rule, 'system-path:/var/lib');
    const etc = resolvePolicy({}, { workspace: '/etc', home: '/home/u' }).policy;
    assert.equal(decidePath(etc, '/etc/passwd', 'write').rule, 'system-path:/etc');
    const root = resolvePolicy({}, { workspace: '/', home: '/home/u' }).policy;
    assert.equal(decidePath(root, '/usr/x', 'write').rule, 'system-path:/usr');
    assert.equal(decidePath(root, '/home/u/x', 'write').rule, 'workspace');
  });

  it('a hand-made policy with an unknown protected entry treats it as a secret', () => {
    const p = pol();
    const custom = { ...p, filesystem: { ...p.filesystem, protected: [...p.filesystem.protected, '/srv/vault'] } };
    assert.equal(decidePath(custom, '/srv/vault/key', 'read').rule, 'protected:/srv/vault');
  });
});
