// protocol/host: what crosses the host's IPC channel. A valid message comes out of the parser exactly as it went
// in (the run's events pass through unchanged); anything else is a PROTOCOL_INVALID SandboxError whose text
// names the field that is wrong.
import * as assert from 'node:assert/strict';
import { SandboxError } from '../../../src/errors';
import { parseClientMessage, parseHostMessage, type ClientMessage, type HostMessage } from '../../../src/protocol/host';
import type { LimitEvent, RunResult, RunStarted } from '../../../src/protocol/run-events';
import type { CapabilityReport } from '../../../src/protocol/capabilities';
import type { Violation } from '../../../src/policy/violation';

const started: RunStarted = { runId: 'r1', pid: 4242, command: ['./s.sh', '-x'], file: '/bin/sh', script: '/w/s.sh', cwd: '/w', envRemoved: ['GITHUB_TOKEN'], treeLimits: 'cgroup v1', time: '2026-01-01T00:00:00.000Z' };
const limit: LimitEvent = { limit: 'memory', observed: 80, max: 64, action: 'killed', message: 'memory limit 64 MiB exceeded' };
const result: RunResult = {
  runId: 'r1',
  exitCode: 137,
  signal: 'SIGKILL',
  durationMs: 812,
  cpuUserMs: 10.5,
  cpuSystemMs: null,
  maxRssKiB: 81920,
  usageSource: 'cgroup',
  limits: [limit],
  setupError: null,
  timedOut: false,
  cancelled: false,
  phases: { execMs: 12.5, exitMs: 800, resultMs: 801 },
};
const violation: Violation = { runId: 'r1', time: '2026-01-01T00:00:00.001Z', kind: 'network', action: 'blocked', severity: 'critical', syscall: 'connect', address: '169.254.169.254', port: 80, rule: 'network:metadata', message: 'Blocked connect to 169.254.169.254:80' };
const report: CapabilityReport = {
  platform: 'linux',
  arch: 'x64',
  kernel: 'Linux 6.18',
  capabilities: [{ name: 'landlock', available: true, detail: 'ABI 7', requiredForEnforce: true }, { name: 'cgroup', available: false, detail: 'not delegated', requiredForEnforce: false, fix: 'see https://example.org' }],
  treeLimits: 'watchdog',
  enforcePossible: true,
};

function rejects(parse: (raw: unknown) => unknown, raw: unknown, names: RegExp): void {
  assert.throws(
    () => parse(raw),
    (e: unknown) => {
      assert.ok(e instanceof SandboxError, `a SandboxError, got ${String(e)}`);
      assert.equal(e.code, 'PROTOCOL_INVALID');
      assert.match(e.message, names);
      return true;
    },
  );
}

describe('protocol/host: client messages', () => {
  it('valid messages pass unchanged', () => {
    const msgs: ClientMessage[] = [
      {
        type: 'run',
        requestId: 'q1',
        command: ['python3', 'x.py'],
        cwd: '/w',
        workspace: '/w',
        env: { PATH: '/usr/bin' },
        layers: { run: { mode: 'warn' } },
        approvedLoosening: false,
        interpreters: { '.py': ['python3'] },
        auditPath: '/w/.sandbox/audit.jsonl',
        alerts: { threshold: 3, windowMs: 300000, criticalAtOnce: true },
        terminal: { size: { rows: 24, cols: 80 } },
      },
      { type: 'gitFetch', requestId: 'q2', spec: { name: 'x', repo: 'https://example.org/r.git' }, workspace: '/w', cacheRoot: '/c', layers: {} },
      { type: 'cancel', runId: 'r1' },
      { type: 'terminalInput', runId: 'r1', data: '\x03' },
      { type: 'terminalResize', runId: 'r1', size: { rows: 50, cols: 132 } },
      { type: 'capabilities', requestId: 'q3' },
      { type: 'shutdown' },
    ];
    for (const m of msgs) assert.deepEqual(parseClientMessage(structuredClone(m)), m);
  });

  it('garbage gets a typed error naming the problem', () => {
    rejects(parseClientMessage, 'run', /invalid message: \(root\)/);
    rejects(parseClientMessage, null, /invalid message: \(root\)/);
    rejects(parseClientMessage, { type: 'launch' }, /invalid message: type:/);
    rejects(parseClientMessage, { type: 'cancel' }, /runId/);
    rejects(parseClientMessage, { type: 'cancel', runId: '' }, /runId/);
    rejects(parseClientMessage, { type: 'run', requestId: 'q', command: [], cwd: '/w', workspace: '/w', env: {}, layers: {} }, /command/);
    rejects(parseClientMessage, { type: 'run', requestId: 'q', command: ['x'], cwd: '/w', workspace: '/w', env: { A: 1 }, layers: {} }, /env\.A/);
    rejects(parseClientMessage, { type: 'terminalResize', runId: 'r', size: { rows: 0, cols: 80 } }, /size\.rows/);
    rejects(parseClientMessage, { type: 'terminalInput', runId: 'r', data: 'x'.repeat((1 << 16) + 1) }, /data/);
  });

  it('every wrong field is named, separated by "; "', () => {
    rejects(parseClientMessage, { type: 'run', requestId: 1, command: ['x'], cwd: 2, workspace: '/w', env: {}, layers: {} }, /requestId: .*; invalid message: cwd: /);
  });
});

describe('protocol/host: host messages', () => {
  it("the run's events go out unchanged, with the message type on top", () => {
    const { phases: _phases, ...withoutPhases } = result;
    const msgs: HostMessage[] = [
      { type: 'hello', pid: 1, version: '0.1.0' },
      { type: 'started', ...started },
      { type: 'limit', runId: 'r1', ...limit },
      { type: 'violation', violation },
      { type: 'finished', ...result },
      { type: 'finished', ...withoutPhases, setupError: { code: 'SCRIPT_NOT_FOUND', message: 'no such file', call: 'execve', errno: 2 } },
      { type: 'rejected', requestId: 'q1', error: { code: 'MECHANISM_UNAVAILABLE', message: 'enforce mode impossible' } },
      { type: 'capabilities', requestId: 'q3', report },
      { type: 'alert', alert: { id: 1, time: violation.time, reason: 'critical', message: 'critical', count: 1, windowMs: 300000, runIds: ['r1'], violations: [violation] } },
    ];
    for (const m of msgs) assert.deepEqual(parseHostMessage(structuredClone(m)), m);
  });

  it('an event missing a field or with a value outside its contract is refused, naming it', () => {
    const { limits: _limits, ...noLimits } = result;
    rejects(parseHostMessage, { type: 'finished', ...noLimits }, /limits/);
    rejects(parseHostMessage, { type: 'finished', ...result, usageSource: 'guessed' }, /usageSource/);
    rejects(parseHostMessage, { type: 'limit', runId: 'r1', ...limit, limit: 'disk' }, /limit/);
    rejects(parseHostMessage, { type: 'started', ...started, pid: 'x' }, /pid/);
    rejects(parseHostMessage, { type: 'rejected', requestId: 'q', error: { code: 'NO_SUCH_CODE', message: 'm' } }, /error\.code/);
    rejects(parseHostMessage, { type: 'violation', violation: { ...violation, kind: 'telepathy' } }, /violation\.kind/);
  });

  it('the capability report is checked on the wire, not passed as unknown', () => {
    const { enforcePossible: _e, ...noVerdict } = report;
    rejects(parseHostMessage, { type: 'capabilities', requestId: 'q', report: noVerdict }, /report\.enforcePossible/);
    rejects(parseHostMessage, { type: 'capabilities', requestId: 'q', report: { ...report, capabilities: [{ name: 'x' }] } }, /report\.capabilities\[0\]\.available/);
  });
});
