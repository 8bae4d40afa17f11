// The host's side of the launcher handshake, against stand-in launchers (real child processes on the real
// fd-3 socketpair) that end the exchange in each way a launcher can: exec after its 'exec' message, report an
// error, or die during setup without a word.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ColdLauncherSource } from '../../../src/host/launcher-source';
import { discardEarly, spawnLauncher, type EarlyLauncher } from '../../../src/host/launcher-spawn';
import type { Plan } from '../../../src/protocol/plan';

// Reads the plan line, then does what `then` says. fd 3 is a socket: read it as a stream.
const launcher = (then: string) => `
const fs = require('node:fs');
const net = require('node:net');
const send = (m) => fs.writeSync(3, JSON.stringify(m) + '\\n');
send({ type: 'ready', pid: process.pid });
const s = new net.Socket({ fd: 3, readable: true, writable: false });
let buf = '';
s.on('data', (d) => { buf += d; if (buf.includes('\\n')) { s.pause(); ${then} } });
`;

const PLAN = { argv: ['/bin/true'] } as unknown as Plan;

describe('launcher source: exec() outcome', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-launcher-src-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function outcome(name: string, then: string, onListener: ((fd: number) => Promise<void>) | null = null) {
    const file = path.join(dir, `${name}.js`);
    fs.writeFileSync(file, launcher(then));
    const src = new ColdLauncherSource(file);
    try {
      const l = await src.acquire({ stdin: 'ignore' });
      l.onListener = onListener;
      const out = await l.exec(PLAN);
      const exit = await l.exited;
      return { out, exit };
    } finally {
      src.dispose();
    }
  }

  it("a launcher that dies without a word after the plan is LAUNCHER_CRASHED and silent (the runner may use another), not a started run", async () => {
    const { out, exit } = await outcome('killed', "process.kill(process.pid, 'SIGKILL');");
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(out, { ok: false, silent: true, error: { code: 'LAUNCHER_CRASHED', message: 'launcher exited before it answered the plan (killed while it waited, or crashed at once)' } });
  });

  it("a launcher that dies during setup after a message (no 'exec' message) is LAUNCHER_CRASHED, not silent, not a started run", async () => {
    const then = "send({ type: 'listener', fd: 9 }); s.resume(); s.on('data', () => process.kill(process.pid, 'SIGKILL'));";
    const { out, exit } = await outcome('killed-late', then, async () => undefined);
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(out, { ok: false, error: { code: 'LAUNCHER_CRASHED', message: 'launcher exited before the script started (killed or crashed during setup)' } });
  });

  it("a launcher that sends 'exec' and then execs (fd 3 closed at exec) is a started run with its CPU", async () => {
    // The exec stand-in: replace the process image; fd 3 is not inherited past exec (close-on-exec).
    const { out } = await outcome('execs', "send({ type: 'exec', cpuUserMs: 12, cpuSystemMs: 3 }); fs.closeSync(3); setTimeout(() => process.exit(0), 50);");
    assert.deepEqual(out, { ok: true, launcherCpu: { userMs: 12, systemMs: 3 } });
  });

  it('an error the launcher reports is passed on as it is', async () => {
    const { out } = await outcome('fails', "send({ type: 'error', error: { code: 'SETUP_FAILED', message: 'chdir /x failed: ENOENT' } }); process.exit(125);");
    assert.deepEqual(out, { ok: false, error: { code: 'SETUP_FAILED', message: 'chdir /x failed: ENOENT' } });
  });
});

describe("launcher source: the CLI entry's early launcher", function () {
  this.timeout(20_000);
  let dir: string;
  let file: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-launcher-early-'));
    file = path.join(dir, 'early.js');
    fs.writeFileSync(file, launcher("send({ type: 'exec', cpuUserMs: 1, cpuSystemMs: 1 }); fs.closeSync(3); setTimeout(() => process.exit(0), 50);"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const early = (over: Partial<EarlyLauncher> = {}): EarlyLauncher => {
    const e = { prefix: [], launcherPath: file, nodePath: process.execPath, stdin: 'ignore' as const, claimed: false, ...over };
    return { ...e, child: spawnLauncher(e.launcherPath, e.nodePath, e.prefix, e.stdin) };
  };

  it('is adopted only when it is exactly the launcher the source would start; otherwise it stays unclaimed for the caller to kill', async () => {
    const src = new ColdLauncherSource(file);
    const others = [early({ stdin: 'ignore' }), early(), early()];
    try {
      // Another stdin, another launcher, another stage prefix: not this source's launcher.
      assert.equal(src.adoptEarly(others[0]!, 'pipe'), null);
      assert.equal(new ColdLauncherSource(path.join(dir, 'other.js')).adoptEarly(others[1]!, 'ignore'), null);
      assert.equal(new ColdLauncherSource(file, process.execPath, ['/usr/bin/env']).adoptEarly(others[2]!, 'ignore'), null);
      assert.deepEqual(others.map((o) => o.claimed), [false, false, false]);
      for (const o of others) discardEarly(o);
      const exits = await Promise.all(others.map((o) => new Promise((r) => (o.child.exitCode !== null || o.child.signalCode !== null ? r(o.child.signalCode) : o.child.once('exit', (_c, s) => r(s))))));
      assert.deepEqual(exits, ['SIGKILL', 'SIGKILL', 'SIGKILL']);
    } finally {
      src.dispose();
    }
  });

  it('adopted, it is a launcher like an acquired one (handshake, exec, exit), owned by the source and claimed', async () => {
    const src = new ColdLauncherSource(file);
    const e = early();
    try {
      const p = src.adoptEarly(e, 'ignore');
      assert.ok(p);
      assert.equal(e.claimed, true);
      const l = await p!;
      assert.ok(src.owns(l.pid));
      assert.deepEqual(await l.exec(PLAN), { ok: true, launcherCpu: { userMs: 1, systemMs: 1 } });
      assert.deepEqual(await l.exited, { code: 0, signal: null });
      discardEarly(e); // claimed: nothing to do
    } finally {
      src.dispose();
    }
  });

  it('one that died before it was adopted is refused as LAUNCHER_CRASHED (the prestart then starts a fresh one)', async () => {
    const src = new ColdLauncherSource(file);
    const e = early();
    try {
      e.child.kill('SIGKILL');
      await new Promise((r) => e.child.once('exit', r));
      await assert.rejects(src.adoptEarly(e, 'ignore')!, (err: Error & { code?: string }) => err.code === 'LAUNCHER_CRASHED');
    } finally {
      src.dispose();
    }
  });
});
