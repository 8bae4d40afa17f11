import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runAuditCommand, parseDuration, type AuditCliIo } from '../../../src/cli/audit';
import { AuditLog } from '../../../src/audit';
import { lines, tempDir, violation, writeLines, useTempHome } from './fixtures';

function io(cwd: string, extra: Partial<AuditCliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { cwd, stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), ...extra } };
}

const HOUR = 3_600_000;

describe('cli: script-sandbox audit', function () {
  useTempHome();
  let t: ReturnType<typeof tempDir>;
  let file: string;
  const T0 = Date.UTC(2025, 5, 1, 12);
  beforeEach(async () => {
    t = tempDir();
    file = path.join(t.dir, '.sandbox', 'audit.jsonl');
    let now = T0 - 3 * HOUR;
    const log = await AuditLog.open(file, { now: () => now });
    await log.append({ type: 'host_started', component: 'cli' });
    await log.append({ type: 'run_started', runId: 'old', command: ['a'], cwd: '/w', workspace: '/w', mode: 'enforce', profile: 'strict', policyDigest: 'a'.repeat(64), platform: { os: 'linux', arch: 'x64', release: '6' } });
    await log.append({ type: 'violation', runId: 'old', violation: violation({ runId: 'old', kind: 'file', path: '/etc/shadow' }) });
    await log.append({ type: 'run_finished', runId: 'old', exitCode: 1, signal: null, durationMs: 500, cpuUserMs: 100, cpuSystemMs: 20, maxRssKiB: 4096, violations: { file: 1 } });
    now = T0 - 10 * 60_000;
    await log.append({ type: 'run_started', runId: 'new', command: ['b', 'c'], cwd: '/w', workspace: '/w', mode: 'warn', profile: 'moderate', policyDigest: 'b'.repeat(64), platform: { os: 'linux', arch: 'x64', release: '6' } });
    await log.append({ type: 'violation', runId: 'new', violation: violation({ runId: 'new', kind: 'network', action: 'blocked', host: 'evil.example', port: 443, path: undefined, rule: 'host-not-allowed', message: 'Blocked connect to evil.example:443' }) });
    await log.append({ type: 'limit_exceeded', runId: 'new', limit: 'timeout', observed: 5, max: 5, action: 'killed', message: 'wall-clock timeout of 5 s reached' });
    await log.append({ type: 'run_finished', runId: 'new', exitCode: 137, signal: 'SIGKILL', durationMs: 5000, cpuUserMs: 40, cpuSystemMs: 5, maxRssKiB: 8192, timedOut: true, violations: { network: 1 } });
    await log.append({ type: 'run_started', runId: 'open', command: ['d'], cwd: '/w', workspace: '/w', mode: 'enforce', profile: 'strict', policyDigest: 'a'.repeat(64), platform: { os: 'linux', arch: 'x64', release: '6' } });
    await log.close();
  });
  afterEach(() => t.cleanup());

  it('verify: exit 0 with a summary; exit 1 with "line N of FILE: reason" after an edit', async function () {
    let c = io(t.dir, { now: () => T0 });
    assert.equal(await runAuditCommand(['verify', '--workspace', t.dir], c.io), 0);
    assert.match(c.out.join(''), /^ok: 9 lines in 1 file, seq 1\.\.9, chain intact\n$/);
    const ls = lines(file);
    ls[2] = ls[2]!.replace('/etc/shadow', '/etc/hosts');
    writeLines(file, ls);
    c = io(t.dir);
    assert.equal(await runAuditCommand(['verify', file], c.io), 1);
    assert.match(c.out.join(''), new RegExp(`^line 3 of ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    c = io(path.join(t.dir, '.sandbox'));
    assert.equal(await runAuditCommand(['verify', 'audit.jsonl'], c.io), 1, 'FILE is relative to the cwd');
    c = io(t.dir);
    assert.equal(await runAuditCommand(['verify', path.join(t.dir, 'nope.jsonl')], c.io), 1);
    assert.match(c.out.join(''), /no audit file/);
  });

  it('tail: the last N records, human lines by default, raw JSON with --json', async function () {
    let c = io(t.dir);
    assert.equal(await runAuditCommand(['tail', '-n', '3', '--file', file], c.io), 0);
    const out = c.out.join('').trimEnd().split('\n');
    assert.equal(out.length, 3);
    assert.match(out[0]!, /#7 run new limit timeout killed: wall-clock timeout/);
    assert.match(out[1]!, /#8 run new finished: killed by SIGKILL \(exit 137\) after 5\.0 s.*violations: network 1/);
    assert.match(out[2]!, /#9 run open started: d  \[enforce\/strict\] in \/w/);
    c = io(t.dir);
    assert.equal(await runAuditCommand(['tail', '--json', '-n', '2'], c.io), 0, 'default file under the current directory');
    const raw = c.out.join('').trimEnd().split('\n');
    assert.deepEqual(raw.map((l) => JSON.parse(l).seq), [8, 9]);
    c = io(t.dir);
    assert.equal(await runAuditCommand(['tail', '--file', path.join(t.dir, 'none.jsonl')], c.io), 1);
  });

  it('tail --follow prints new records as they come, across a rotation', async function () {
    const ac = new AbortController();
    const c = io(t.dir, { signal: ac.signal, pollMs: 20 });
    const done = runAuditCommand(['tail', '-n', '0', '--follow', '--json', '--workspace', t.dir], c.io);
    await new Promise((r) => setTimeout(r, 60));
    const log = await AuditLog.open(file, { maxBytes: fs.statSync(file).size + 1500, keep: 3 });
    for (let i = 0; i < 8; i++) {
      await log.append({ type: 'violation', runId: 'f', violation: violation({ runId: 'f', message: `follow ${i}` }) });
      await new Promise((r) => setTimeout(r, 15));
    }
    await log.close();
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    assert.equal(await done, 0);
    assert.ok(fs.existsSync(path.join(t.dir, '.sandbox', 'audit.1.jsonl')), 'the log rotated meanwhile');
    const got = c.out.join('').trimEnd().split('\n').map((l) => JSON.parse(l).violation?.message);
    assert.deepEqual(got, Array.from({ length: 8 }, (_, i) => `follow ${i}`));
  });

  it('stats: table and JSON, with --since', async function () {
    let c = io(t.dir, { now: () => T0 });
    assert.equal(await runAuditCommand(['stats', '--json'], c.io), 0);
    const all = JSON.parse(c.out.join(''));
    assert.deepEqual(all.runs, { started: 3, finished: 2, succeeded: 0, failed: 2, aborted: 0, open: 1, timedOut: 1, cancelled: 0 });
    assert.equal(all.violations.total, 2);
    assert.deepEqual(all.violations.byKind, { file: 1, network: 1 });
    assert.deepEqual(all.violations.topBlockedHosts, [{ key: 'evil.example:443', count: 1 }]);
    assert.deepEqual(all.violations.topBlockedPaths, [{ key: '/etc/shadow', count: 1 }]);
    assert.deepEqual(all.limits, { timeout: 1 });
    assert.deepEqual(all.usage, { wallMs: 5500, cpuUserMs: 140, cpuSystemMs: 25, maxRssKiB: 8192 });

    c = io(t.dir, { now: () => T0 });
    assert.equal(await runAuditCommand(['stats', '--since', '1h', '--json'], c.io), 0);
    const recent = JSON.parse(c.out.join(''));
    assert.equal(recent.records, 5);
    assert.equal(recent.runs.started, 2);
    assert.deepEqual(recent.violations.byKind, { network: 1 });
    assert.equal(recent.since, new Date(T0 - HOUR).toISOString());

    c = io(t.dir, { now: () => T0 });
    assert.equal(await runAuditCommand(['stats', '--since=30m'], c.io), 0);
    const table = c.out.join('');
    assert.match(table, /^runs +2 started, 1 finished \(0 exit 0, 1 failed, 1 timed out, 0 cancelled\), 0 aborted, 1 open$/m);
    assert.match(table, /^blocked hosts +evil\.example:443 \(1\)$/m);
    assert.match(table, /^limits exceeded +timeout 1$/m);
  });

  it('usage errors exit 2 with a message', async function () {
    for (const argv of [['stats', '--since', 'yesterday'], ['tail', '-n', 'x'], ['frobnicate'], ['tail', '--bogus'], ['verify', 'a', 'b'], []]) {
      const c = io(t.dir);
      assert.equal(await runAuditCommand(argv, c.io), 2, argv.join(' '));
    }
    assert.equal(parseDuration('2d'), 2 * 24 * HOUR);
    assert.equal(parseDuration('90s'), 90_000);
  });
});
