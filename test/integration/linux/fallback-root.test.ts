// The fallback tier (no user namespaces, e.g. Ubuntu 24.04): the workspace root holds protected entries
// (.git, .vscode), so Landlock cannot grant creating names in it; the supervisor performs those calls itself
// (src/host/linux/supervisor-emulate.ts). Ordinary work in the root must succeed, and every attack on the protected
// entries must still fail, observed from outside (snapshots of the control files before and after).
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runIn, writeScript, PYTHON, type Sandbox } from './helpers';
import { hasTool, treeSnapshot as snapshot, useSandbox } from './use-sandbox';

const FALLBACK = { SCRIPT_SANDBOX_NAMESPACES: '0' };

const control = (ws: string) => ({ git: snapshot(path.join(ws, '.git')), vscode: snapshot(path.join(ws, '.vscode')) });

// Prints "<name>: ALLOWED" for an attack that succeeded.
const ATTACKS_PY = String.raw`
import ctypes, os, threading, time
libc = ctypes.CDLL(None, use_errno=True)
results = []
def attempt(name, f):
    try:
        f()
        results.append(name + ': ALLOWED')
    except OSError as e:
        results.append(name + ': denied (' + os.strerror(e.errno) + ')')
def write(p, data='#!/bin/sh\necho pwned\n', mode='w'):
    with open(p, mode) as fh:
        fh.write(data)
attempt('create .git/hooks/pre-commit', lambda: write('.git/hooks/pre-commit'))
attempt('through planted link h/pre-commit', lambda: write('h/pre-commit'))
attempt('through planted link v/tasks.json', lambda: write('v/tasks.json', '{}'))
write('n.txt', '{"x":1}')
attempt('rename a new file onto .vscode/settings.json', lambda: os.rename('n.txt', '.vscode/settings.json'))
attempt('link a new file into .git/hooks', lambda: os.link('n.txt', '.git/hooks/post-merge'))
attempt('hard link of .git/config in the root', lambda: os.link('.git/config', 'cfg'))
attempt('mv .git g', lambda: os.rename('.git', 'g'))
attempt('mv .vscode v2', lambda: os.rename('.vscode', 'v2'))
attempt('rm .git/config', lambda: os.unlink('.git/config'))
attempt('rmdir .vscode', lambda: os.rmdir('.vscode'))
attempt('mkdir .git/hooks2', lambda: os.mkdir('.git/hooks2'))
os.mkdir('d')
attempt('d/../.git/config', lambda: write('d/../.git/config', '[core]\n\tfsmonitor = /tmp/x\n', 'a'))
attempt('d/../.vscode/tasks.json', lambda: write('d/../.vscode/tasks.json', '{}'))
attempt('rename d onto .vscode', lambda: os.rename('d', '.vscode'))
attempt('mkdir .vscode2 then swap', lambda: (os.mkdir('.vscode2'), os.rename('.vscode', 'old')))
# A racing thread flips the path buffer between a.txt (allowed) and .git/config (protected) while the main
# thread opens it with O_CREAT: the supervisor decides on its own copy and opens that copy itself.
buf = ctypes.create_string_buffer(32)
good, bad = b'a.txt\0', b'.git/config\0'
stop = [False]
def flip():
    while not stop[0]:
        ctypes.memmove(buf, bad, len(bad))
        ctypes.memmove(buf, good, len(good))
t = threading.Thread(target=flip, daemon=True)
t.start()
n = 0
deadline = time.time() + 3
while time.time() < deadline:
    fd = libc.open(buf, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    n += 1
    if fd >= 0:
        libc.write(fd, b'PWNED\n', 6)
        libc.close(fd)
stop[0] = True
t.join()
won = b'PWNED' in open('.git/config', 'rb').read()
results.append('racing path buffer a.txt <-> .git/config: ' + ('ALLOWED' if won else 'denied') + ' (%d tries)' % n)
print('\n'.join(results))
print('end')
`;

describe('fallback tier: the workspace root is usable, its control files are not (real kernel)', function () {
  this.timeout(90000);
  // The workspace is a git repository: its .git is protected.
  const sb = useSandbox({
    git: true,
    setup: (sb) => {
      fs.mkdirSync(path.join(sb.workspace, '.vscode'));
      fs.writeFileSync(path.join(sb.workspace, '.vscode', 'tasks.json'), '{"version":"2.0.0","tasks":[]}\n');
      fs.writeFileSync(path.join(sb.workspace, 'old.txt'), 'old\n');
      fs.mkdirSync(path.join(sb.workspace, 'src'));
    },
  });

  it('create, append, read, mkdir, rm, mv and rm -r in the workspace root work', async () => {
    const script = [
      'set -e',
      'echo x > a.txt',
      'echo y >> a.txt',
      'cat a.txt',
      'mkdir d',
      'echo f > d/f',
      'cat d/f',
      'mkdir d/e && echo g > d/e/g && cat d/e/g',
      'echo long > d/t && truncate -s 2 d/t && test "$(cat d/t)" = lo',
      `${PYTHON} -c "import os; os.truncate('d/t', 1)" && test "$(cat d/t)" = l`, // truncate(2) itself
      'mv a.txt b.txt',
      'cat b.txt',
      'rm b.txt',
      'mv old.txt renamed.txt',
      'echo s > src/s.txt',
      'mv src/s.txt s.txt',
      'ls',
      'rm -r d',
      'echo end',
    ].join('\n');
    const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', script], FALLBACK);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^x\ny\nf\ng\nx\ny\n/, r.stdout);
    assert.match(r.stdout, /^end$/m);
    const ws = sb.workspace;
    assert.ok(!fs.existsSync(path.join(ws, 'a.txt')) && !fs.existsSync(path.join(ws, 'b.txt')));
    assert.ok(!fs.existsSync(path.join(ws, 'd')));
    assert.equal(fs.readFileSync(path.join(ws, 'renamed.txt'), 'utf8'), 'old\n');
    assert.equal(fs.readFileSync(path.join(ws, 's.txt'), 'utf8'), 's\n');
    assert.deepEqual(r.events.filter((e) => e.type === 'violation'), []);
  });

  it("a created file gets the script's mode and umask; O_EXCL on an existing name is EEXIST", async () => {
    const r = await runIn(sb, ['--mode', 'enforce'], [PYTHON, '-c', [
      'import os',
      'os.umask(0o027)',
      "os.close(os.open('m.txt', os.O_CREAT | os.O_WRONLY, 0o666))",
      "os.mkdir('md', 0o777)",
      'try:',
      "    os.open('m.txt', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)",
      "    print('excl: opened')",
      'except FileExistsError:',
      "    print('excl: EEXIST')",
      "fd = os.open('c.txt', os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600)",
      "import fcntl; print('cloexec', bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))",
      "import ctypes; fd2 = ctypes.CDLL(None).open(b'c2.txt', os.O_CREAT | os.O_WRONLY, 0o600)  # os.open adds O_CLOEXEC",
      "print('plain', bool(fcntl.fcntl(fd2, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))",
    ].join('\n')], FALLBACK);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /excl: EEXIST/);
    assert.match(r.stdout, /cloexec True/);
    assert.match(r.stdout, /plain False/);
    assert.equal(fs.statSync(path.join(sb.workspace, 'm.txt')).mode & 0o777, 0o640);
    assert.equal(fs.statSync(path.join(sb.workspace, 'md')).mode & 0o777, 0o750);
  });

  it('a creation the emulation does not perform (openat2 with RESOLVE_ flags) is refused with the tier as the reason', async () => {
    const r = await runIn(sb, ['--mode', 'enforce'], [PYTHON, '-c', [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'how = (ctypes.c_uint64 * 3)(os.O_CREAT | os.O_WRONLY, 0o644, 0x08)  # RESOLVE_BENEATH',
      'fd = libc.syscall(437, -100, b"r.txt", how, 24)',
      "print('openat2:', fd, os.strerror(ctypes.get_errno()) if fd < 0 else '')",
    ].join('\n')], FALLBACK);
    assert.match(r.stdout, /openat2: -1 Permission denied/, `${r.stdout}\n${r.stderr}`);
    assert.ok(!fs.existsSync(path.join(sb.workspace, 'r.txt')));
    assert.match(r.stderr, /supervisor cannot perform openat2 .*enable user namespaces/);
    assert.doesNotMatch(r.stderr, /outside what profile/);
  });

  it('attacks on .git and .vscode from the root still fail; the control files are unchanged', async () => {
    const ws = sb.workspace;
    fs.symlinkSync('.git/hooks', path.join(ws, 'h'));
    fs.symlinkSync('.vscode', path.join(ws, 'v'));
    writeScript(sb.outside, 'attacks.py', ATTACKS_PY);
    const before = control(ws);
    const r = await runIn(sb, ['--mode', 'enforce'], [PYTHON, path.join(sb.outside, 'attacks.py')], FALLBACK);
    assert.match(r.stdout, /^end$/m, `attack script did not finish: ${r.stdout}\n${r.stderr}`);
    assert.deepEqual(r.stdout.split('\n').filter((l) => /ALLOWED/.test(l)), [], r.stdout);
    assert.match(r.stdout, /racing path buffer .*denied/);
    assert.deepEqual(control(ws), before);
    assert.ok(!fs.existsSync(path.join(ws, 'g')) && !fs.existsSync(path.join(ws, 'cfg')) && !fs.existsSync(path.join(ws, 'old')));
    // The race's harmless half did happen, performed by the supervisor.
    assert.match(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), /PWNED/);
    const msgs = r.events.filter((e) => e.type === 'violation').map((e) => String((e as { violation?: { message?: string } }).violation?.message ?? JSON.stringify(e)));
    assert.ok(msgs.length > 0, 'the refusals are reported');
  });
});

// H6: when the host runs as root the supervisor has every capability while the script (uid 0) has none, so a
// call the supervisor performs must get no more than the kernel would give the script without capabilities.
describe('fallback tier as root: the emulation grants no more than the kernel would (real kernel)', function () {
  this.timeout(90000);
  let sb: Sandbox;
  let secret = '';
  beforeEach(function () {
    if (process.getuid?.() !== 0) this.skip(); // needs a file of another user; the supervisor has capabilities only as root
    if (!hasTool('git') || spawnSync('id', ['-u', 'sbtest']).status !== 0) this.skip(); // needs git and the user sbtest
    sb = makeSandbox();
    execFileSync('git', ['init', '-q', sb.workspace]);
    secret = path.join('/tmp', `ss-dac-secret-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(secret, 'TOPSECRET\n', { mode: 0o600 });
    const uid = Number(execFileSync('id', ['-u', 'sbtest'], { encoding: 'utf8' }).trim());
    fs.chownSync(secret, uid, uid);
  });
  afterEach(() => {
    sb?.cleanup();
    if (secret) fs.rmSync(secret, { force: true });
  });

  it("a hard link to another user's private file is refused, it is neither read nor changed; renameat2 flags beyond NOREPLACE/EXCHANGE are EINVAL", async () => {
    const lnk = path.join(sb.workspace, 'lnk');
    const script = [
      `cat ${secret} || echo direct-denied`,
      `ln ${secret} ${lnk} && echo LINKED || echo link-denied`,
      `cat ${lnk} || true`,
      `(echo PWNED >> ${lnk}) 2>/dev/null || true`,
      'echo mine > m.txt && ln m.txt m2.txt && echo OWNLINK', // its own file: linked, as the kernel would
      'echo a > a.txt',
      `${PYTHON} -c "import ctypes; l = ctypes.CDLL(None, use_errno=True); r = l.renameat2(-100, b'a.txt', -100, b'b.txt', 4); print('whiteout', r, ctypes.get_errno())"`,
      'echo end',
    ].join('\n');
    const r = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', script], FALLBACK);
    assert.match(r.stdout, /^end$/m, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /direct-denied/, r.stdout);
    assert.doesNotMatch(r.stdout, /TOPSECRET/, r.stdout);
    assert.match(r.stdout, /link-denied/, r.stdout);
    assert.equal(fs.readFileSync(secret, 'utf8'), 'TOPSECRET\n');
    assert.equal(fs.statSync(secret).nlink, 1);
    // The append may create a new, unrelated file of that name (a creation the script may do): not the secret.
    assert.ok(!fs.existsSync(lnk) || fs.statSync(lnk).ino !== fs.statSync(secret).ino);
    assert.match(r.stdout, /whiteout -1 22/, r.stdout);
    assert.match(r.stdout, /OWNLINK/, r.stdout);
    assert.equal(fs.statSync(path.join(sb.workspace, 'm2.txt')).ino, fs.statSync(path.join(sb.workspace, 'm.txt')).ino);
    assert.ok(fs.lstatSync(path.join(sb.workspace, 'a.txt')).isFile() && !fs.existsSync(path.join(sb.workspace, 'b.txt')));
  });
});
