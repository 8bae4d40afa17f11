// The audit log's hash chain and verify, and secret masking in what it writes.
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, defaultStateDir, readAuditKey, readAuditRecords, verifyAuditFile } from '../../../src/audit';
import { AuditRecord, GENESIS_HASH, type AuditRecordInput } from '../../../src/protocol/audit';
import { SandboxError } from '../../../src/errors';
import { finished, fill, lines, policy, runStarted, tempDir, violation, writeLines, useTempAuditFile, useTempHome } from './fixtures';

describe('audit log: hash chain and verify', function () {
  useTempHome();
  const tmp = useTempAuditFile('.sandbox/audit.jsonl');

  it('chains every line to the previous one: seq 1.., prev = the previous line\'s keyed mac, genesis first', async function () {
    const log = await AuditLog.open(tmp.file);
    await log.append({ type: 'host_started', component: 'test' });
    await log.append(runStarted('r1'));
    await fill(log, 5, 'r1');
    await log.append(finished('r1'));
    await log.append({ type: 'host_stopped' });
    await log.close();
    const ls = lines(tmp.file);
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
    const v = verifyAuditFile(tmp.file);
    assert.deepEqual([v.ok, v.lines, v.anchored, v.firstSeq, v.lastSeq], [true, 9, true, 1, 9]);
    assert.equal(fs.statSync(tmp.file).mode & 0o777, 0o600);
  });

  it('reports an edited line at that line, even when the edit keeps valid JSON and schema', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 10);
    await log.close();
    const ls = lines(tmp.file);
    ls[4] = ls[4]!.replace('"action":"blocked"', '"action":"warned"');
    writeLines(tmp.file, ls);
    const v = verifyAuditFile(tmp.file);
    assert.equal(v.ok, false);
    assert.equal(v.firstBroken!.line, 5);
    assert.equal(v.firstBroken!.file, tmp.file);
    assert.match(v.firstBroken!.reason, /changed after it was written/);
  });

  it('reports invalid JSON and schema violations at the line itself', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 6);
    await log.close();
    const orig = lines(tmp.file);
    writeLines(tmp.file, orig.map((l, i) => (i === 2 ? l.slice(0, -3) : l)));
    let v = verifyAuditFile(tmp.file);
    assert.equal(v.firstBroken!.line, 3);
    assert.match(v.firstBroken!.reason, /not valid JSON/);
    writeLines(tmp.file, orig.map((l, i) => (i === 3 ? l.replace('"kind":"file"', '"kind":"teleport"') : l)));
    v = verifyAuditFile(tmp.file);
    assert.equal(v.firstBroken!.line, 4);
    assert.match(v.firstBroken!.reason, /schema: violation\.kind/);
  });

  it('reports a deleted line at the position where it is missing, including the first and across files', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 8);
    await log.close();
    const ls = lines(tmp.file);
    writeLines(tmp.file, ls.filter((_, i) => i !== 3));
    let v = verifyAuditFile(tmp.file);
    assert.equal(v.firstBroken!.line, 4);
    assert.match(v.firstBroken!.reason, /seq 5 where 4 was expected: 1 line\(s\) missing/);
    writeLines(tmp.file, ls.slice(1));
    v = verifyAuditFile(tmp.file);
    assert.equal(v.firstBroken!.line, 1);
    assert.match(v.firstBroken!.reason, /starts at seq 2/);
  });

  it('reports reordered lines at the first out-of-place line', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 8);
    await log.close();
    const ls = lines(tmp.file);
    [ls[5], ls[6]] = [ls[6]!, ls[5]!];
    writeLines(tmp.file, ls);
    const v = verifyAuditFile(tmp.file);
    assert.equal(v.firstBroken!.line, 6);
    assert.match(v.firstBroken!.reason, /seq 7 where 6 was expected/);
  });

  it('rejects an empty line and a forged genesis', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 3);
    await log.close();
    const ls = lines(tmp.file);
    writeLines(tmp.file, [ls[0]!, '', ls[1]!, ls[2]!]);
    assert.equal(verifyAuditFile(tmp.file).firstBroken!.line, 2);
    writeLines(tmp.file, [ls[0]!.replace(GENESIS_HASH, 'f'.repeat(64)), ls[1]!, ls[2]!]);
    assert.match(verifyAuditFile(tmp.file).firstBroken!.reason, /genesis/);
  });

  it('says so when there is no file', function () {
    const v = verifyAuditFile(path.join(tmp.dir, 'none.jsonl'));
    assert.equal(v.ok, false);
    assert.match(v.firstBroken!.reason, /no audit file/);
  });

  it('writes records of one log in call order, also when appends are not awaited', async function () {
    const log = await AuditLog.open(tmp.file);
    const ps = Array.from({ length: 200 }, (_, i) => log.append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r', message: `m${i}` }) }));
    const written = await Promise.all(ps);
    await log.close();
    assert.deepEqual(written.map((r) => r.seq), written.map((_, i) => i + 1));
    const msgs = readAuditRecords(tmp.file).map((r) => (r.type === 'violation' ? r.violation.message : ''));
    assert.deepEqual(msgs, written.map((_, i) => `m${i}`));
    assert.equal(verifyAuditFile(tmp.file).ok, true);
  });

  it('rejects an invalid record without writing it and goes on', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 1);
    const bad = { type: 'violation', runId: 'r', violation: { ...violation(), rule: undefined } } as unknown as AuditRecordInput;
    await assert.rejects(log.append(bad), (e: unknown) => e instanceof SandboxError && e.code === 'PROTOCOL_INVALID');
    await fill(log, 1);
    await log.close();
    assert.equal(lines(tmp.file).length, 2);
    assert.equal(verifyAuditFile(tmp.file).ok, true);
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
