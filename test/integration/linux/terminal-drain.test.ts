// The end of a run's terminal output: every byte the script wrote to its pty before it exited reaches the
// host before the run is reported finished. The slave's writes reach the master's line discipline through
// the kernel's flip buffer, at most 4 KiB at a time; libuv ends a stream at POLLHUP after any short read, and
// the master polls POLLHUP as soon as the slave's last fd is closed, so a tty stream alone stops reading
// with the rest still queued in the kernel (CI flake: "hi Ada" lost in the fallback tier as sbtest).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { HostProcess } from './host-process';
import { makeSandbox, writeScript, type Sandbox } from './helpers';
import { loadPtyCalls } from '../../../native/linux/pty';
import { RunTerminal } from '../../../src/host/run-terminal';

/** Opens the slave non-blocking: a write the pty has no room for fails (EAGAIN) instead of hanging the test. */
function openSlave(path: string): number {
  return fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
}

/** Writes all of b (a pty write may be short). */
function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off);
}

describe('a run terminal reads every byte written before the slave closed', function () {
  this.timeout(60000);

  it('an 8 KB burst written and the slave closed before the host reads: all of it arrives before drained() resolves, at the close', async () => {
    const term = new RunTerminal(loadPtyCalls(), { rows: 24, cols: 80 });
    const got: Buffer[] = [];
    term.onOutput((b) => got.push(b));
    // The whole burst and the last close happen before the event loop polls the master once: its first wake-up
    // sees POLLIN|POLLHUP with 8 KB queued and a line discipline that hands over 4 KiB per read. (A pty
    // takes 10-19 KB, depending on how the kernel grouped the writes, before a writer must wait for its reader.)
    const burst = Buffer.alloc(8000, 'x');
    const slave = openSlave(term.path);
    try {
      writeAll(slave, Buffer.concat([burst, Buffer.from('END')]));
    } finally {
      fs.closeSync(slave);
    }
    const t0 = Date.now();
    await term.drained(20000);
    const took = Date.now() - t0;
    const out = Buffer.concat(got).toString('utf8');
    assert.equal(out.length, burst.length + 3, `got ${out.length} of ${burst.length + 3} bytes`);
    assert.ok(out.endsWith('END'));
    // Ended by the slave's close (EIO once everything is read), not by the grace period.
    assert.ok(took < 10000, `drained() took ${took} ms: the end of the output was not seen`);
  });

  it('a slave reopened while the stream ends at POLLHUP is read on: the burst, then what the new holder writes', async () => {
    // The first 'data' comes from inside libuv's read, before it looks at POLLHUP and ends the stream: the
    // slave is opened again right there (fallback tier: by its /dev/pts path), so the master, when drained,
    // answers EAGAIN (held) rather than EIO, and the terminal must go on reading.
    const term = new RunTerminal(loadPtyCalls(), { rows: 24, cols: 80 });
    let again = -1;
    const got: Buffer[] = [];
    term.onOutput((b) => {
      got.push(b);
      if (again < 0) again = openSlave(term.path);
    });
    const burst = Buffer.alloc(8000, 'x');
    const slave = openSlave(term.path);
    try {
      writeAll(slave, burst);
    } finally {
      fs.closeSync(slave);
    }
    const deadline = Date.now() + 20000;
    while (Buffer.concat(got).length < burst.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(again >= 0, 'no output came');
    writeAll(again, Buffer.from('more'));
    fs.closeSync(again);
    await term.drained(20000);
    const out = Buffer.concat(got).toString('utf8');
    assert.equal(out, 'x'.repeat(burst.length) + 'more', `got ${out.length} bytes, ending ${JSON.stringify(out.slice(-10))}`);
  });

  it('drained() waits for the last holder of the slave: a second holder\'s output after the first closed is read', async () => {
    // Two opens of the slave (fallback tier: a process that reopens /dev/pts/N by its path): the first close
    // ends nothing, the output of the second still arrives.
    const term = new RunTerminal(loadPtyCalls(), { rows: 24, cols: 80 });
    let out = '';
    term.onOutput((b) => (out += b.toString('utf8')));
    const first = openSlave(term.path);
    const second = openSlave(term.path);
    writeAll(first, Buffer.from('one;'));
    fs.closeSync(first);
    await new Promise((r) => setTimeout(r, 200));
    writeAll(second, Buffer.from('two;'));
    fs.closeSync(second);
    await term.drained(20000);
    assert.equal(out, 'one;two;');
  });
});

const TIERS = [
  { name: 'namespace tier', env: {} as Record<string, string> },
  { name: 'fallback tier', env: { SCRIPT_SANDBOX_NAMESPACES: '0' } as Record<string, string> },
];

for (const tier of TIERS) {
  describe(`a script's last output in a terminal arrives before 'finished' (${tier.name})`, function () {
    this.timeout(180000);
    let sb: Sandbox;
    let host: HostProcess;
    before(async () => {
      host = new HostProcess(tier.env);
      await host.ready();
      sb = makeSandbox();
    });
    after(async () => {
      await host.stop();
      sb.cleanup();
    });

    it('a 60 KB burst right before exit arrives whole, ten runs in a row', async () => {
      // The burst fills the pty far faster than the host reads it, 4 KiB per wake-up, and the script exits at
      // once: the rest of it is still in the kernel when the slave's last fd closes (before the fix about
      // half of these runs lost 4-9 KB).
      const script = writeScript(sb.workspace, 'burst.sh', "#!/bin/sh\nhead -c 60000 /dev/zero | tr '\\0' x\nprintf END\n");
      for (let i = 0; i < 10; i++) {
        const runId = await host.run({ requestId: `b${i}`, command: [script], cwd: sb.workspace, workspace: sb.workspace, terminal: { size: { rows: 24, cols: 80 } } } as never);
        const f = await host.finished(runId, 60000);
        const out = host.output(runId);
        assert.equal(f.exitCode, 0, out.slice(-200));
        assert.equal(out.length, 60003, `run ${i}: ${out.length} of 60003 bytes before 'finished'`);
        assert.ok(out.endsWith('xEND'), `run ${i}: ends ${JSON.stringify(out.slice(-20))}`);
      }
    });
  });
}
