// The mode, compiled once into the host's reactions, and the decisions that read them: the enforce gate of the
// run session and the action of a tree-limit crossing. Pure logic: no kernel, no process.
import * as assert from 'node:assert/strict';
import { SandboxError } from '../../../src/errors';
import { compileReactions } from '../../../src/protocol/run-reactions';
import type { CapabilityReport } from '../../../src/protocol/capabilities';
import { enforceGate } from '../../../src/host/run-session';
import { crossingEvent } from '../../../src/host/run-limits';

const report = (enforcePossible: boolean): CapabilityReport => ({
  platform: 'linux',
  arch: 'x64',
  kernel: 'Linux 6.18',
  capabilities: [
    { name: 'landlock', available: enforcePossible, detail: enforcePossible ? 'ABI 7' : 'not compiled into this kernel', requiredForEnforce: true },
    { name: 'cgroup', available: false, detail: 'not delegated', requiredForEnforce: false },
  ],
  treeLimits: 'watchdog',
  enforcePossible,
});

describe('run reactions: the mode compiled once', () => {
  it('enforce refuses, kills on a tree limit and refuses an unkept promise; warn reports and notes; disabled is not sandboxed', () => {
    assert.deepEqual(compileReactions({ mode: 'enforce' }), { sandboxed: true, violation: 'refuse', treeLimit: 'kill', unkeptPromise: 'refuse' });
    assert.deepEqual(compileReactions({ mode: 'warn' }), { sandboxed: true, violation: 'report', treeLimit: 'report', unkeptPromise: 'note' });
    assert.deepEqual(compileReactions({ mode: 'disabled' }), { sandboxed: false, violation: 'report', treeLimit: 'report', unkeptPromise: 'note' });
  });

  it('the enforce gate refuses enforce where the capability report says it cannot be kept, naming what is missing', () => {
    const engine = { capabilities: () => report(false) };
    assert.throws(
      () => enforceGate(engine, compileReactions({ mode: 'enforce' })),
      (e: unknown) => e instanceof SandboxError && e.code === 'MECHANISM_UNAVAILABLE' && /missing landlock \(not compiled into this kernel\)/.test(e.message) && !/cgroup/.test(e.message),
    );
    assert.doesNotThrow(() => enforceGate(engine, compileReactions({ mode: 'warn' })));
    assert.doesNotThrow(() => enforceGate(engine, compileReactions({ mode: 'disabled' })));
    assert.doesNotThrow(() => enforceGate({ capabilities: () => report(true) }, compileReactions({ mode: 'enforce' })));
  });

  it('a tree-limit crossing is killed only where the reaction says kill, and open files are never a kill', () => {
    const kill = compileReactions({ mode: 'enforce' });
    const report = compileReactions({ mode: 'warn' });
    const mem = { limit: 'memory' as const, observed: 80 * 1048576, max: 64 * 1048576 };
    assert.equal(crossingEvent(mem, kill).action, 'killed');
    assert.equal(crossingEvent(mem, report).action, 'reported');
    assert.equal(crossingEvent({ limit: 'processes', observed: 31, max: 30 }, kill).action, 'killed');
    assert.equal(crossingEvent({ limit: 'cpu', observed: 2, max: 1 }, report).action, 'reported');
    assert.equal(crossingEvent({ limit: 'openFiles', observed: 41, max: 40 }, kill).action, 'denied');
    assert.deepEqual(crossingEvent(mem, kill), { limit: 'memory', observed: 80, max: 64, action: 'killed', message: 'memory limit 64 MiB exceeded (tree at 80 MiB)' });
  });
});
