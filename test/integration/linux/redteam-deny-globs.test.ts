// Red-team finding on the deny-glob fix (carved directories emulated by the supervisor in both tiers).
// A FIFO moved into a carved directory becomes a name "made by the supervisor" (the move was performed by it),
// so a later write open of it was performed by the supervisor itself, with the target's blocking flags: with no
// reader, the supervisor's own openat() waits forever. Every other notification of the run then waits behind
// it, the wall-clock timeout kills the script but the CLI never exits (SIGTERM does not help either), until
// something opened the FIFO for reading. An unsandboxed open blocks only the script: now the supervisor opens
// non-blocking and refuses anything but a file or folder for writing, as Landlock would.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runIn, writeScript, type Sandbox } from './helpers';

const TIERS = [
  ['namespace tier', {}],
  ['fallback tier', { SCRIPT_SANDBOX_NAMESPACES: '0' }],
] as const;

describe('red team: deny globs (real kernel)', function () {
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.cleanup());

  for (const [tier, env] of TIERS) {
    it(`a FIFO moved into a carved directory and opened for writing does not stall the supervisor (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(data);
      fs.mkdirSync(path.join(sb.workspace, 'src'));
      fs.writeFileSync(path.join(data, 'old.key'), 'old\n');
      writeScript(
        sb.workspace,
        'fifo.sh',
        '#!/bin/sh\n' +
          'mkfifo src/f && mv src/f data/f.txt || { echo "setup failed"; exit 3; }\n' +
          // Another process of the run: its calls in data/ must not wait behind the blocked open.
          '( sleep 2; echo hi > data/other.txt ) &\n' +
          // Without a sandbox this blocks the script (no reader); it must never block the supervisor. The
          // sandbox refuses it (Landlock has no rule for a name made in a carved folder), so the script waits.
          '( exec 3>data/f.txt ) 2>/dev/null || echo "fifo open refused"\n' +
          'wait\n',
      );
      const fifo = path.join(data, 'f.txt');
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
});
