// A run's own ptys (Python pty.openpty, `script`, expect) in the namespace tier: the launcher mounts a private
// devpts instance over /dev/pts, so the script may open the slaves it makes while the host's instance (every
// other session's terminal) is not even visible. Observed from outside: what the script prints, and a pty a
// helper holds on the host staying out of the listing. The attack itself is terminal-grants.test.ts.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { PYTHON, makeSandbox, runIn, writeScript, type Sandbox } from './helpers';
import { loadPtyCalls } from '../../../native/linux/pty';

const OPENPTY = 'import pty,os\nm,s=pty.openpty()\nos.write(s,b"hi\\n")\nprint("read", os.read(m,10))\n';
const SCRIPT_BIN = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));

describe('private devpts (namespace tier): a run\'s own ptys work, the host\'s are invisible', function () {
  this.timeout(90000);
  let sb: Sandbox;
  beforeEach(() => (sb = makeSandbox()));
  afterEach(() => sb.cleanup());

  it('pty.openpty(): the script writes on its own slave and reads it back on the master', async () => {
    const r = await runIn(sb, [], [PYTHON, writeScript(sb.workspace, 'openpty.py', OPENPTY, 0o644)]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /read b'hi\\r\\n'/);
  });

  it('`script -qc` runs a command in a pty of its own', async function () {
    if (!SCRIPT_BIN) this.skip(); // util-linux `script` is not installed here
    const r = await runIn(sb, [], [SCRIPT_BIN!, '-qc', 'echo inner', '/dev/null']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /inner/);
  });

  it('/dev/pts lists only the run\'s own instance: none of the host\'s slaves, not even while one is open', async () => {
    const pair = loadPtyCalls().open({ rows: 24, cols: 80 });
    try {
      assert.ok(fs.existsSync(pair.slave), pair.slave);
      const lister = writeScript(sb.workspace, 'ls.py', `${OPENPTY}print("pts", sorted(os.listdir("/dev/pts")))\nprint("host-slave", os.path.exists(${JSON.stringify(pair.slave)}) and os.ttyname(s) != ${JSON.stringify(pair.slave)})\n`, 0o644);
      const r = await runIn(sb, [], [PYTHON, lister]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      // Only the multiplexer and the one pty the script made (index 0 of a fresh instance).
      assert.match(r.stdout, /pts \['0', 'ptmx'\]/);
      assert.match(r.stdout, /host-slave False/);
    } finally {
      fs.closeSync(pair.master);
    }
  });

  it('the private instance cannot be taken away to uncover the host\'s: umount fails, the host slave stays unreachable', async () => {
    const pair = loadPtyCalls().open({ rows: 24, cols: 80 });
    let screen = '';
    const reader = setInterval(() => {
      const b = Buffer.alloc(4096);
      try {
        const n = fs.readSync(pair.master, b);
        screen += b.subarray(0, n).toString();
      } catch {
        // EAGAIN: nothing written (the master is non-blocking)
      }
    }, 50);
    try {
      const attack = writeScript(
        sb.workspace,
        'uncover.sh',
        `#!/bin/sh\nfor m in /dev/ptmx /dev/pts /dev/pts; do umount -l "$m" 2>/dev/null; echo "umount $m=$?"; done\n( echo INJECTED-BY-SANDBOX > "$1" ) 2>/dev/null; echo "write=$?"\nls /dev/pts | tr '\\n' ' ' | sed 's/^/pts=/'\necho\n`,
      );
      const r = await runIn(sb, [], ['/bin/sh', attack, pair.slave]);
      await new Promise((res) => setTimeout(res, 300));
      assert.doesNotMatch(screen, /INJECTED-BY-SANDBOX/, 'the script wrote onto a host terminal');
      assert.doesNotMatch(r.stdout, /umount [^=]+=0/, r.stdout);
      assert.match(r.stdout, /write=[1-9]/, r.stdout);
      assert.match(r.stdout, /pts=ptmx\s*$/m, r.stdout);
    } finally {
      clearInterval(reader);
      fs.closeSync(pair.master);
    }
  });

  it('fallback tier: no private instance, so a pty the script makes has an ungranted slave (the stated cost)', async () => {
    const r = await runIn(sb, [], [PYTHON, writeScript(sb.workspace, 'openpty.py', OPENPTY, 0o644)], { SCRIPT_SANDBOX_NAMESPACES: '0' });
    // Python tries the old BSD ptys (/dev/ptyXY) next, also refused, then gives up.
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /OSError|Permission denied|out of pty devices/, r.stderr.slice(-2000));
    assert.doesNotMatch(r.stdout, /read b'hi/);
  });
});
