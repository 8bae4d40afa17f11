// The host's side of the launcher handshake, against stand-in launchers (real child processes on the real
// fd-3 socketpair) that end the exchange in each way a launcher can: exec after its 'exec' message, report an
// error, or die during setup without a word.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ColdLauncherSource } from '../../../src/host/launcher-source';
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
