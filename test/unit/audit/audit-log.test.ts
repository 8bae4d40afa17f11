import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, auditChainFiles, defaultStateDir, readAuditKey, readAuditRecords, rotatedPath, verifyAuditFile } from '../../../src/audit';
import { AuditRecord, GENESIS_HASH, type AuditRecordInput } from '../../../src/protocol/audit';
import { SandboxError } from '../../../src/errors';
import { openFileLock, processIdentity } from '../../../native/linux/file-lock';
import { lines, policy, tempDir, violation, writeLines, useTempHome } from './fixtures';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

function runStarted(runId: string, over: Partial<Extract<AuditRecordInput, { type: 'run_started' }>> = {}): AuditRecordInput {
  const p = policy();
  return {
    type: 'run_started',
    runId,
    command: ['python3', 'script.py'],
    cwd: '/work/ws',
    workspace: p.workspace,
    mode: p.mode,
    profile: p.profile,
    policyDigest: sha(JSON.stringify(p)),
    policy: p,
    platform: { os: 'linux', arch: 'x64', release: '6.1' },
    ...over,
  };
}

function finished(runId: string): AuditRecordInput {
  return { type: 'run_finished', runId, exitCode: 0, signal: null, durationMs: 12, cpuUserMs: 1, cpuSystemMs: 1, maxRssKiB: 2048, violations: {} };
}

async function fill(log: AuditLog, n: number, runId = 'run-1'): Promise<void> {
  for (let i = 0; i < n; i++) await log.append({ type: 'violation', runId, violation: violation({ runId }) });
}

describe('audit log: hash chain and verify', function () {
  useTempHome();
  let t: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    t = tempDir();
    file = path.join(t.dir, '.sandbox', 'audit.jsonl');
  });
  afterEach(() => t.cleanup());

  it('chains every line to the previous one: seq 1.., prev = the previous line\'s keyed mac, genesis first', async function () {
    const log = await AuditLog.open(file);
    await log.append({ type: 'host_started', component: 'test' });
    await log.append(runStarted('r1'));
    await fill(log, 5, 'r1');
    await log.append(finished('r1'));
    await log.append({ type: 'host_stopped' });
    await log.close();
    const ls = lines(file);
    assert.equal(ls.length, 9);
    const key = readAuditKey(defaultStateDir())!;
    assert.equal(key.length, 32);
    let prev = GENESIS_HASH;
    ls.forEach((l, i) => {
      const r = AuditRecord.parse(JSON.parse(l));
      assert.equal(r.v, 2);
      assert.equal(r.seq, i + 1);
      assert.equal(r.prev, prev);
      assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(r.writer.pid, process.pid);
      assert.equal(r.writer.host, os.hostname());
      // mac, the last field, is HMAC-SHA-256 under the user's key of the line without it.
      const m = /,"mac":"([0-9a-f]{64})"\}$/.exec(l)!;
      assert.equal(m[1], r.mac);
      assert.equal(crypto.createHmac('sha256', key).update(`${l.slice(0, l.length - m[0].length)}}`).digest('hex'), r.mac);
      prev = r.mac!;
    });
    const v = verifyAuditFile(file);
    assert.deepEqual([v.ok, v.lines, v.anchored, v.firstSeq, v.lastSeq], [true, 9, true, 1, 9]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it('reports an edited line at that line, even when the edit keeps valid JSON and schema', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 10);
    await log.close();
    const ls = lines(file);
    ls[4] = ls[4]!.replace('"action":"blocked"', '"action":"warned"');
    writeLines(file, ls);
    const v = verifyAuditFile(file);
    assert.equal(v.ok, false);
    assert.equal(v.firstBroken!.line, 5);
    assert.equal(v.firstBroken!.file, file);
    assert.match(v.firstBroken!.reason, /changed after it was written/);
  });

  it('reports invalid JSON and schema violations at the line itself', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 6);
    await log.close();
    const orig = lines(file);
    writeLines(file, orig.map((l, i) => (i === 2 ? l.slice(0, -3) : l)));
    let v = verifyAuditFile(file);
    assert.equal(v.firstBroken!.line, 3);
    assert.match(v.firstBroken!.reason, /not valid JSON/);
    writeLines(file, orig.map((l, i) => (i === 3 ? l.replace('"kind":"file"', '"kind":"teleport"') : l)));
    v = verifyAuditFile(file);
    assert.equal(v.firstBroken!.line, 4);
    assert.match(v.firstBroken!.reason, /schema: violation\.kind/);
  });

  it('reports a deleted line at the position where it is missing, including the first and across files', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 8);
    await log.close();
    const ls = lines(file);
    writeLines(file, ls.filter((_, i) => i !== 3));
    let v = verifyAuditFile(file);
    assert.equal(v.firstBroken!.line, 4);
    assert.match(v.firstBroken!.reason, /seq 5 where 4 was expected: 1 line\(s\) missing/);
    writeLines(file, ls.slice(1));
    v = verifyAuditFile(file);
    assert.equal(v.firstBroken!.line, 1);
    assert.match(v.firstBroken!.reason, /starts at seq 2/);
  });

  it('reports reordered lines at the first out-of-place line', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 8);
    await log.close();
    const ls = lines(file);
    [ls[5], ls[6]] = [ls[6]!, ls[5]!];
    writeLines(file, ls);
    const v = verifyAuditFile(file);
    assert.equal(v.firstBroken!.line, 6);
    assert.match(v.firstBroken!.reason, /seq 7 where 6 was expected/);
  });

  it('rejects an empty line and a forged genesis', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 3);
    await log.close();
    const ls = lines(file);
    writeLines(file, [ls[0]!, '', ls[1]!, ls[2]!]);
    assert.equal(verifyAuditFile(file).firstBroken!.line, 2);
    writeLines(file, [ls[0]!.replace(GENESIS_HASH, 'f'.repeat(64)), ls[1]!, ls[2]!]);
    assert.match(verifyAuditFile(file).firstBroken!.reason, /genesis/);
  });

  it('says so when there is no file', function () {
    const v = verifyAuditFile(path.join(t.dir, 'none.jsonl'));
    assert.equal(v.ok, false);
    assert.match(v.firstBroken!.reason, /no audit file/);
  });

  it('writes records of one log in call order, also when appends are not awaited', async function () {
    const log = await AuditLog.open(file);
    const ps = Array.from({ length: 200 }, (_, i) => log.append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r', message: `m${i}` }) }));
    const written = await Promise.all(ps);
    await log.close();
    assert.deepEqual(written.map((r) => r.seq), written.map((_, i) => i + 1));
    const msgs = readAuditRecords(file).map((r) => (r.type === 'violation' ? r.violation.message : ''));
    assert.deepEqual(msgs, written.map((_, i) => `m${i}`));
    assert.equal(verifyAuditFile(file).ok, true);
  });

  it('rejects an invalid record without writing it and goes on', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 1);
    const bad = { type: 'violation', runId: 'r', violation: { ...violation(), rule: undefined } } as unknown as AuditRecordInput;
    await assert.rejects(log.append(bad), (e: unknown) => e instanceof SandboxError && e.code === 'PROTOCOL_INVALID');
    await fill(log, 1);
    await log.close();
    assert.equal(lines(file).length, 2);
    assert.equal(verifyAuditFile(file).ok, true);
  });
});

describe('audit log: several writers, rotation, repair', function () {
  useTempHome();
  let t: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    t = tempDir();
    file = path.join(t.dir, 'audit.jsonl');
  });
  afterEach(() => t.cleanup());

  it('two logs on one file in one process re-read the tail and keep one chain', async function () {
    const a = await AuditLog.open(file);
    const b = await AuditLog.open(file);
    for (let i = 0; i < 20; i++) {
      await (i % 3 ? a : b).append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r' }) });
    }
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r' }) })));
    await a.close();
    await b.close();
    const v = verifyAuditFile(file);
    assert.deepEqual([v.ok, v.lines], [true, 50]);
  });

  it('rotates at the size limit, keeps N files, and the chain continues across them', async function () {
    const log = await AuditLog.open(file, { maxBytes: 2048, keep: 3 });
    await log.append(runStarted('r1'));
    await fill(log, 60, 'r1');
    await log.close();
    const files = auditChainFiles(file);
    assert.deepEqual(files.map((f) => path.basename(f)), ['audit.3.jsonl', 'audit.2.jsonl', 'audit.1.jsonl', 'audit.jsonl']);
    assert.ok(!fs.existsSync(rotatedPath(file, 4)), 'files beyond keep are dropped');
    for (const f of files.slice(0, -1)) assert.ok(fs.statSync(f).size <= 2048, `${f} is within maxBytes`);
    // The new file's first line continues from the rotated file's last line.
    const last1 = lines(rotatedPath(file, 1)).at(-1)!;
    const first0 = JSON.parse(lines(file)[0]!);
    assert.equal(first0.prev, JSON.parse(last1).mac);
    assert.equal(first0.seq, JSON.parse(last1).seq + 1);
    const v = verifyAuditFile(file);
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.equal(v.anchored, false, 'the oldest lines were rotated out');
    assert.equal(v.lastSeq, 61);
    assert.equal(v.lines, 61 - v.firstSeq! + 1);
    // Verify given the chain explicitly; out of order it breaks at the first file boundary.
    assert.equal(verifyAuditFile(files).ok, true);
    const swapped = [files[1]!, files[0]!, files[2]!, files[3]!];
    const bad = verifyAuditFile(swapped);
    assert.equal(bad.ok, false);
    assert.equal(bad.firstBroken!.file, files[0]);
    assert.equal(bad.firstBroken!.line, 1);
  });

  it('detects an edit of the last line of a rotated file, reported in that file', async function () {
    const log = await AuditLog.open(file, { maxBytes: 1500, keep: 2 });
    await fill(log, 12);
    await log.close();
    const r1 = rotatedPath(file, 1);
    const ls = lines(r1);
    ls[ls.length - 1] = ls[ls.length - 1]!.replace('Blocked write', 'Allowed write');
    writeLines(r1, ls);
    const v = verifyAuditFile(file);
    assert.equal(v.ok, false);
    assert.equal(v.firstBroken!.file, r1);
    assert.equal(v.firstBroken!.line, ls.length);
    // Each line carries its own keyed mac, so the edit is caught at the line itself.
    assert.match(v.firstBroken!.reason, /changed after it was written/);
  });

  it('rotation by another writer is noticed: the chain goes on from the rotated file', async function () {
    const a = await AuditLog.open(file, { maxBytes: 1200, keep: 50 });
    const b = await AuditLog.open(file, { maxBytes: 100_000, keep: 50 });
    for (let i = 0; i < 30; i++) await (i % 2 ? a : b).append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r' }) });
    await a.close();
    await b.close();
    const v = verifyAuditFile(file);
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.equal(v.lines, 30);
    assert.ok(v.files.length > 3);
  });

  it('a run_started carries the full policy the first time its digest appears in a file', async function () {
    const log = await AuditLog.open(file, { maxBytes: 6000, keep: 5 });
    await log.append(runStarted('r1'));
    await log.append(runStarted('r2'));
    const other = policy({ profile: 'strict' });
    await log.append(runStarted('r3', { policy: other, policyDigest: sha(JSON.stringify(other)) }));
    const other2 = await AuditLog.open(file, { maxBytes: 6000, keep: 5 });
    await other2.append(runStarted('r4', { policy: other, policyDigest: sha(JSON.stringify(other)) }));
    await other2.close();
    await fill(log, 20); // forces a rotation
    await log.append(runStarted('r5'));
    await log.close();
    const recs = readAuditRecords(file).filter((r) => r.type === 'run_started');
    assert.deepEqual(recs.map((r) => [r.runId, r.type === 'run_started' && r.policy !== undefined]), [
      ['r1', true],
      ['r2', false],
      ['r3', true],
      ['r4', false],
      ['r5', true],
    ]);
    const r5 = readAuditRecords(file).find((r) => r.type === 'run_started' && r.runId === 'r5');
    assert.deepEqual(r5 && r5.type === 'run_started' && r5.policy, policy());
  });

  it('cuts off an incomplete last line left by a killed writer and records the repair', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 3);
    await log.close();
    const fragment = '{"v":1,"seq":4,"prev":"ab';
    fs.appendFileSync(file, fragment);
    const before = verifyAuditFile(file);
    assert.equal(before.ok, true);
    assert.deepEqual(before.incompleteTail, { file, bytes: fragment.length });
    const log2 = await AuditLog.open(file);
    await fill(log2, 1);
    await log2.close();
    const recs = readAuditRecords(file);
    assert.deepEqual(recs.map((r) => r.type), ['violation', 'violation', 'violation', 'log_repaired', 'violation']);
    const rep = recs[3]!;
    assert.ok(rep.type === 'log_repaired');
    assert.equal(rep.removedBytes, fragment.length);
    assert.equal(rep.removedSha256, sha(fragment));
    const after = verifyAuditFile(file);
    assert.deepEqual([after.ok, after.lines, after.incompleteTail], [true, 5, undefined]);
  });

  it('a writer that finds the chain shorter than it last saw records log_regressed (file deleted, lines cut)', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 5);
    writeLines(file, lines(file).slice(0, 3)); // someone cut the last two lines
    await fill(log, 1);
    let recs = readAuditRecords(file);
    assert.deepEqual(recs.map((r) => [r.seq, r.type]), [[1, 'violation'], [2, 'violation'], [3, 'violation'], [4, 'log_regressed'], [5, 'violation']]);
    const reg = recs[3]!;
    assert.ok(reg.type === 'log_regressed' && reg.expectedSeq === 5 && reg.foundSeq === 3);
    fs.rmSync(file); // and now the whole file
    await fill(log, 1);
    await log.close();
    recs = readAuditRecords(file);
    assert.deepEqual(recs.map((r) => [r.seq, r.type]), [[1, 'log_regressed'], [2, 'violation']]);
    assert.ok(recs[0]!.type === 'log_regressed' && recs[0]!.expectedSeq === 5 && recs[0]!.foundSeq === 0);
    assert.equal(verifyAuditFile(file).ok, true);
  });

  it('a repair line that itself triggers a rotation leaves the chain whole', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 3);
    await log.close();
    // Room for less than one more line: the repair line rotates, the next record follows it.
    const maxBytes = fs.statSync(file).size + 100;
    fs.appendFileSync(file, '{"v":1,"seq":4');
    const log2 = await AuditLog.open(file, { maxBytes, keep: 5 });
    await fill(log2, 2);
    await log2.close();
    assert.equal(lines(rotatedPath(file, 1)).length, 3);
    assert.equal(lines(file)[0]!.includes('"type":"log_repaired"'), true);
    const v = verifyAuditFile(file);
    assert.deepEqual([v.ok, v.lines, v.incompleteTail], [true, 6, undefined]);
    assert.deepEqual(readAuditRecords(file).map((r) => r.type), ['violation', 'violation', 'violation', 'log_repaired', 'violation', 'violation']);
  });

  it('refuses to extend a chain whose last line is not a record (tampering), leaving the file as it is', async function () {
    const log = await AuditLog.open(file);
    await fill(log, 2);
    await log.close();
    fs.appendFileSync(file, 'garbage\n');
    const size = fs.statSync(file).size;
    const log2 = await AuditLog.open(file);
    await assert.rejects(fill(log2, 1), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_BROKEN' && /last line/.test(e.message));
    await log2.close();
    assert.equal(fs.statSync(file).size, size);
  });

  it('fails with AUDIT_LOCKED when another holder keeps the lock past the timeout, then recovers', async function () {
    const log = await AuditLog.open(file, { lockTimeoutMs: 150 });
    assert.equal(log.lockMechanism, 'flock');
    const other = openFileLock(log.lockFile);
    assert.equal(other.tryAcquire(), true);
    const t0 = Date.now();
    await assert.rejects(fill(log, 1), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_LOCKED');
    assert.ok(Date.now() - t0 >= 140);
    other.release();
    await fill(log, 1);
    other.close();
    await log.close();
    assert.deepEqual([verifyAuditFile(file).ok, lines(file).length], [true, 1]);
  });
});

describe('audit log: secret masking', function () {
  useTempHome();
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('masks pattern matches and literal secret values in every field, command lines included', async function () {
    const file = path.join(t.dir, 'audit.jsonl');
    const token = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    const apiKey = 'sk-live-7f3a9"c\\e21';
    const log = await AuditLog.open(file, { secretPatterns: ['ghp_[A-Za-z0-9]{20,}'] });
    log.addSecretValues([apiKey, 'ab']);
    const p = policy({ env: { allow: ['API_KEY'], set: { API_KEY: apiKey }, secretPatterns: [] } });
    await log.append({ type: 'host_started', component: `cli ${apiKey}` });
    await log.append(
      runStarted('r1', {
        command: ['curl', '-H', `Authorization: Bearer ${apiKey}`, `GITHUB_TOKEN=${token}`, `--url=https://x/?k=${apiKey}`],
        cwd: `/tmp/${apiKey}`,
        policy: p,
        gitScript: { repo: `https://user:${token}@github.com/o/r.git`, ref: 'main' },
      }),
    );
    await log.append({ type: 'env_filtered', runId: 'r1', removed: ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY'] });
    await log.append({ type: 'violation', runId: 'r1', violation: violation({ runId: 'r1', path: `/home/u/${token}`, message: `Blocked write of ${apiKey}` }) });
    await log.append({ type: 'limit_exceeded', runId: 'r1', limit: 'cpu', observed: 2, max: 1, action: 'killed', message: `cpu ${token}` });
    await log.append({ type: 'policy_error', source: `/w/${apiKey}.json`, message: `bad ${token}` });
    await log.append({ type: 'run_aborted', runId: 'r1', reason: `because ${apiKey}` });
    await log.close();
    const raw = fs.readFileSync(file, 'utf8');
    for (const secret of [token, apiKey, JSON.stringify(apiKey).slice(1, -1), 'sk-live-7f3a9']) {
      assert.ok(!raw.includes(secret), `secret ${secret} leaked into the audit file`);
    }
    assert.ok(raw.includes('GITHUB_TOKEN'), 'variable names stay');
    const recs = readAuditRecords(file);
    const rs = recs.find((r) => r.type === 'run_started');
    assert.ok(rs && rs.type === 'run_started');
    assert.equal(rs.command[0], 'curl');
    assert.ok(rs.command[3]!.startsWith('GITHUB_TOKEN='));
    assert.equal(verifyAuditFile(file).ok, true);
  });

  it('does not treat very short values as secrets (they would shred the log)', async function () {
    const file = path.join(t.dir, 'audit.jsonl');
    const log = await AuditLog.open(file, { secretValues: ['1', 'on', 'abcd'] });
    await log.append({ type: 'policy_error', source: 'settings 1 on', message: 'abcd xyz' });
    await log.close();
    const r = readAuditRecords(file)[0]!;
    assert.ok(r.type === 'policy_error');
    assert.equal(r.source, 'settings 1 on');
    assert.ok(!r.message.includes('abcd'));
  });
});

describe('audit log: recovering runs of dead writers', function () {
  useTempHome();
  let t: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    t = tempDir();
    file = path.join(t.dir, 'audit.jsonl');
  });
  afterEach(() => t.cleanup());

  async function startAs(runId: string, identity: ReturnType<typeof processIdentity>): Promise<void> {
    const log = await AuditLog.open(file, { writerIdentity: identity, recover: false });
    await log.append(runStarted(runId));
    await log.close();
  }

  it('closes open runs of dead writers (gone, reused pid, other boot) and leaves live and foreign ones', async function () {
    const me = processIdentity();
    assert.ok(me.startTicks != null && me.bootId, 'this test needs /proc');
    await startAs('alive', me);
    await startAs('reused-pid', { ...me, startTicks: me.startTicks! + 1, startedAt: new Date(0).toISOString() });
    await startAs('other-boot', { ...me, bootId: '00000000-0000-0000-0000-000000000000' });
    await startAs('other-host', { ...me, pid: 4_000_000, host: `${os.hostname()}-elsewhere` });
    await startAs('gone', { ...me, pid: 4_000_001 });
    await startAs('finished', { ...me, pid: 4_000_002 });
    const fin = await AuditLog.open(file, { recover: false });
    await fin.append(finished('finished'));
    await fin.close();

    const log = await AuditLog.open(file);
    const aborted = readAuditRecords(file).filter((r) => r.type === 'run_aborted');
    assert.deepEqual(aborted.map((r) => r.type === 'run_aborted' && r.runId).sort(), ['gone', 'other-boot', 'reused-pid']);
    assert.match(aborted[0]!.type === 'run_aborted' ? aborted[0]!.reason : '', /is gone and the run never finished/);
    // A second recovery (another window opening the log) adds nothing.
    assert.deepEqual(await log.recoverAborted(), []);
    await log.close();
    const again = await AuditLog.open(file);
    await again.close();
    assert.equal(readAuditRecords(file).filter((r) => r.type === 'run_aborted').length, 3);
    assert.equal(verifyAuditFile(file).ok, true);
  });

  it('finds open runs in rotated files too', async function () {
    const log = await AuditLog.open(file, { maxBytes: 3000, keep: 5, writerIdentity: { ...processIdentity(), pid: 4_000_003 }, recover: false });
    await log.append(runStarted('old-run'));
    await fill(log, 20, 'old-run');
    await log.close();
    assert.ok(auditChainFiles(file).length > 2);
    const l2 = await AuditLog.open(file);
    await l2.close();
    const last = readAuditRecords(file).at(-1)!;
    assert.ok(last.type === 'run_aborted' && last.runId === 'old-run');
    assert.equal(verifyAuditFile(file).ok, true);
  });
});
