// The workspace's control files (.git, core.hooksPath, .vscode) under attack, in both tiers: the namespace
// tier (read-only mounts in the run's own mount namespace) and the fallback tier (Landlock carve-outs). The
// attacks include the two the seccomp supervisor alone cannot stop (a thread flipping the path buffer between
// its check and the kernel's use, a non-dumpable process whose memory it cannot read): the kernel must hold.
// Everything is observed from outside: a snapshot of the control files before and after.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, runIn, writeScript, PYTHON } from './helpers';
import { ATTEMPT_PY, treeSnapshot as snapshot, useSandbox, userNamespacesProblem } from './use-sandbox';

function controlSnapshot(ws: string): Record<string, string[]> {
  return {
    '.git': snapshot(path.join(ws, '.git'), ['objects', 'refs', 'logs']),
    '.husky': snapshot(path.join(ws, '.husky')),
    '.vscode': snapshot(path.join(ws, '.vscode')),
    root: fs.readdirSync(ws).sort(),
  };
}

// One python script, every attack; prints "<name>: ALLOWED" when a call that should fail succeeded.
const ATTACKS_PY = ATTEMPT_PY + String.raw`
import ctypes, ctypes.util, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)

attempt('direct write .git/hooks/pre-commit', lambda: write('.git/hooks/pre-commit'))
write('scratch/evil', '#!/bin/sh\necho pwned\n')
attempt('rename over .git/hooks/pre-commit', lambda: os.rename('scratch/evil', '.git/hooks/pre-commit'))
attempt('symlink into hooks', lambda: os.symlink('/bin/true', '.git/hooks/post-checkout'))
os.symlink('../.git/hooks/post-commit', 'scratch/dangling')
attempt('O_CREAT through a dangling symlink', lambda: os.close(os.open('scratch/dangling', os.O_CREAT | os.O_WRONLY, 0o755)))
attempt('mkfifo in hooks', lambda: os.mkfifo('.git/hooks/pre-push'))
attempt('mknod in hooks', lambda: os.mknod('.git/hooks/pre-rebase', 0o600 | 0o100000))
if os.environ.get('METADATA') == '1':
    attempt('chmod of a sample hook', lambda: os.chmod('.git/hooks/pre-commit.sample', 0o777))
    attempt('chmod of .husky/pre-commit', lambda: os.chmod('.husky/pre-commit', 0o644))
    attempt('utime of .git/config', lambda: os.utime('.git/config', (0, 0)))
    attempt('xattr on .git/config', lambda: os.setxattr('.git/config', 'user.x', b'1'))
os.symlink('../.git/hooks', 'scratch/lnk')
attempt('lnk/../hooks/x', lambda: write('scratch/lnk/../hooks/x'))
attempt('write .vscode/settings.json', lambda: write('.vscode/settings.json', '{"task.allowAutomaticTasks":"on"}'))
attempt('write .vscode/tasks.json', lambda: write('.vscode/tasks.json', '{}'))
attempt('create .git/commondir', lambda: write('.git/commondir', '/tmp\n'))
attempt('append .git/config', lambda: write('.git/config', '[core]\n\tfsmonitor = /tmp/x\n', 'a'))
attempt('write .husky/pre-commit', lambda: write('.husky/pre-commit'))
attempt('rename .git away', lambda: os.rename('.git', 'g'))
attempt('rename .vscode away', lambda: os.rename('.vscode', 'v'))

# A racing thread flips one byte of the path buffer: "hookz" (harmless, checked) <-> "hooks" (used).
buf = ctypes.create_string_buffer(b'.git/hookz/pre-merge-commit')
i = buf.raw.index(b'hookz') + 4
stop = [False]
def flip():
    while not stop[0]:
        buf[i] = b's'
        buf[i] = b'z'
t = threading.Thread(target=flip, daemon=True)
t.start()
won = 0
deadline = time.time() + 3
n = 0
while time.time() < deadline:
    fd = libc.open(buf, os.O_CREAT | os.O_WRONLY, 0o755)
    n += 1
    if fd >= 0:
        libc.write(fd, b'#!/bin/sh\necho pwned\n', 21)
        libc.close(fd)
        if os.path.exists('.git/hooks/pre-merge-commit'):
            won += 1
            break
stop[0] = True
results.append('racing path buffer: ' + ('ALLOWED' if won else 'denied') + ' (%d tries)' % n)

# A non-dumpable process: the supervisor cannot read its memory.
PR_SET_DUMPABLE = 4
libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
attempt('non-dumpable write .git/config', lambda: write('.git/config', '[core]\n\thooksPath = /tmp\n', 'a'))
attempt('non-dumpable write .git/hooks/post-merge', lambda: write('.git/hooks/post-merge'))
print('\n'.join(results))
`;

// Git metadata outside the workspace's own .git that git run by the user still executes: the .git of the
// repository that contains the workspace, a hooksPath set only in the global config, a submodule's .git file.
const GIT_ATTACKS_SH = String.raw`
try() { name=$1; shift; if ( "$@" ) 2>/dev/null; then echo "$name: ALLOWED"; else echo "$name: denied"; fi; }
try 'outer .git/hooks/pre-commit' sh -c 'printf "#!/bin/sh\necho pwned\n" > ../.git/hooks/pre-commit'
try 'outer .git/config' sh -c 'printf "[core]\n\tfsmonitor = /tmp/x\n" >> ../.git/config'
try 'global hooksPath .githooks/pre-commit' sh -c 'mkdir -p .githooks && printf "#!/bin/sh\n" > .githooks/pre-commit'
try 'husky script' sh -c 'printf "echo pwned\n" > .husky/pre-commit'
try 'submodule .git file' sh -c 'printf "gitdir: ../evil\n" > sub/.git'
echo x > ../.git/objects/probe && echo WROTE-OBJECTS
echo end
`;

describe('boundary: git metadata the model follows outside .git (real kernel)', function () {
  this.timeout(90000);
  const nsProblem = userNamespacesProblem();
  const sb = useSandbox({
    git: true,
    setup: (sb) => {
      const ws = sb.workspace;
      // sb.root is a repository that contains the workspace; the workspace is one too, with husky v9's
      // hooksPath only in the global config and a checked-out submodule.
      execFileSync('git', ['init', '-q', sb.root]);
      fs.writeFileSync(path.join(sb.home, '.gitconfig'), '[core]\n\thooksPath = .husky/_\n[include]\n\tpath = ../ws/.gitinc\n');
      fs.writeFileSync(path.join(ws, '.gitinc'), '[core]\n\thooksPath = .githooks\n');
      fs.mkdirSync(path.join(ws, '.husky', '_'), { recursive: true });
      fs.writeFileSync(path.join(ws, '.husky', 'pre-commit'), 'npm test\n');
      fs.writeFileSync(path.join(ws, '.gitmodules'), '[submodule "sub"]\n\tpath = sub\n\turl = ../sub\n');
      fs.mkdirSync(path.join(ws, 'sub'));
      fs.writeFileSync(path.join(ws, 'sub', '.git'), 'gitdir: ../.git/modules/sub\n');
    },
  });

  const snap = () => ({
    outer: snapshot(path.join(sb.root, '.git'), ['objects', 'refs', 'logs']),
    husky: snapshot(path.join(sb.workspace, '.husky')),
    sub: fs.readFileSync(path.join(sb.workspace, 'sub', '.git'), 'utf8'),
    githooks: fs.existsSync(path.join(sb.workspace, '.githooks')),
  });

  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`${tier} tier: the containing repository's .git, global/included hooksPath, husky scripts and a submodule's .git are unchanged`, async function () {
      if (tier === 'namespaces' && nsProblem) this.skip();
      const env: Record<string, string> = tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0' } : {};
      writeScript(sb.outside, 'git-attacks.sh', GIT_ATTACKS_SH);
      const before = snap();
      const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', path.join(sb.outside, 'git-attacks.sh')], env);
      assert.match(r.stdout, /^end$/m, `attack script did not finish: ${r.stdout}\n${r.stderr}`);
      assert.deepEqual(r.stdout.split('\n').filter((l) => /ALLOWED/.test(l)), [], r.stdout);
      assert.match(r.stdout, /WROTE-OBJECTS/, 'objects of the containing repository stay writable');
      assert.deepEqual(snap(), before);
    });
  }
});

// Renames `<dir>/<twin>` (harmless, what the supervisor checks) while a thread flips its last byte to make it
// `<dir>/<name>` (what the kernel uses), to `<dir>/<name>.moved`; then puts a staged tree at `<dir>/<name>`.
// The kernel allows renaming a plain directory that contains a mount point: only a mount point itself is EBUSY.
const ANCESTOR_RACE_PY = String.raw`
import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
d, name, twin, staged = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
buf = ctypes.create_string_buffer(os.path.join(d, twin).encode())
i = len(buf.value) - 1
dest = os.path.join(d, name + '.moved').encode()
stop = [False]
def flip():
    while not stop[0]:
        buf[i] = name[-1].encode()
        buf[i] = twin[-1].encode()
t = threading.Thread(target=flip, daemon=True)
t.start()
won = False
errs = set()
deadline = time.time() + 3
while time.time() < deadline and not won:
    if libc.rename(buf, dest) == 0:
        if os.path.exists(os.path.join(d, name + '.moved', staged)):
            won = True
        else:
            os.rename(dest, os.path.join(d, twin))
    else:
        errs.add(os.strerror(ctypes.get_errno()))
stop[0] = True
if won:
    os.makedirs(os.path.join(d, 'stage', staged))
    os.rename(os.path.join(d, 'stage'), os.path.join(d, name))
print('race: ' + ('ALLOWED' if won else 'denied') + ' ' + '|'.join(sorted(errs)))
`;

describe('boundary: control files in writable areas (real kernel)', function () {
  this.timeout(90000);
  const nsProblem = userNamespacesProblem();
  const sb = useSandbox({
    git: true,
    setup: (sb) => {
      const ws = sb.workspace;
      execFileSync('git', ['-C', ws, 'config', 'core.hooksPath', '.husky']);
      fs.mkdirSync(path.join(ws, '.husky'));
      fs.writeFileSync(path.join(ws, '.husky', 'pre-commit'), '#!/bin/sh\nnpm test\n', { mode: 0o755 });
      fs.mkdirSync(path.join(ws, '.vscode'));
      fs.writeFileSync(path.join(ws, '.vscode', 'tasks.json'), '{"version":"2.0.0","tasks":[]}\n');
      fs.writeFileSync(path.join(ws, '.git', 'hooks', 'pre-commit.sample'), '#!/bin/sh\n', { mode: 0o755 });
      fs.mkdirSync(path.join(ws, 'scratch'));
    },
  });

  for (const tier of ['namespaces', 'fallback'] as const) {
    // Metadata (chmod, utimes, xattr) is no Landlock right: only the namespace tier's read-only mounts stop it.
    const env: Record<string, string> = tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0', METADATA: '0' } : { METADATA: '1' };
    it(`${tier} tier: every attack on .git, core.hooksPath and .vscode fails; the files are unchanged`, async function () {
      if (tier === 'namespaces' && nsProblem) this.skip();
      // The script's own scratch files go to scratch/: in the fallback tier new entries directly in the
      // workspace root cannot be made (it is a protected path's parent).
      writeScript(sb.workspace, 'attacks.py', ATTACKS_PY);
      const before = controlSnapshot(sb.workspace);
      const r = await runIn(sb, ['--mode', 'enforce', '--audit', path.join(sb.root, 'audit.jsonl'), '--env-allow', 'METADATA'], [PYTHON, 'attacks.py'], env);
      const lines = r.stdout.trim().split('\n');
      assert.ok(lines.length >= (tier === 'namespaces' ? 21 : 17), `attack script did not finish: ${r.stdout}\n${r.stderr}`);
      assert.deepEqual(
        lines.filter((l) => /ALLOWED/.test(l)),
        [],
        r.stdout,
      );
      const after = controlSnapshot(sb.workspace);
      assert.deepEqual(after, before);
      assert.ok(!fs.existsSync(path.join(sb.workspace, '.git', 'hooks', 'pre-merge-commit')));
    });
  }

  describe('namespace tier only', function () {
    before(function () {
      if (nsProblem) this.skip();
    });

    it('reading git commands work inside; state-changing ones fail (index.lock cannot be made)', async () => {
      fs.writeFileSync(path.join(sb.workspace, 'a.txt'), 'a\n');
      const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', 'git status --short; git log -1 2>/dev/null; if git add a.txt 2>/dev/null; then echo ADD-ALLOWED; else echo add-denied; fi']);
      assert.match(r.stdout, /\?\? a\.txt/, r.stderr);
      assert.match(r.stdout, /add-denied/);
    });

    it('chmod of a file outside the write grants fails (EROFS), for every uid', async () => {
      const f = path.join(sb.outside, 'existing.txt');
      fs.chmodSync(f, 0o644);
      const r = await runIn(sb, ['--profile', 'strict', '--mode', 'enforce'], ['/bin/sh', '-c', `chmod 600 ${f} 2>&1; touch -d 2000-01-01 ${f} 2>&1; echo done`]);
      assert.match(r.stdout, /done/);
      assert.match(r.stdout, /Read-only file system/);
      assert.equal(fs.statSync(f).mode & 0o777, 0o644);
      assert.ok(fs.statSync(f).mtime.getFullYear() > 2000);
    });

    it('/proc shows only the run\'s processes; its init is the sandbox\'s', async () => {
      const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | wc -l; cat /proc/1/comm; echo self=$$']);
      const [count, init, self] = r.stdout.trim().split('\n');
      assert.ok(Number(count) <= 6, `processes visible: ${count}`);
      assert.match(init!, /perl/);
      assert.equal(self, 'self=2');
    });

    it('--net none: /proc/net/dev lists only lo', async () => {
      const r = await runIn(sb, ['--mode', 'enforce', '--net', 'none'], ['/bin/sh', '-c', 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['lo']);
    });

    it('a setsid daemon is gone when run returns', async () => {
      const token = `300.${crypto.randomInt(1e6, 9e6)}`;
      const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', `setsid sleep ${token} >/dev/null 2>&1 < /dev/null & sleep 0.3; echo started`]);
      assert.match(r.stdout, /started/, r.stderr);
      const alive = fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n))
        .filter((n) => {
          try {
            return fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(token);
          } catch {
            return false;
          }
        });
      assert.deepEqual(alive, [], `daemon still alive: ${alive.join(' ')}`);
    });

    it('an orphan adopted by the namespace init still counts: a double-forked memory hog is a memory limit event', async () => {
      // Root here has cgroups (the kernel kills the hog); without them (sbtest) the watchdog must attribute the
      // hog, re-parented to the namespace's init, to the run.
      const hog = `${PYTHON} -c "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(30)"`;
      const r = await runIn(sb, ['--mode', 'enforce', '--memory', '64', '--timeout', '40'], ['/bin/sh', '-c', `(${hog} &) ; sleep 6; echo done`]);
      assert.ok(r.events.some((e) => e.type === 'limit_exceeded' && e.limit === 'memory'), JSON.stringify(r.events.map((e) => e.type)));
    });

    it("the script's uid is the caller's (no mapped root)", async () => {
      const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', 'id -u; id -g']);
      assert.deepEqual(r.stdout.trim().split('\n'), [String(process.getuid?.()), String(process.getgid?.())]);
    });

    it('kill -TERM $$ still ends the script with 143 (it is not the namespace init)', async () => {
      const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', 'kill -TERM $$; echo not-reached']);
      assert.equal(r.code, 128 + 15);
      assert.doesNotMatch(r.stdout, /not-reached/);
    });

    it('an ancestor of core.hooksPath cannot be renamed away (EBUSY), not even past the supervisor', async () => {
      const ws = sb.workspace;
      execFileSync('git', ['-C', ws, 'config', 'core.hooksPath', 'tools/hooks']);
      fs.mkdirSync(path.join(ws, 'tools', 'hooks'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'tools', 'hooks', 'pre-commit'), '#!/bin/sh\nnpm test\n', { mode: 0o755 });
      fs.mkdirSync(path.join(ws, 'toolz'));
      writeScript(ws, 'race.py', ANCESTOR_RACE_PY);
      const before = snapshot(path.join(ws, 'tools'));
      const r = await runIn(sb, ['--mode', 'enforce'], [PYTHON, 'race.py', ws, 'tools', 'toolz', 'hooks']);
      assert.match(r.stdout, /^race: denied .*Device or resource busy/m, `${r.stdout}\n${r.stderr}`);
      assert.ok(!fs.existsSync(path.join(ws, 'tools.moved')));
      assert.deepEqual(snapshot(path.join(ws, 'tools')), before);
    });

    it('a workspace inside a wider write grant: its ancestor cannot be renamed away (EBUSY)', async () => {
      // moderate: <grant>/deep/ws, the grant writable as a whole (as /tmp is for a workspace in /tmp).
      const grant = path.join(sb.root, 'grant');
      const ws = path.join(grant, 'deep', 'ws');
      fs.mkdirSync(ws, { recursive: true });
      fs.mkdirSync(path.join(grant, 'deeq'));
      execFileSync('git', ['init', '-q', ws]);
      writeScript(ws, 'race.py', ANCESTOR_RACE_PY);
      const before = snapshot(path.join(ws, '.git'), ['objects', 'refs', 'logs']);
      const r = await runCli(['run', '--workspace', ws, '--profile', 'moderate', '--mode', 'enforce', '--allow-write', grant, '--', PYTHON, 'race.py', grant, 'deep', 'deeq', 'ws'], {
        cwd: ws,
        home: sb.home,
      });
      assert.match(r.stdout, /^race: denied .*Device or resource busy/m, `${r.stdout}\n${r.stderr}`);
      assert.ok(!fs.existsSync(path.join(grant, 'deep.moved')));
      assert.deepEqual(snapshot(path.join(ws, '.git'), ['objects', 'refs', 'logs']), before);
    });

    it('placeholders: a missing .vscode is bound empty and read-only, then removed; .sandbox is hidden', async () => {
      fs.rmSync(path.join(sb.workspace, '.vscode'), { recursive: true });
      fs.mkdirSync(path.join(sb.workspace, '.sandbox'), { recursive: true });
      fs.writeFileSync(path.join(sb.workspace, '.sandbox', 'marker'), 'x');
      const r = await runIn(sb, ['--mode', 'enforce', '--audit', path.join(sb.root, 'audit.jsonl')], [
        '/bin/sh',
        '-c',
        'ls -A .vscode | wc -l; if mkdir .vscode/x 2>/dev/null; then echo MKDIR-ALLOWED; fi; ls -A .sandbox | wc -l',
      ]);
      assert.deepEqual(r.stdout.trim().split('\n'), ['0', '0'], r.stderr);
      assert.ok(!fs.existsSync(path.join(sb.workspace, '.vscode')), 'placeholder left behind');
      assert.ok(fs.existsSync(path.join(sb.workspace, '.sandbox', 'marker')));
    });
  });
});
