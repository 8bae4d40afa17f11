// Live violations: syscall events by name, file events, warn mode, events in order as they happen, and
// one supervisor serving many concurrent runs.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, REPO, makeSandbox, runIn, writeScript, PYTHON, type Sandbox } from './helpers';

const SYSCALL_PY = `import ctypes, os, sys, json
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
nr = {'ptrace': 101, 'mount': 165, 'bpf': 321, 'unshare': 272}
args = {'ptrace': [0x7fff, 999999999, 0, 0], 'mount': [0, 0, 0, 0], 'bpf': [5, 0, 0], 'unshare': [0x10000000]}
out = {}
for name in sys.argv[1:]:
    r = libc.syscall(ctypes.c_long(nr[name]), *[ctypes.c_ulong(a) for a in args[name]])
    out[name] = ctypes.get_errno() if r == -1 else 0
print(json.dumps(out))
`;

describe('live violations (supervisor)', function () {
  this.timeout(60000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.cleanup());

  it('ptrace, mount, bpf and unshare each fail with EPERM and produce a syscall event with the name', async function () {
    if (process.arch !== 'x64') this.skip();
    writeScript(sb.workspace, 'sys.py', SYSCALL_PY);
    const r = await runIn(sb, [], [PYTHON, 'sys.py', 'ptrace', 'mount', 'bpf', 'unshare']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ptrace: 1, mount: 1, bpf: 1, unshare: 1 });
    const v = r.events.filter((e) => e.type === 'violation');
    assert.deepEqual(v.map((x) => x.syscall), ['ptrace', 'mount', 'bpf', 'unshare']);
    for (const x of v) {
      assert.equal(x.kind, 'syscall');
      assert.equal(x.action, 'blocked');
      assert.match(String(x.message), new RegExp(`^Blocked ${x.syscall} — `));
      assert.equal(x.rule, `seccomp:deny ${x.syscall}`);
    }
  });

  it('warn mode: the same syscalls are attempted for real and reported as warned', async function () {
    if (process.arch !== 'x64') this.skip();
    writeScript(sb.workspace, 'sys.py', SYSCALL_PY);
    const r = await runIn(sb, ['--mode', 'warn'], [PYTHON, 'sys.py', 'ptrace', 'unshare']);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ptrace, 3); // ESRCH: the kernel ran it
    assert.equal(out.unshare, 0); // a user namespace was really created
    const v = r.events.filter((e) => e.type === 'violation');
    assert.deepEqual(v.map((x) => [x.syscall, x.action]), [['ptrace', 'warned'], ['unshare', 'warned']]);
  });

  it('a write outside the workspace and a write to a protected path are file events with the path as written and resolved', async () => {
    fs.symlinkSync(sb.outside, path.join(sb.workspace, 'out-link'));
    writeScript(sb.workspace, 'w.sh', '#!/bin/sh\necho x > out-link/f.txt 2>/dev/null\necho y >> "$HOME/.bashrc" 2>/dev/null\nexit 0\n');
    const r = await runIn(sb, ['--profile', 'strict'], ['./w.sh']);
    const v = r.events.filter((e) => e.type === 'violation');
    const first = v.find((x) => x.path === 'out-link/f.txt');
    assert.ok(first, JSON.stringify(v));
    assert.equal(first!.kind, 'file');
    assert.equal(first!.resolvedPath, path.join(sb.outside, 'f.txt'));
    const rc = v.find((x) => String(x.path).endsWith('.bashrc'));
    assert.ok(rc, JSON.stringify(v));
    assert.equal(rc!.severity, 'critical');
    assert.ok(!fs.existsSync(path.join(sb.outside, 'f.txt')));
  });

  it('warn mode: a write outside the workspace happens and is reported as warned', async () => {
    const target = path.join(sb.outside, 'warned.txt');
    const r = await runIn(sb, ['--mode', 'warn', '--profile', 'strict'], ['/bin/sh', '-c', `echo x > ${target}; cat $HOME/.ssh/id_rsa >/dev/null`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(target));
    const v = r.events.filter((e) => e.type === 'violation');
    assert.ok(v.some((x) => x.path === target && x.action === 'warned'), JSON.stringify(v));
    assert.ok(v.some((x) => String(x.path).endsWith('id_rsa') && x.action === 'warned'), JSON.stringify(v));
  });

  it('enforce: a blocked read of a protected file is an event only with --report-reads; either way it fails', async () => {
    const script = 'cat "$HOME/.ssh/id_rsa" >/dev/null 2>&1 && echo READ || echo DENIED; cat /etc/hostname >/dev/null && echo SYSTEM-OK';
    const quiet = await runIn(sb, ['--profile', 'moderate'], ['/bin/sh', '-c', script]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stdout, /DENIED\nSYSTEM-OK/);
    assert.deepEqual(quiet.events.filter((e) => e.type === 'violation'), [], 'read opens are not supervised by default (cost)');
    const loud = await runIn(sb, ['--profile', 'moderate', '--report-reads'], ['/bin/sh', '-c', script]);
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stdout, /DENIED\nSYSTEM-OK/);
    const v = loud.events.filter((e) => e.type === 'violation');
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]!.action, 'blocked');
    assert.equal(v[0]!.kind, 'file');
    assert.equal(v[0]!.severity, 'critical');
    assert.equal(v[0]!.rule, 'protected:~/.ssh');
    assert.equal(v[0]!.path, path.join(sb.home, '.ssh', 'id_rsa'));
    assert.match(String(v[0]!.message), /^Blocked read of /);
  });

  it('--events shows an early violation before the script ends', async () => {
    const events = path.join(sb.root, 'live.jsonl');
    const child = spawn(process.execPath, [CLI, 'run', '--events', events, '--workspace', sb.workspace, '--profile', 'strict', '--', '/bin/sh', '-c', `echo x > ${sb.outside}/early.txt; sleep 60`], {
      cwd: sb.workspace,
      env: { PATH: process.env.PATH ?? '', HOME: sb.home },
      stdio: 'ignore',
    });
    try {
      // The script sleeps a minute after its violation: the event must come while it is still running. The
      // deadline only bounds a broken run; a loaded machine's cold CLI start alone can take several seconds.
      const deadline = Date.now() + 45_000;
      let seen = false;
      while (Date.now() < deadline && !seen) {
        await new Promise((r) => setTimeout(r, 100));
        seen = fs.existsSync(events) && /"type":"violation"/.test(fs.readFileSync(events, 'utf8'));
      }
      assert.ok(seen, 'no violation in the events file while the script was still running');
      assert.equal(child.exitCode, null, 'the script had already ended');
      const types = fs.readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l).type);
      assert.deepEqual(types, ['run_started', 'violation']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
    const types = fs.readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l).type);
    assert.equal(types.at(-1), 'run_finished');
  });

  it('20 concurrent runs on one supervisor each get exactly their own events', async () => {
    // The engine is used as a library here (one host, one supervisor worker), like the extension's host.
    const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
    const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
    const engine = createEngine({ launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'out/src/host/linux/supervisor-worker.js') });
    try {
      const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'strict' } }, { workspace: sb.workspace, home: sb.home });
      const runs = Array.from({ length: 20 }, (_, i) => {
        const h = engine.runner.run({
          command: ['/bin/sh', '-c', `for k in 1 2 3; do echo x > ${sb.outside}/run-${i}-$k.txt; done 2>/dev/null; exit ${i}`],
          cwd: sb.workspace,
          policy,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sb.home },
        });
        const seen: string[] = [];
        h.on('violation', (v) => seen.push(String(v.path)));
        return h.wait().then((res) => ({ i, res, seen, runId: h.runId }));
      });
      const results = await Promise.all(runs);
      for (const { i, res, seen } of results) {
        assert.equal(res.exitCode, i, JSON.stringify(res.setupError));
        assert.deepEqual(seen, [1, 2, 3].map((k) => `${sb.outside}/run-${i}-${k}.txt`));
      }
      assert.equal(fs.readdirSync(sb.outside).length, 1); // only existing.txt
    } finally {
      engine.dispose();
    }
  });
});

void os;
