// Terminals a run may reach. Another session's terminal (a pty some other program of the same user holds)
// must be out of reach: open for reading would let a script read what the user types there, writing would
// put text on their screen. Seen from outside: a helper holds a pty pair and types into it; the sandboxed
// script can neither read that input nor write onto it.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { PYTHON, makeSandbox, runIn, writeScript, type Sandbox } from './helpers';

/** Holds a pty pair, prints the slave's path, types SECRET-INPUT into it, and prints what reached its screen. */
const PTY_HOLDER = `
import os, pty, select, sys, time
m, s = pty.openpty()
print(os.ttyname(s), flush=True)
seen = b''
while True:
    r, _, _ = select.select([m, sys.stdin], [], [], 0.1)
    if m in r:
        try:
            seen += os.read(m, 4096)
        except OSError:
            break
    if sys.stdin in r:
        if not sys.stdin.readline():
            break
    try:
        os.write(m, b'SECRET-INPUT\\n')
    except OSError:
        pass
print('SCREEN ' + repr(seen), flush=True)
`;

function startHolder(script: string): Promise<{ child: ChildProcess; slave: string; screen: () => Promise<string> }> {
  const child = spawn(PYTHON, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0 || !out.startsWith('/')) return;
      child.stdout!.removeAllListeners('data');
      const slave = out.slice(0, nl);
      let rest = out.slice(nl + 1);
      child.stdout!.on('data', (x) => (rest += x));
      const closed = new Promise<void>((r) => child.once('close', () => r()));
      resolve({
        child,
        slave,
        screen: async () => {
          child.stdin!.end();
          await closed;
          return rest;
        },
      });
    });
  });
}

describe('terminals: another session\'s pty is out of reach', function () {
  this.timeout(90000);
  let sb: Sandbox;
  beforeEach(() => (sb = makeSandbox()));
  afterEach(() => sb.cleanup());

  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`a run (${tier} tier) can neither read nor write another session's pty slave`, async () => {
      const holder = await startHolder(writeScript(sb.outside, 'holder.py', PTY_HOLDER, 0o644));
      try {
        assert.match(holder.slave, /^\/dev\/pts\/\d+$/);
        const attack = writeScript(
          sb.workspace,
          'attack.sh',
          `#!/bin/sh\nT="$1"\n( echo INJECTED-BY-SANDBOX > "$T" ) 2>/dev/null; echo "write=$?"\n( timeout 3 head -n 1 < "$T" ) 2>/dev/null; echo "read=$?"\nls /dev/pts/ >/dev/null 2>&1; echo "list=$?"\n`,
        );
        const env: Record<string, string> = tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0' } : {};
        const r = await runIn(sb, [], ['/bin/sh', attack, holder.slave], env);
        const screen = await holder.screen();
        assert.doesNotMatch(r.stdout, /SECRET-INPUT/, `the script read another terminal's input: ${r.stdout}`);
        assert.doesNotMatch(screen, /INJECTED-BY-SANDBOX/, `the script wrote onto another terminal: ${screen}`);
        assert.match(r.stdout, /write=[1-9]/, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.match(r.stdout, /read=[1-9]/, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      } finally {
        holder.child.kill();
      }
    });
  }
});
