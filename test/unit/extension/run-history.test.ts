// The Monitor after a reload: runs rebuilt from audit records (run-history.ts), bounded, with violations,
// limits, results and the policy looked up by digest.
import * as assert from 'node:assert/strict';
import type { AuditRecord } from '../../../src/protocol/audit';
import { pastRuns } from '../../../src/extension/run-history';

const started = (runId: string, time: string, extra: Record<string, unknown> = {}) =>
  ({ v: 2, seq: 0, time, hostPid: 1, type: 'run_started', runId, command: [`/ws/${runId}.sh`, 'a'], cwd: '/ws', workspace: '/ws', mode: 'enforce', profile: 'strict', policyDigest: 'd'.repeat(64), platform: { os: 'linux', arch: 'x64', release: '6' }, ...extra }) as unknown as AuditRecord;
const finished = (runId: string) => ({ type: 'run_finished', runId, time: '2026-01-01T00:00:09.000Z', exitCode: 3, signal: null, durationMs: 12, cpuUserMs: 1, cpuSystemMs: 1, maxRssKiB: 100, violations: { file: 1 } }) as unknown as AuditRecord;
const violation = (runId: string) => ({ type: 'violation', runId, time: '2026-01-01T00:00:05.000Z', violation: { runId, time: '2026-01-01T00:00:05.000Z', kind: 'file', action: 'blocked', severity: 'critical', rule: 'protected', message: 'Blocked write' } }) as unknown as AuditRecord;

describe('extension: runs restored from the audit log', () => {
  it('rebuilds each run with its command, violations and result, oldest first', () => {
    const runs = pastRuns([started('r1', '2026-01-01T00:00:00.000Z', { policy: { mode: 'enforce' } }), violation('r1'), finished('r1'), started('r2', '2026-01-01T00:01:00.000Z'), { type: 'host_stopped' } as unknown as AuditRecord], 10);
    assert.deepEqual(runs.map((r) => r.runId), ['r1', 'r2']);
    assert.deepEqual(runs[0]!.command, ['/ws/r1.sh', 'a']);
    assert.equal(runs[0]!.violations.length, 1);
    assert.equal(runs[0]!.finished?.exitCode, 3);
    assert.equal(runs[0]!.startedAt, Date.parse('2026-01-01T00:00:00.000Z'));
    // The policy is written once per digest; later runs find it by digest.
    assert.deepEqual(runs[1]!.policy, { mode: 'enforce' });
    assert.equal(runs[1]!.finished, undefined, 'a run without an end (window closed) has no result');
  });

  it('keeps only the newest runs of a long log', () => {
    const recs: AuditRecord[] = [];
    for (let i = 0; i < 100; i++) recs.push(started(`r${i}`, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()), finished(`r${i}`));
    const runs = pastRuns(recs, 20);
    assert.equal(runs.length, 20);
    assert.equal(runs[0]!.runId, 'r80');
    assert.equal(runs[19]!.finished?.exitCode, 3);
  });
});
