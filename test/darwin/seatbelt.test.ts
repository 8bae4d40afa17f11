// macOS native tier: real scripts run by the real CLI under Seatbelt (sandbox-exec) and Darwin rlimits,
// observed from outside (file unchanged, secret not printed, connection refused, SIGXCPU exit). Runs on the
// GitHub macos runner (.github/workflows/cross-platform.yml); on any other OS every test skips with the
// reason. Build first: `node build.mjs`, then mocha on out/test/darwin/*.test.js.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { finished, limitEvents, makeSandbox, runIn, writeScript, type Sandbox } from '../integration/linux/helpers';

const ON_DARWIN = process.platform === 'darwin';
const HAS_SANDBOX_EXEC = ON_DARWIN && fs.existsSync('/usr/bin/sandbox-exec');

describe('macOS Seatbelt backend (real sandbox-exec)', function () {
  this.timeout(90000);
  let sb: Sandbox;
  before(function () {
    const why = !ON_DARWIN
      ? `not macOS (${process.platform}): Seatbelt exists only there; this tier runs on the macos CI runner`
      : !HAS_SANDBOX_EXEC
        ? '/usr/bin/sandbox-exec missing: enforce is impossible here, the capability report says so'
        : null;
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
  });
  beforeEach(() => {
    sb = makeSandbox();
    // Seatbelt matches resolved paths: the fixture sits under /var/folders (→ /private/var/folders).
    sb.workspace = fs.realpathSync(sb.workspace);
    sb.outside = fs.realpathSync(sb.outside);
  });
  afterEach(() => sb?.cleanup());

  it('a plain script runs and writes inside the workspace', async () => {
    const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none'], ['/bin/sh', '-c', 'echo hi > inside.txt && cat inside.txt']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hi/);
    assert.equal(fs.readFileSync(path.join(sb.workspace, 'inside.txt'), 'utf8'), 'hi\n');
  });

  it('a write outside the workspace is refused and the file is unchanged', async () => {
    const target = path.join(sb.outside, 'existing.txt');
    const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none'], ['/bin/sh', '-c', `echo pwned > "${target}"; echo pwned > "${sb.outside}/new.txt"; exit 0`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(target, 'utf8'), 'original\n');
    assert.ok(!fs.existsSync(path.join(sb.outside, 'new.txt')));
    assert.match(r.stderr + r.stdout, /Operation not permitted/);
  });

  it('the refused write is reported live as a file violation (admin accounts: the unified log)', async function () {
    const groups = spawnSync('/usr/bin/id', ['-Gn'], { encoding: 'utf8' }).stdout ?? '';
    if (!groups.split(/\s+/).includes('admin')) {
      console.log('    skipped: not an admin account, `log stream` cannot be read (the capability report says so)');
      this.skip();
    }
    const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none'], ['/bin/sh', '-c', `sleep 1; echo x > "${sb.outside}/live.txt"; sleep 1; exit 0`]);
    assert.equal(r.code, 0, r.stderr);
    const v = r.events.filter((e) => e.type === 'violation' && e.kind === 'file');
    assert.ok(
      v.some((e) => String(e.path ?? '').endsWith('/live.txt')),
      `no live violation for live.txt: ${JSON.stringify(r.events.filter((e) => e.type === 'violation')).slice(0, 500)}`,
    );
  });

  it("a read of the planted secret in HOME's .ssh is refused", async () => {
    const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none'], ['/bin/cat', path.join(sb.home, '.ssh', 'id_rsa')]);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /FAKE KEY|secret/);
  });

  it('writes into .git/hooks, renaming the .git folder and a hard link to a hook are refused', async () => {
    fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks'), { recursive: true });
    const hook = path.join(sb.workspace, '.git', 'hooks', 'pre-commit');
    fs.writeFileSync(hook, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none'], [
      '/bin/sh',
      '-c',
      'echo evil >> .git/hooks/pre-commit; echo evil > .GIT/hooks/post-checkout; mv .git g2; ln .git/hooks/pre-commit h && echo evil >> h; exit 0',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(hook, 'utf8'), '#!/bin/sh\nexit 0\n');
    assert.ok(!fs.existsSync(path.join(sb.workspace, '.git', 'hooks', 'post-checkout')));
    assert.ok(fs.existsSync(path.join(sb.workspace, '.git')) && !fs.existsSync(path.join(sb.workspace, 'g2')));
  });

  it('network none: a connection to a listening local port is refused', async () => {
    const server = net.createServer((s) => s.end('reached\n'));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const prog = `const s=require('net').connect(${port},'127.0.0.1');s.on('data',d=>process.stdout.write(d));s.on('error',e=>{console.log('refused',e.code);});`;
      writeScript(sb.workspace, 'conn.js', prog);
      const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none'], [process.execPath, 'conn.js']);
      assert.doesNotMatch(r.stdout, /reached/);
      assert.match(r.stdout, /refused E(PERM|ACCES)/);
    } finally {
      server.close();
    }
  });

  it('CPU: a busy loop under --cpu 1 dies of SIGXCPU (or the hard limit SIGKILL) and the limit is reported', async () => {
    const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none', '--cpu', '1'], ['/bin/sh', '-c', 'while :; do :; done']);
    assert.ok(r.code === 128 + 24 || r.code === 128 + 9, `exit ${r.code} ${r.stderr}`);
    assert.deepEqual(limitEvents(r), ['cpu']);
    finished(r);
  });

  it('file size: writing 3 MiB under --max-file-size 1 stops at 1 MiB (SIGXFSZ)', async () => {
    const r = await runIn(sb, ['--profile', 'moderate', '--net', 'none', '--max-file-size', '1'], ['/bin/sh', '-c', 'head -c 3145728 /dev/zero > big.bin']);
    assert.equal(r.code, 128 + 25, r.stderr);
    assert.equal(fs.statSync(path.join(sb.workspace, 'big.bin')).size, 1048576);
  });
});
