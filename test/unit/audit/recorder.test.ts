import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog, readAuditRecords, verifyAuditFile } from '../../../src/audit';
import { attachAudit, secretValuesFromEnv, summarizeCapabilities } from '../../../src/host/audit-recorder';
import { RunHandle } from '../../../src/host/run-handle';
import type { RunResult, RunStarted } from '../../../src/protocol/run-events';
import { policyDigest } from '../../../src/policy';
import { policy, tempDir, violation, useTempHome } from './fixtures';

function startedEvent(runId: string, over: Partial<RunStarted> = {}): RunStarted {
  return { runId, pid: 4242, command: ['./s.sh'], file: '/bin/sh', script: '/work/ws/s.sh', cwd: '/work/ws', envRemoved: [], treeLimits: 'cgroup v1', time: new Date().toISOString(), ...over };
}

function result(runId: string, over: Partial<RunResult> = {}): RunResult {
  return { runId, exitCode: 0, signal: null, durationMs: 120, cpuUserMs: 30, cpuSystemMs: 10, maxRssKiB: 9000, usageSource: 'rusage', limits: [], setupError: null, timedOut: false, cancelled: false, ...over };
}

describe('audit recorder', function () {
  useTempHome();
  let t: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    t = tempDir();
    file = path.join(t.dir, 'audit.jsonl');
  });
  afterEach(() => t.cleanup());

  it('records a run: run_started, env_filtered, violations, limit, run_finished with counts by kind', async function () {
    const log = await AuditLog.open(file);
    const p = policy();
    const h = new RunHandle('run-a');
    const report = { platform: 'linux', arch: 'x64', kernel: 'Linux 6', treeLimits: 'cgroup v1' as const, enforcePossible: true, capabilities: [{ name: 'landlock', available: true, detail: 'ABI 4', requiredForEnforce: true }, { name: 'cgroup', available: false, detail: 'no', requiredForEnforce: false }] };
    const att = attachAudit(h, log, { command: ['./s.sh', '--flag'], cwd: '/work/ws', policy: p, capabilities: report, gitScript: { repo: 'https://example.com/r.git', ref: 'main', commit: 'abc123' } });
    h.emit('started', startedEvent('run-a', { envRemoved: ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY'] }));
    h.emit('violation', violation({ runId: 'run-a', kind: 'file' }));
    h.emit('violation', violation({ runId: 'run-a', kind: 'network', host: 'x.example', port: 443 }));
    h.emit('violation', violation({ runId: 'run-a', kind: 'file' }));
    h.emit('limit', { limit: 'cpu', observed: 2, max: 1, action: 'killed', message: 'CPU time limit 1 s reached (SIGXCPU)' });
    h.finish(result('run-a', { exitCode: 152, signal: 'SIGXCPU', limits: [{ limit: 'cpu', observed: 2, max: 1, action: 'killed', message: 'x' }] }));
    await att.written;
    await log.close();

    const recs = readAuditRecords(file);
    assert.deepEqual(recs.map((r) => r.type), ['run_started', 'env_filtered', 'violation', 'violation', 'violation', 'limit_exceeded', 'run_finished']);
    const [rs, env, , , , lim, fin] = recs;
    assert.ok(rs!.type === 'run_started');
    assert.deepEqual(rs.command, ['./s.sh', '--flag']);
    assert.equal(rs.policyDigest, policyDigest(p));
    assert.deepEqual(rs.policy, p);
    assert.deepEqual([rs.mode, rs.profile, rs.workspace, rs.pid, rs.file, rs.treeLimits], ['enforce', 'moderate', '/work/ws', 4242, '/bin/sh', 'cgroup v1']);
    assert.deepEqual(rs.capabilities, { enforcePossible: true, treeLimits: 'cgroup v1', available: ['landlock'], missing: ['cgroup'] });
    assert.deepEqual(rs.gitScript, { repo: 'https://example.com/r.git', ref: 'main', commit: 'abc123' });
    assert.ok(env!.type === 'env_filtered');
    assert.deepEqual(env.removed, ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY']);
    assert.ok(lim!.type === 'limit_exceeded' && lim.limit === 'cpu' && lim.action === 'killed');
    assert.ok(fin!.type === 'run_finished');
    assert.deepEqual(fin.violations, { file: 2, network: 1 });
    assert.deepEqual([fin.exitCode, fin.signal, fin.limits, fin.cpuUserMs, fin.maxRssKiB], [152, 'SIGXCPU', ['cpu'], 30, 9000]);
    assert.equal(verifyAuditFile(file).ok, true);
  });

  it('records a run that failed before exec: run_started then run_finished with the setup error, no env_filtered', async function () {
    const log = await AuditLog.open(file);
    const h = new RunHandle('run-b');
    const att = attachAudit(h, log, { command: ['missing'], cwd: '/w', policy: policy() });
    h.finish(result('run-b', { exitCode: 127, setupError: { code: 'SCRIPT_NOT_FOUND', message: 'no such file: missing' } }));
    await att.written;
    await log.close();
    const recs = readAuditRecords(file);
    assert.deepEqual(recs.map((r) => r.type), ['run_started', 'run_finished']);
    assert.ok(recs[1]!.type === 'run_finished');
    assert.deepEqual(recs[1]!.setupError, { code: 'SCRIPT_NOT_FOUND', message: 'no such file: missing' });
    assert.deepEqual(recs[1]!.violations, {});
  });

  it('no secret from a planted GITHUB_TOKEN or an allowed API_KEY reaches the file, command line included', async function () {
    const token = `ghp_${'Zq9'.repeat(12)}`;
    const apiKey = 'allowed-api-key-value-42';
    const env = { PATH: '/usr/bin', PWD: '/work/ws', SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1', GITHUB_TOKEN: token, API_KEY: apiKey, DESKTOP_SESSION: 'ubuntu' };
    const p = policy({ env: { allow: ['PATH', 'API_KEY'], set: { SERVICE_PASSWORD: 'set-by-policy-pw' }, secretPatterns: ['ghp_[A-Za-z0-9]{20,}'] } });
    const values = secretValuesFromEnv(env, p);
    for (const v of [apiKey, token, 'set-by-policy-pw']) assert.ok(values.includes(v), `${v} is a secret value`);
    for (const v of ['/work/ws', '/usr/bin', 'ubuntu']) assert.ok(!values.includes(v), `${v} is not`);

    const log = await AuditLog.open(file); // the run's policy brings its patterns
    const h = new RunHandle('run-c');
    const att = attachAudit(h, log, { command: ['sh', '-c', `curl -H "X-Key: ${apiKey}" https://api/?t=${token}`], cwd: '/work/ws', policy: p, secretValues: values.filter((v) => v !== token) });
    h.emit('started', startedEvent('run-c', { envRemoved: ['GITHUB_TOKEN'] }));
    h.emit('violation', violation({ runId: 'run-c', kind: 'network', message: `Blocked connect carrying ${token} and ${apiKey}` }));
    h.finish(result('run-c'));
    await att.written;
    await log.close();
    const raw = fs.readFileSync(file, 'utf8');
    for (const s of [token, apiKey, 'set-by-policy-pw']) assert.ok(!raw.includes(s), `${s} leaked`);
    assert.ok(raw.includes('/work/ws'), 'non-secret values (cwd) stay readable');
    assert.ok(raw.includes('"GITHUB_TOKEN"'), 'names of filtered variables stay');
  });

  it('summarizes capability reports and passes summaries through', function () {
    assert.equal(summarizeCapabilities(undefined), undefined);
    assert.equal(summarizeCapabilities({ nothing: 1 }), undefined);
    assert.deepEqual(summarizeCapabilities({ available: ['a'], missing: [] }), { enforcePossible: undefined, treeLimits: undefined, available: ['a'], missing: [] });
  });

  it('a failing log write surfaces through `written`, not as an unhandled rejection', async function () {
    const log = await AuditLog.open(file);
    await log.close();
    const h = new RunHandle('run-d');
    const att = attachAudit(h, log, { command: ['x'], cwd: '/w', policy: policy() });
    h.emit('started', startedEvent('run-d'));
    h.finish(result('run-d'));
    await assert.rejects(att.written, /closed/);
  });
});
