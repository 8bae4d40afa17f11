// The apply sequence on the real kernel: a harness process applies a plan to itself and execs a shell, and
// every assertion is about what the exec'd program observes. Runs as root and as an unprivileged user.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { landlockAbi } from '../../../../native/linux/landlock';
import { loadLibc, RLIM_INFINITY, type Libc } from '../../../../native/linux/libc';
import type { LinuxPlan } from '../../../../src/protocol/plan';
import { ALL, READ, runHarness, shPlan, statusField, tempDir, useHarness } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Gone, or a zombie nobody reaped (the container's init may not reap). */
function deadOrZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe(`native apply sequence, real child process (uid ${process.getuid?.()})`, function () {
  this.timeout(30000);
  const { h, cleanup } = useHarness();
  let libc: Libc;
  before(() => (libc = loadLibc()));

  it('keeps stdout and stderr across exec (close-on-exec cleared on 0-2)', function () {
    const r = runHarness(h, { plan: shPlan('echo hello; echo oops >&2') });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    assert.match(r.stderr, /^oops$/m);
  });

  it('sets no_new_privs for the exec\'d program', function () {
    const on = runHarness(h, { plan: shPlan('grep NoNewPrivs /proc/$$/status', { noNewPrivs: true }) });
    assert.equal(on.status, 0, on.stderr);
    assert.equal(statusField(on.stdout, 'NoNewPrivs'), '1');
    const off = runHarness(h, { plan: shPlan('grep NoNewPrivs /proc/$$/status') });
    assert.equal(statusField(off.stdout, 'NoNewPrivs'), '0');
  });

  it('a sandboxed plan leaves the exec\'d program no capability; a disabled-mode plan leaves them alone', function () {
    const on = runHarness(h, { plan: shPlan("grep -E '^Cap' /proc/$$/status", { noNewPrivs: true }) });
    assert.equal(on.status, 0, on.stderr);
    for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.match(statusField(on.stdout, f) ?? '', /^0+$/, f);
    if (process.getuid?.() === 0) {
      assert.match(statusField(on.stdout, 'CapBnd') ?? '', /^0+$/, 'root: bounding set emptied');
      const off = runHarness(h, { plan: shPlan("grep -E '^Cap' /proc/$$/status") });
      assert.doesNotMatch(statusField(off.stdout, 'CapEff') ?? '', /^0+$/, 'mode disabled: root keeps its capabilities');
    }
  });

  it('a launcher holding capabilities over its own user namespace (unshare --keep-caps) leaves the program none', function () {
    const probe = spawnSync('unshare', ['--user', '--map-current-user', '--keep-caps', '/bin/sh', '-c', "grep '^CapEff' /proc/self/status"], { encoding: 'utf8' });
    if (probe.status !== 0 || /CapEff:\s+0+$/m.test(probe.stdout)) this.skip(); // no user namespaces here, or no ambient capabilities in them
    const input = { plan: shPlan("grep -E '^Cap' /proc/$$/status", { noNewPrivs: true }) };
    const r = spawnSync('unshare', ['--user', '--map-current-user', '--keep-caps', process.execPath, h.script, JSON.stringify(input)], {
      env: { NODE_PATH: h.nodePath, PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb', 'CapBnd']) assert.match(statusField(r.stdout, f) ?? '', /^0+$/, `${f} in ${r.stdout}`);
  });

  it('applies rlimits, visible in /proc/self/limits', function () {
    const r = runHarness(h, {
      plan: shPlan('cat /proc/$$/limits', {
        rlimits: [
          { resource: 'nofile', soft: 64, hard: 64 },
          { resource: 'core', soft: 0, hard: 0 },
          { resource: 'cpu', soft: 50, hard: 51 },
          { resource: 'fsize', soft: 1048576, hard: -1 },
        ],
      }),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Max open files\s+64\s+64\s+files/m);
    assert.match(r.stdout, /^Max core file size\s+0\s+0\s+bytes/m);
    assert.match(r.stdout, /^Max cpu time\s+50\s+51\s+seconds/m);
    const fsizeHard = libc.getrlimit(1).hard;
    assert.match(r.stdout, new RegExp(`^Max file size\\s+1048576\\s+${fsizeHard === RLIM_INFINITY ? 'unlimited' : fsizeHard}\\s`, 'm'));
  });

  it('clamps a hard limit above the current one instead of failing', function () {
    const cur = libc.getrlimit(7);
    if (cur.hard === RLIM_INFINITY) this.skip();
    const asked = Number(cur.hard) + 1000;
    const r = runHarness(h, { plan: shPlan('cat /proc/$$/limits', { rlimits: [{ resource: 'nofile', soft: asked, hard: asked }] }) });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^Max open files\\s+${cur.hard}\\s+${cur.hard}\\s+files`, 'm'));
  });

  it('does not leak an inheritable fd opened before apply', function () {
    // ls as a simple command, not in a pipeline: while a pipeline is set up the shell itself holds its pipes.
    const probe = (fd: number) => `if [ -e /proc/$$/fd/${fd} ]; then echo present; else echo absent; fi; ls -v /proc/$$/fd`;
    // First learn which fd the harness gets, then ask about exactly that one.
    const first = runHarness(h, { extraFd: true, plan: shPlan('true') });
    const fd = first.info.extraFd!;
    assert.ok(fd >= 5, `extra fd ${fd}`);
    assert.equal(first.info.extraFdFlags, 0, 'the harness fd must be inheritable, or the test proves nothing');
    const r = runHarness(h, { extraFd: true, plan: shPlan(probe(fd)) });
    assert.equal(r.info.extraFd, fd);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'absent\n0\n1\n2\n');
  });

  it('resets ignored signals and the signal mask (same as a plain spawn)', function () {
    // exec, not a child: dash blocks every signal around fork(), so a child reading the shell's status can
    // catch that transient mask.
    const script = "exec grep -E '^Sig(Ign|Blk)' /proc/self/status";
    const r = runHarness(h, { blockSignals: [10], plan: shPlan(script) });
    assert.equal(r.status, 0, r.stderr);
    // Node ignores SIGPIPE (and SIGXFSZ) and we blocked SIGUSR1: without the reset the shell would inherit both.
    assert.notEqual(r.info.sigIgn, '0000000000000000');
    assert.equal(r.info.sigBlk, '0000000000000200');
    const plain = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    assert.equal(r.stdout, plain.stdout);
    assert.equal(statusField(r.stdout, 'SigIgn'), '0000000000000000');
    assert.equal(statusField(r.stdout, 'SigBlk'), '0000000000000000');
  });

  it('gives the program its own session and process group', function () {
    const r = runHarness(h, { plan: shPlan('read pid comm state ppid pgrp sid rest < /proc/$$/stat; echo "$$ $pgrp $sid"') });
    assert.equal(r.status, 0, r.stderr);
    const [pid, pgrp, sid] = r.stdout.trim().split(' ');
    assert.equal(pgrp, pid);
    assert.equal(sid, pid);
  });

  it('kills the program when its parent dies (PR_SET_PDEATHSIG)', async function () {
    const watch = async (cmd: string, args: string[], waitMs: number) => {
      const outer = spawn('/bin/sh', ['-c', `${cmd} </dev/null >/dev/null 2>&1 & echo $!; read x`, 'sh', ...args], {
        env: { NODE_PATH: h.nodePath, PATH: '/usr/bin:/bin' },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const pid = await new Promise<number>((resolve) => outer.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
      // Wait until the harness has exec'd sleep.
      for (let i = 0; i < 200 && !fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'); i++) await sleep(50);
      assert.ok(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'));
      const exited = new Promise((r) => outer.once('exit', r));
      outer.stdin.end('go\n');
      await exited;
      for (let i = 0; i < waitMs / 50 && !deadOrZombie(pid); i++) await sleep(50);
      return pid;
    };
    const input = JSON.stringify({ plan: { ...shPlan(''), file: '/bin/sleep', argv: ['sleep', '30'] } });
    const sandboxed = await watch('"$1" "$2" "$3"', [process.execPath, h.script, input], 5000);
    assert.ok(deadOrZombie(sandboxed), 'sandboxed sleep outlived its parent');
    // Control: a plain orphan survives its parent.
    const plain = await watch('sleep 30', [], 500);
    try {
      assert.ok(!deadOrZombie(plain), 'control sleep died too: the test proves nothing');
    } finally {
      process.kill(plain, 'SIGKILL');
    }
  });

  describe('exec failures come back as typed errors', function () {
    let dir: string;
    before(function () {
      dir = tempDir('sbx-native-exec');
      cleanup.push(dir);
      fs.writeFileSync(path.join(dir, 'not-executable.sh'), '#!/bin/sh\necho hi\n', { mode: 0o644 });
      fs.writeFileSync(path.join(dir, 'garbage'), 'this is not a program\0\0\0', { mode: 0o755 });
    });

    const fileErr = (file: string) => runHarness(h, { plan: { ...shPlan(''), file, argv: [path.basename(file)] } });

    it('a missing file → SCRIPT_NOT_FOUND', function () {
      const r = fileErr(path.join(dir, 'missing'));
      assert.equal(r.status, 125);
      assert.equal(r.sandboxError?.code, 'SCRIPT_NOT_FOUND');
      assert.equal(r.sandboxError?.call, 'execve');
      assert.equal(r.sandboxError?.errno, 2);
    });

    it('a file without the x bit → SCRIPT_NOT_EXECUTABLE (EACCES)', function () {
      const r = fileErr(path.join(dir, 'not-executable.sh'));
      assert.equal(r.status, 125);
      assert.equal(r.sandboxError?.code, 'SCRIPT_NOT_EXECUTABLE');
      assert.equal(r.sandboxError?.errno, 13);
    });

    it('an executable file of unknown format → SCRIPT_NOT_EXECUTABLE (ENOEXEC)', function () {
      const r = fileErr(path.join(dir, 'garbage'));
      assert.equal(r.status, 125);
      assert.equal(r.sandboxError?.code, 'SCRIPT_NOT_EXECUTABLE');
      assert.equal(r.sandboxError?.errno, 8);
    });

    it('a missing cwd → SETUP_FAILED from chdir, before anything is applied', function () {
      const r = runHarness(h, { plan: shPlan('true', { cwd: path.join(dir, 'no-such-dir') }) });
      assert.equal(r.status, 125);
      assert.equal(r.sandboxError?.code, 'SETUP_FAILED');
      assert.equal(r.sandboxError?.call, 'chdir');
      assert.equal(r.sandboxError?.errno, 2);
    });
  });

  describe('Landlock', function () {
    let ws: string;
    let outside: string;
    before(function () {
      if (landlockAbi(libc) === null) this.skip();
      ws = tempDir('sbx-native-ws');
      outside = tempDir('sbx-native-outside');
      cleanup.push(ws, outside);
      fs.writeFileSync(path.join(outside, 'public'), 'public data\n');
      fs.writeFileSync(path.join(outside, 'secret'), 'secret data\n');
    });

    const plan = (script: string, carveOuts: string[] = []): LinuxPlan =>
      shPlan(script, {
        noNewPrivs: true,
        requireLandlock: true,
        env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', WS: ws, OUT: outside },
        landlock: {
          handled: ALL,
          rules: [
            { path: '/', access: READ },
            { path: ws, access: ALL },
          ],
          carveOuts,
          scopes: ['abstract_unix_socket', 'signal'],
        },
      });

    it('allows writes in the workspace and denies them elsewhere', function () {
      const target = `/tmp/sbx-outside-${process.pid}-${Date.now()}`;
      const r = runHarness(h, { plan: plan(`echo x > "$WS/ok" && echo wrote; echo x > ${target} || echo denied`) });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'wrote\ndenied\n');
      assert.match(r.stderr, new RegExp(`${target}: Permission denied`));
      assert.equal(fs.readFileSync(path.join(ws, 'ok'), 'utf8'), 'x\n');
      assert.ok(!fs.existsSync(target));
      const ll = r.landlock as { abi: number; rulesAdded: number; skipped: unknown[] };
      assert.ok(ll.abi >= 1);
      assert.equal(ll.rulesAdded, 2);
      assert.deepEqual(ll.skipped, []);
    });

    it('is applied without any hooks too', function () {
      const target = `/tmp/sbx-outside-${process.pid}-${Date.now()}-nohooks`;
      const r = runHarness(h, { noHooks: true, plan: plan(`echo x > ${target} || echo denied`) });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'denied\n');
      assert.ok(!fs.existsSync(target));
    });

    it('a carve-out denies one child of a readable directory, not its siblings', function () {
      const secret = path.join(outside, 'secret');
      const r = runHarness(h, { plan: plan('cat "$OUT/public"; cat "$OUT/secret" || echo denied', [secret]) });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'public data\ndenied\n');
      assert.match(r.stderr, /secret: Permission denied/);
    });

    it('denies hard-linking an outside file into the workspace (REFER not granted outside)', function () {
      const script = 'ln "$OUT/public" "$WS/link" && echo linked || echo refused';
      const r = runHarness(h, { plan: plan(script) });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'refused\n');
      assert.ok(!fs.existsSync(path.join(ws, 'link')));
      // Control: the same link succeeds without Landlock, so the refusal above is Landlock's.
      const control = runHarness(h, { plan: shPlan(script, { env: { PATH: '/usr/bin:/bin', WS: ws, OUT: outside } }) });
      assert.equal(control.stdout, 'linked\n', control.stderr);
      fs.rmSync(path.join(ws, 'link'));
    });

    it('reports a missing rule path as skipped instead of failing', function () {
      const p = plan('echo ran');
      p.landlock!.rules.push({ path: path.join(ws, 'does-not-exist'), access: READ });
      const r = runHarness(h, { plan: p });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'ran\n');
      const ll = r.landlock as { skipped: Array<{ path: string }> };
      assert.deepEqual(
        ll.skipped.map((s) => s.path),
        [path.join(ws, 'does-not-exist')],
      );
    });
  });
});
