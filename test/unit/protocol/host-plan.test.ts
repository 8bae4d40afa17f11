// The launcher's plan reader (parseHostPlanMessage): the Landlock rules are checked by hand instead of by the
// schema, for speed; it must return what the schema returns and refuse what the schema refuses.
import * as assert from 'node:assert/strict';
import { parseHostMessage, parseHostPlanMessage, parsePlanMessage } from '../../../src/protocol/launcher';
import { SandboxError } from '../../../src/errors';

const plan = {
  platform: 'linux',
  runId: 'r1',
  file: '/bin/true',
  argv: ['/bin/true'],
  env: { PATH: '/usr/bin:/bin' },
  cwd: '/',
  rlimits: [{ resource: 'core', soft: 0, hard: 0 }],
  noNewPrivs: true,
  landlock: {
    handled: ['read_file', 'read_dir'],
    rules: [
      { path: '/usr', access: ['read_file', 'read_dir'] },
      { path: '/etc/hosts', access: ['read_file'], exact: true },
    ],
    carveOuts: [],
    scopes: ['signal'],
  },
  seccomp: { program: 'AAAAAA==', listener: true },
  requireLandlock: true,
  namespaces: { writable: ['/tmp'], readOnly: [], hidden: [], pinned: [], isolateNetwork: false },
  terminal: null,
};
const line = (p: unknown) => JSON.stringify({ type: 'plan', plan: p });
const invalid = (e: unknown) => e instanceof SandboxError && e.code === 'PROTOCOL_INVALID';

describe('parseHostPlanMessage (the launcher reads the host plan)', () => {
  it('returns what the schema returns, rules included', () => {
    assert.deepEqual(parseHostPlanMessage(line(plan)), parsePlanMessage(line(plan)));
    const { namespaces: _, ...noNamespaces } = plan;
    assert.equal((parseHostPlanMessage(line(noNamespaces)) as { namespaces: unknown }).namespaces, null);
  });

  it('refuses a rule the schema refuses', () => {
    const bad = [
      { path: '/usr', access: ['read_file', 'fly'] },
      { path: 5, access: ['read_file'] },
      { path: '/usr', access: 'read_file' },
      { path: '/usr', access: ['read_file'], exact: false },
      null,
      '/usr',
    ];
    for (const rule of bad) {
      const p = { ...plan, landlock: { ...plan.landlock, rules: [plan.landlock.rules[0], rule] } };
      assert.throws(() => parsePlanMessage(line(p)), invalid, JSON.stringify(rule));
      assert.throws(() => parseHostPlanMessage(line(p)), invalid, JSON.stringify(rule));
    }
  });

  it('still validates the rest of the plan with the schema', () => {
    for (const p of [
      { ...plan, landlock: undefined },
      { ...plan, seccomp: { program: 5, listener: true } },
      { ...plan, landlock: { ...plan.landlock, handled: ['fly'] } },
      { ...plan, landlock: { ...plan.landlock, rules: 'all' } },
      { ...plan, terminal: { path: '/dev/tty' } },
      { ...plan, argv: [] },
    ]) {
      assert.throws(() => parseHostPlanMessage(line(p)), invalid);
    }
    assert.throws(() => parseHostPlanMessage('{"type":"plan"'), invalid);
    assert.throws(() => parseHostPlanMessage(JSON.stringify({ type: 'ready', plan })), invalid);
  });
});

describe('parseHostMessage (what the launcher reads before exec: a join, then its plan)', () => {
  it('a join names cgroup.procs files by absolute path; anything else in it is refused', () => {
    const ok = parseHostMessage(JSON.stringify({ type: 'join', cgroupProcs: ['/sys/fs/cgroup/pids/script-sandbox/x/cgroup.procs'] }));
    assert.deepEqual(ok, { type: 'join', cgroupProcs: ['/sys/fs/cgroup/pids/script-sandbox/x/cgroup.procs'] });
    for (const bad of [[], ['relative/cgroup.procs'], ['/etc/passwd'], ['/x/cgroup.procs', 3], Array.from({ length: 17 }, () => '/x/cgroup.procs')]) {
      assert.throws(() => parseHostMessage(JSON.stringify({ type: 'join', cgroupProcs: bad })), (e: unknown) => e instanceof SandboxError && e.code === 'PROTOCOL_INVALID', JSON.stringify(bad));
    }
  });

  it('anything that is not a join is read as the plan, with the plan reader\'s errors', () => {
    assert.throws(() => parseHostMessage('{"type":"plan"}'), (e: unknown) => e instanceof SandboxError && e.code === 'PROTOCOL_INVALID');
    assert.throws(() => parseHostMessage('not json'), (e: unknown) => e instanceof SandboxError && e.code === 'PROTOCOL_INVALID');
  });
});
