// Red-team finding on the deny-glob fix (carved directories emulated by the supervisor in both tiers).
// A FIFO moved into a carved directory becomes a name "made by the supervisor" (the move was performed by it),
// so a later write open of it was performed by the supervisor itself, with the target's blocking flags: with no
// reader, the supervisor's own openat() waits forever. Every other notification of the run then waits behind
// it, the wall-clock timeout kills the script but the CLI never exits (SIGTERM does not help either), until
// something opened the FIFO for reading. An unsandboxed open blocks only the script: now the supervisor opens
// non-blocking and refuses anything but a file or folder for writing, as Landlock would.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe('red team: deny globs (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`a FIFO in a carved directory (the host's) opened for writing does not stall the supervisor (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(data);
      fs.mkdirSync(path.join(sb.workspace, 'src'));
      fs.writeFileSync(path.join(data, 'old.key'), 'old\n');
      writeScript(
        sb.workspace,
        'fifo.sh',
        '#!/bin/sh\n' +
          // The FIFO comes from outside the run (the host made it in data/ before): the script may no longer
          // move one in itself (a name from outside a deny glob's reach is refused there, deny-glob-reach).
          '[ -p data/f.txt ] || { echo "setup failed"; exit 3; }\n' +
          // Another process of the run: its calls in data/ must not wait behind the blocked open.
          '( sleep 2; echo hi > data/other.txt ) &\n' +
          // Without a sandbox this blocks the script (no reader); it must never block the supervisor. The
          // sandbox refuses it (Landlock has no rule for a name made in a carved folder), so the script waits.
          '( exec 3>data/f.txt ) 2>/dev/null || echo "fifo open refused"\n' +
          'wait\n',
      );
      const fifo = path.join(data, 'f.txt');
      execFileSync('mkfifo', [fifo]);
      const started = Date.now();
      // Releases a stuck supervisor after 35 s (runCli SIGKILLs the CLI at 50 s) so that the test ends and says why.
      let released = false;
      const release = setTimeout(() => {
        try {
          const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
          released = true;
          setTimeout(() => fs.closeSync(fd), 1000);
        } catch {
          /* gone already */
        }
      }, 35_000);
      const r = await runIn(sb, ['--mode', 'enforce', '--timeout', '10', '--deny-write', 'data/*.key'], ['./fifo.sh'], env);
      clearTimeout(release);
      const elapsed = Date.now() - started;
      assert.doesNotMatch(r.stdout, /setup failed/, r.stdout + r.stderr);
      assert.notEqual(r.signal, 'SIGKILL', `the CLI hung until the test harness killed it (${elapsed} ms)`);
      assert.equal(released, false, `the CLI did not exit until the FIFO was opened from outside (${elapsed} ms): the supervisor was blocked in the FIFO's open`);
      assert.ok(fs.existsSync(path.join(data, 'other.txt')), `another process's create in data/ waited behind the blocked open: ${r.stdout}${r.stderr}`);
      assert.ok(elapsed < 33_000, `the run took ${elapsed} ms with --timeout 10`);
      assert.match(r.stdout, /fifo open refused/, r.stdout + r.stderr);
    });
  }
  // Ordinary work that the namespace tier did before the fix: a non-subtree deny glob now carves the workspace
  // root and data/ in this tier too, and the emulation performs no symlink(), mknod() or bind(), so Landlock
  // refuses them (MAKE_SYM, MAKE_FIFO, MAKE_SOCK) anywhere in the workspace root, in data/ and in new folders
  // (python3 -m venv fails: it makes symlinks). The fallback tier could not do these before either.
  it('--deny-write data/*.key: symlinks, FIFOs and sockets can still be made in the workspace (namespace tier)', async function () {
    // The fallback tier never could (the workspace root holds .git, so it is carved there anyway).
    if (process.env.SCRIPT_SANDBOX_NAMESPACES === '0') this.skip();
    fs.mkdirSync(path.join(sb.workspace, 'data'));
    fs.writeFileSync(path.join(sb.workspace, 'data', 'in.txt'), 'in\n');
    const attempt = (label: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${label}: ALLOWED"; else echo "${label}: denied"; fi\n`;
    writeScript(
      sb.workspace,
      'ord.sh',
      '#!/bin/sh\n' +
        attempt('symlink-root', 'ln -s in.txt root-link') +
        attempt('symlink-data', 'ln -s in.txt data/link.txt') +
        attempt('symlink-newdir', "sh -c 'mkdir newdir && ln -s x newdir/l'") +
        attempt('fifo-root', 'mkfifo fifo-root'),
    );
    const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./ord.sh']);
    for (const l of ['symlink-root', 'symlink-data', 'symlink-newdir', 'fifo-root']) assert.match(r.stdout, new RegExp(`${l}: ALLOWED`), r.stdout + r.stderr);
  });
});

// Reads a path while a second thread flips the buffer between it and an allowed, uncarved name of the same
// length: the supervisor answers "continue" for the uncarved name, and the kernel then reads the other one.
const READ_RACE_PY = `import ctypes, os, sys, threading, time
sys.setswitchinterval(1e-5)
libc = ctypes.CDLL(None, use_errno=True)
target, allowed, seconds = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
assert len(target) == len(allowed)
for _ in range(400):
    if os.path.exists(target): break
    time.sleep(0.05)
time.sleep(0.3)
buf = ctypes.create_string_buffer(target, 256)
stop = False
def flip():
    while not stop:
        ctypes.memmove(buf, allowed, len(allowed))
        ctypes.memmove(buf, target, len(target))
threading.Thread(target=flip, daemon=True).start()
end = time.time() + seconds
got, tries = None, 0
while time.time() < end and got is None:
    tries += 1
    fd = libc.open(buf, os.O_RDONLY)
    if fd < 0: continue
    if os.readlink('/proc/self/fd/%d' % fd).endswith('.pem'): got = os.read(fd, 100)
    os.close(fd)
stop = True
print('read-race: %s after %d tries' % ('READ ' + repr(got) if got else 'held', tries))
`;

describe('red team: deny-read globs and renamed inodes (real kernel)', function () {
  const sb = useSandbox();

  // A name that matches secrets/*.pem made during the run by renaming a file that existed at the start
  // (mv secrets/draft.txt secrets/new.pem, then the secret written in place): the inode keeps the Landlock
  // read rule it got as draft.txt, so the kernel does not keep the glob; only the supervisor's check does, and
  // for a read open of an uncarved path it answers "continue" on memory the script can change.
  for (const [tier, env] of TIERS) {
    it(`--deny-read secrets/*.pem: a host-renamed secrets/new.pem cannot be read by a racing thread (${tier})`, async function () {
      this.timeout(120_000);
      const secrets = path.join(sb.workspace, 'secrets');
      const other = path.join(sb.workspace, 'other');
      fs.mkdirSync(secrets);
      fs.mkdirSync(other);
      fs.writeFileSync(path.join(secrets, 'old.pem'), 'old secret\n');
      fs.writeFileSync(path.join(secrets, 'draft.txt'), 'draft\n');
      // Same length as secrets/new.pem: the flipped buffer is always one name or the other.
      fs.writeFileSync(path.join(other, 'xxxxx.txt'), 'other\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'rr.py', READ_RACE_PY, 0o644);
      writeScript(sb.workspace, 'rr.sh', '#!/bin/sh\npython3 rr.py "$PWD/secrets/new.pem" "$PWD/other/xxxxx.txt" 8\n');
      const host = setTimeout(() => {
        fs.renameSync(path.join(secrets, 'draft.txt'), path.join(secrets, 'new.pem'));
        fs.writeFileSync(path.join(secrets, 'new.pem'), 'TOPSECRET\n'); // in place: the same inode
      }, 3000);
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'secrets/*.pem'], ['./rr.sh'], env);
      clearTimeout(host);
      assert.match(r.stdout, /read-race: /, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `the new secret was read: ${r.stdout}`);
    });
  }
  // The same for --deny-write data/*.key: the host renames data/draft.txt to data/new.key during the run; the
  // inode keeps its write rule, and a write open of other/xx.txt (same length) is answered "continue".
  for (const [tier, env] of TIERS) {
    it(`--deny-write data/*.key: a host-renamed data/new.key cannot be written by a racing thread (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(data);
      fs.mkdirSync(path.join(sb.workspace, 'other'));
      fs.writeFileSync(path.join(data, 'draft.txt'), 'draft\n');
      fs.writeFileSync(path.join(sb.workspace, 'other', 'xx.txt'), 'o\n');
      const py = READ_RACE_PY.replace("os.O_RDONLY", "os.O_WRONLY | os.O_APPEND").replace("os.readlink('/proc/self/fd/%d' % fd).endswith('.pem'): got = os.read(fd, 100)", "os.readlink('/proc/self/fd/%d' % fd).endswith('.key'): got = os.write(fd, b'PWNED')");
      writeScript(sb.workspace, 'wr.py', py, 0o644);
      writeScript(sb.workspace, 'wr.sh', '#!/bin/sh\npython3 wr.py "$PWD/data/new.key" "$PWD/other/xx.txt" 8\n');
      const host = setTimeout(() => fs.renameSync(path.join(data, 'draft.txt'), path.join(data, 'new.key')), 3000);
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./wr.sh'], env);
      clearTimeout(host);
      assert.match(r.stdout, /read-race: /, r.stdout + r.stderr);
      assert.equal(fs.readFileSync(path.join(data, 'new.key'), 'utf8'), 'draft\n', `data/new.key was written: ${r.stdout}`);
    });
  }
  // The fix: files in a deny glob's folders get no Landlock rule of their own, and the supervisor performs
  // their opens. What existed at the start and does not match is still read, written and truncated.
  for (const [tier, env] of TIERS) {
    it(`start-time files in a deny glob's folders are still read, written and truncated (${tier})`, async function () {
      this.timeout(120_000);
      const [data, secrets] = [path.join(sb.workspace, 'data'), path.join(sb.workspace, 'secrets')];
      fs.mkdirSync(path.join(data, 'sub'), { recursive: true });
      fs.mkdirSync(secrets);
      fs.writeFileSync(path.join(data, 'a.txt'), 'a\n');
      fs.writeFileSync(path.join(data, 'sub', 'b.txt'), 'b\n');
      fs.writeFileSync(path.join(secrets, 'c.txt'), 'c\n');
      fs.writeFileSync(path.join(secrets, 'old.pem'), 'SECRET\n');
      const attempt = (label: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${label}: ALLOWED"; else echo "${label}: denied"; fi\n`;
      writeScript(
        sb.workspace,
        'st.sh',
        '#!/bin/sh\n' +
          attempt('read-data', 'grep -q a data/a.txt') +
          attempt('append-data', "sh -c 'echo more >> data/a.txt'") +
          attempt('truncate-data', 'truncate -s 2 data/a.txt') +
          attempt('sub-data', "sh -c 'echo more >> data/sub/b.txt'") +
          attempt('read-secrets', 'grep -q c secrets/c.txt') +
          attempt('append-secrets', "sh -c 'echo more >> secrets/c.txt'") +
          attempt('read-pem', 'cat secrets/old.pem') +
          attempt('write-key', "sh -c 'echo x >> data/old.key'"),
      );
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key', '--deny-read', 'secrets/*.pem'], ['./st.sh'], env);
      for (const l of ['read-data', 'append-data', 'truncate-data', 'sub-data', 'read-secrets', 'append-secrets']) assert.match(r.stdout, new RegExp(`${l}: ALLOWED`), r.stdout + r.stderr);
      for (const l of ['read-pem', 'write-key']) assert.match(r.stdout, new RegExp(`${l}: denied`), r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /SECRET/);
      assert.equal(fs.readFileSync(path.join(data, 'a.txt'), 'utf8'), 'a\n');
      assert.equal(fs.readFileSync(path.join(data, 'sub', 'b.txt'), 'utf8'), 'b\nmore\n');
      assert.equal(fs.readFileSync(path.join(secrets, 'c.txt'), 'utf8'), 'c\nmore\n');
    });
  }
  // Symlinks and FIFOs in carved folders are made by the supervisor (supervisor-emulate-make.ts): a name the
  // glob matches is refused, and a link made there opens nothing the kernel alone would not (a link to the
  // glob's match or into .git is decided on what it resolves to). python3 -m venv makes links.
  for (const [tier, env] of TIERS) {
    it(`--deny-write data/*.key: links and FIFOs made in carved folders, never onto the glob nor a way past it (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(data);
      fs.writeFileSync(path.join(data, 'in.txt'), 'in\n');
      fs.writeFileSync(path.join(data, 'old.key'), 'old\n');
      const attempt = (label: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${label}: ALLOWED"; else echo "${label}: denied"; fi\n`;
      writeScript(
        sb.workspace,
        'mk.sh',
        '#!/bin/sh\n' +
          attempt('link-read', "sh -c 'ln -s in.txt data/link.txt && grep -q in data/link.txt'") +
          attempt('link-write', "sh -c 'echo more >> data/link.txt'") +
          attempt('link-key', 'ln -s in.txt data/l.key') +
          attempt('fifo-key', 'mkfifo data/f.key') +
          attempt('fifo-data', 'mkfifo data/f.txt') +
          attempt('via-link-to-key', "sh -c 'ln -s old.key data/to-key.txt && echo x >> data/to-key.txt'") +
          attempt('via-link-to-git', "sh -c 'ln -s .git/hooks hooks && echo x > hooks/pre-commit'") +
          attempt('root-readback', "sh -c 'echo x > new.txt && grep -q x new.txt'") +
          attempt('venv', "sh -c 'python3 -m venv --without-pip venv && venv/bin/python -c \"import sys; assert sys.prefix.endswith(\\\"/venv\\\")\"'"),
      );
      fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks'), { recursive: true });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./mk.sh'], env);
      // venv in both tiers: the fallback tier's supervisor performs its chmod calls (supervisor-metadata.ts).
      const ok = ['link-read', 'link-write', 'fifo-data', 'root-readback', 'venv'];
      for (const l of ok) assert.match(r.stdout, new RegExp(`${l}: ALLOWED`), r.stdout + r.stderr);
      for (const l of ['link-key', 'fifo-key', 'via-link-to-key', 'via-link-to-git']) assert.match(r.stdout, new RegExp(`${l}: denied`), r.stdout + r.stderr);
      assert.equal(fs.readFileSync(path.join(data, 'old.key'), 'utf8'), 'old\n');
      assert.equal(fs.readFileSync(path.join(data, 'in.txt'), 'utf8'), 'in\nmore\n');
      assert.ok(!fs.existsSync(path.join(sb.workspace, '.git', 'hooks', 'pre-commit')));
      assert.ok(fs.lstatSync(path.join(data, 'f.txt')).isFIFO());
    });
  }
});

// Red team rt5: the supervisor makes a FIFO in a carved folder with mkfifoat() and then sets its mode with
// fchmodat(), which follows a final symlink (notify-addfd.ts: "the name was just made by us ... following is
// moot"). It is not moot: between the two calls another process can put a link at that name. Within one run
// the supervisor's worker serialises the script's calls, but two runs on the same workspace have two
// supervisors: run B swaps (RENAME_EXCHANGE, performed by its supervisor) a link data/s -> ~/.ssh/id_rsa with
// data/f while run A mknod()s data/f with mode 04777 under umask 0. Run A's supervisor then chmods the link's
// target, anywhere on the host, with its own rights (a root CLI: any file, CAP_FOWNER). Seen: a root-only
// 0600 file outside every grant became -rwsrwxrwx within seconds, both tiers.
describe('red team rt5: the supervisor chmods through a link swapped in by another run (real kernel)', function () {
  const sb = useSandbox();

  const MKNOD_PY = `import os, stat, time, sys
os.umask(0); end = time.time() + float(sys.argv[1]); n = 0
while time.time() < end:
    try: os.mknod('data/f', stat.S_IFIFO | 0o4777)
    except OSError: pass
    try: os.unlink('data/f')
    except OSError: pass
    n += 1
print('mknod loops', n)
`;
  const SWAP_PY = `import ctypes, os, stat, time, sys
libc = ctypes.CDLL(None, use_errno=True)
end = time.time() + float(sys.argv[1]); n = ok = 0
while time.time() < end:
    try:
        if not stat.S_ISLNK(os.lstat('data/s').st_mode): os.unlink('data/s'); raise FileNotFoundError
    except FileNotFoundError:
        try: os.symlink(sys.argv[2], 'data/s')
        except OSError: time.sleep(0.05)
    # renameat2(AT_FDCWD, data/s, AT_FDCWD, data/f, RENAME_EXCHANGE), x86_64 and aarch64 numbers
    nr = 316 if os.uname().machine == 'x86_64' else 276
    if libc.syscall(nr, -100, b'data/s', -100, b'data/f', 2) == 0:
        ok += 1
        libc.syscall(nr, -100, b'data/s', -100, b'data/f', 2)
    n += 1
print('swaps', n, 'ok', ok)
`;
  for (const [tier, env] of TIERS) {
    it(`--deny-write data/*.key: a FIFO's mode is never set through a link another run swaps in (${tier})`, async function () {
      this.timeout(150_000);
      fs.mkdirSync(path.join(sb.workspace, 'data'));
      fs.chmodSync(sb.workspace, 0o755);
      const victim = path.join(sb.home, '.ssh', 'id_rsa');
      fs.chmodSync(victim, 0o600);
      writeScript(sb.workspace, 'mk.py', MKNOD_PY, 0o644);
      writeScript(sb.workspace, 'swap.py', SWAP_PY, 0o644);
      const args = ['--mode', 'enforce', '--deny-write', 'data/*.key'];
      const [a, b] = await Promise.all([
        runIn(sb, args, ['python3', 'mk.py', '20'], env),
        runIn(sb, args, ['python3', 'swap.py', '18', victim], env),
      ]);
      const mode = fs.statSync(victim).mode & 0o7777;
      assert.match(a.stdout, /mknod loops/, a.stdout + a.stderr);
      assert.match(b.stdout, /swaps/, b.stdout + b.stderr);
      assert.equal(mode.toString(8), '600', `${victim} (outside every grant) was chmodded by run A's supervisor: ${a.stdout}${b.stdout}`);
    });
  }
});

// Red team rt5: a start-time *folder* renamed onto the glob by a process outside the run (data/sub ->
// data/x.key for data/*.key, secrets/sub -> secrets/x.pem for secrets/*.pem). The folder keeps the Landlock
// rule it got as data/sub (subfolders of a glob's folder keep theirs), and the policy refuses what is below a
// match only by the supervisor's name check, which answers "continue" for the other, allowed name of a buffer
// a second thread flips: the kernel then opens data/x.key/in.txt under data/sub's rule. The README lists this
// as still open; these tests say that it is practical (tens to a few thousand tries, well within 8 s).
describe('red team rt5: a start-time folder renamed onto a deny glob (real kernel)', function () {
  const sb = useSandbox();

  const inside = (py: string, suffix: string) => py.replace(/os\.readlink\('\/proc\/self\/fd\/%d' % fd\)\.endswith\('\.(key|pem)'\)/, `'${suffix}' in os.readlink('/proc/self/fd/%d' % fd)`);
  for (const [tier, env] of TIERS) {
    it(`--deny-write data/*.key: data/sub renamed to data/x.key by the host, data/x.key/in.txt not written by a racing thread (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(path.join(data, 'sub'), { recursive: true });
      fs.mkdirSync(path.join(sb.workspace, 'other'));
      fs.writeFileSync(path.join(data, 'sub', 'in.txt'), 'in\n');
      // Same length as data/x.key/in.txt.
      fs.writeFileSync(path.join(sb.workspace, 'other', 'xxxxxxx.txt'), 'o\n');
      const py = inside(READ_RACE_PY, '.key/').replace('os.O_RDONLY', 'os.O_WRONLY | os.O_APPEND').replace('got = os.read(fd, 100)', "got = os.write(fd, b'PWNED')");
      writeScript(sb.workspace, 'wr.py', py, 0o644);
      writeScript(sb.workspace, 'wr.sh', '#!/bin/sh\npython3 wr.py "$PWD/data/x.key/in.txt" "$PWD/other/xxxxxxx.txt" 8\n');
      const host = setTimeout(() => fs.renameSync(path.join(data, 'sub'), path.join(data, 'x.key')), 3000);
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./wr.sh'], env);
      clearTimeout(host);
      assert.match(r.stdout, /read-race: /, r.stdout + r.stderr);
      assert.equal(fs.readFileSync(path.join(data, 'x.key', 'in.txt'), 'utf8'), 'in\n', `data/x.key/in.txt was written: ${r.stdout}`);
    });
    it(`--deny-read secrets/*.pem: secrets/sub renamed to secrets/x.pem by the host, secrets/x.pem/in.txt not read by a racing thread (${tier})`, async function () {
      this.timeout(120_000);
      const secrets = path.join(sb.workspace, 'secrets');
      fs.mkdirSync(path.join(secrets, 'sub'), { recursive: true });
      fs.mkdirSync(path.join(sb.workspace, 'other'));
      fs.writeFileSync(path.join(secrets, 'sub', 'in.txt'), 'draft\n');
      // Same length as secrets/x.pem/in.txt.
      fs.writeFileSync(path.join(sb.workspace, 'other', 'xxxxxxxxxx.txt'), 'o\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'rr.py', inside(READ_RACE_PY, '.pem/'), 0o644);
      writeScript(sb.workspace, 'rr.sh', '#!/bin/sh\npython3 rr.py "$PWD/secrets/x.pem/in.txt" "$PWD/other/xxxxxxxxxx.txt" 8\n');
      const host = setTimeout(() => {
        fs.renameSync(path.join(secrets, 'sub'), path.join(secrets, 'x.pem'));
        fs.writeFileSync(path.join(secrets, 'x.pem', 'in.txt'), 'TOPSECRET\n'); // in place: the same inode
      }, 3000);
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'secrets/*.pem'], ['./rr.sh'], env);
      clearTimeout(host);
      assert.match(r.stdout, /read-race: /, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `secrets/x.pem/in.txt was read: ${r.stdout}`);
    });
  }
});
