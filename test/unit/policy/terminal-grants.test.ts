// The terminals a run is granted: the pty multiplexers and exactly its own terminal, never /dev/pts as a whole.
import { strict as assert } from 'node:assert';
import koffi from 'koffi';
import { terminalGrants } from '../../../src/policy/terminal-grants';
import { grantsAllow } from '../../../src/policy/grants-allow';
import { ClientMessage } from '../../../src/protocol/host';
import { parsePlanMessage } from '../../../src/protocol/launcher';
import { WinsizeStruct, clampSize } from '../../../native/linux/pty';

describe('terminal grants', () => {
  it('grant /dev/ptmx, /dev/pts/ptmx and the run\'s own slave only', () => {
    const g = terminalGrants('/dev/pts/7');
    for (const p of ['/dev/ptmx', '/dev/pts/ptmx', '/dev/pts/7']) {
      assert.ok(grantsAllow(g, p, 'read'), p);
      assert.ok(grantsAllow(g, p, 'write'), p);
    }
    for (const p of ['/dev/pts/0', '/dev/pts/70', '/dev/pts/1/..', '/dev/pts', '/dev/tty1']) assert.ok(!grantsAllow(g, p, 'read'), p);
  });

  it('without a terminal, no slave at all; a path that is no pty slave is never granted', () => {
    for (const t of [undefined, '', '/dev/pts', '/dev/pts/', '/dev/pts/3/../0', '/dev/sda', '/dev/pts/*']) {
      const g = terminalGrants(t);
      assert.deepEqual(g.flatMap((x) => x.paths).sort(), ['/dev/ptmx', '/dev/pts/ptmx'], String(t));
    }
  });
});

describe('terminal protocol', () => {
  const run = { type: 'run', requestId: 'r', command: ['x'], cwd: '/w', workspace: '/w', env: {}, layers: {} };
  it('a run may ask for a terminal of a valid size', () => {
    assert.ok(ClientMessage.safeParse({ ...run, terminal: { size: { rows: 24, cols: 80 } } }).success);
    assert.ok(ClientMessage.safeParse(run).success);
    for (const size of [{ rows: 0, cols: 80 }, { rows: 24.5, cols: 80 }, { rows: 24 }, { rows: 1e9, cols: 80 }]) {
      assert.ok(!ClientMessage.safeParse({ ...run, terminal: { size } }).success, JSON.stringify(size));
    }
  });
  it('input and resize messages are validated', () => {
    assert.ok(ClientMessage.safeParse({ type: 'terminalInput', runId: 'a', data: '\x03' }).success);
    assert.ok(!ClientMessage.safeParse({ type: 'terminalInput', runId: '', data: 'x' }).success);
    assert.ok(ClientMessage.safeParse({ type: 'terminalResize', runId: 'a', size: { rows: 10, cols: 20 } }).success);
    assert.ok(!ClientMessage.safeParse({ type: 'terminalResize', runId: 'a', size: { rows: -1, cols: 20 } }).success);
  });
  it('a plan names only a pty slave as the terminal', () => {
    const plan = { platform: 'linux', runId: 'r', file: '/bin/true', argv: ['true'], env: {}, cwd: '/', rlimits: [], noNewPrivs: true, landlock: null, seccomp: null, requireLandlock: false };
    assert.equal((parsePlanMessage(JSON.stringify({ type: 'plan', plan: { ...plan, terminal: { path: '/dev/pts/4' } } })) as { terminal?: { path: string } }).terminal?.path, '/dev/pts/4');
    assert.throws(() => parsePlanMessage(JSON.stringify({ type: 'plan', plan: { ...plan, terminal: { path: '/dev/tty' } } })), /PROTOCOL|invalid/);
  });
});

describe('struct winsize', () => {
  it('is four unsigned shorts', () => {
    assert.equal(koffi.sizeof(WinsizeStruct), 8);
    assert.deepEqual(['ws_row', 'ws_col', 'ws_xpixel', 'ws_ypixel'].map((f) => koffi.offsetof(WinsizeStruct, f)), [0, 2, 4, 6]);
  });
  it('sizes are clamped into what the kernel stores', () => {
    assert.deepEqual(clampSize({ rows: 0, cols: 70000 }), { rows: 1, cols: 65535 });
    assert.deepEqual(clampSize({ rows: NaN, cols: 80.7 }), { rows: 1, cols: 80 });
  });
});
