// The audit log with several writers: the lock, rotation, repair of a torn tail, and runs of dead writers.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, auditChainFiles, readAuditRecords, rotatedPath, verifyAuditFile } from '../../../src/audit';
import { SandboxError } from '../../../src/errors';
import { openFileLock, processIdentity } from '../../../native/linux/file-lock';
import { finished, fill, lines, policy, runStarted, sha, violation, writeLines, useTempAuditFile, useTempHome } from './fixtures';

describe('audit log: several writers, rotation, repair', function () {
  useTempHome();
  const tmp = useTempAuditFile();

  it('two logs on one file in one process re-read the tail and keep one chain', async function () {
    const a = await AuditLog.open(tmp.file);
    const b = await AuditLog.open(tmp.file);
    for (let i = 0; i < 20; i++) {
      await (i % 3 ? a : b).append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r' }) });
    }
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r' }) })));
    await a.close();
    await b.close();
    const v = verifyAuditFile(tmp.file);
    assert.deepEqual([v.ok, v.lines], [true, 50]);
  });

  it('rotates at the size limit, keeps N files, and the chain continues across them', async function () {
    const log = await AuditLog.open(tmp.file, { maxBytes: 2048, keep: 3 });
    await log.append(runStarted('r1'));
    await fill(log, 60, 'r1');
    await log.close();
    const files = auditChainFiles(tmp.file);
    assert.deepEqual(files.map((f) => path.basename(f)), ['audit.3.jsonl', 'audit.2.jsonl', 'audit.1.jsonl', 'audit.jsonl']);
    assert.ok(!fs.existsSync(rotatedPath(tmp.file, 4)), 'files beyond keep are dropped');
    for (const f of files.slice(0, -1)) assert.ok(fs.statSync(f).size <= 2048, `${f} is within maxBytes`);
    // The new file's first line continues from the rotated file's last line.
    const last1 = lines(rotatedPath(tmp.file, 1)).at(-1)!;
    const first0 = JSON.parse(lines(tmp.file)[0]!);
    assert.equal(first0.prev, JSON.parse(last1).mac);
    assert.equal(first0.seq, JSON.parse(last1).seq + 1);
    const v = verifyAuditFile(tmp.file);
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
    const log = await AuditLog.open(tmp.file, { maxBytes: 1500, keep: 2 });
    await fill(log, 12);
    await log.close();
    const r1 = rotatedPath(tmp.file, 1);
    const ls = lines(r1);
    ls[ls.length - 1] = ls[ls.length - 1]!.replace('Blocked write', 'Allowed write');
    writeLines(r1, ls);
    const v = verifyAuditFile(tmp.file);
    assert.equal(v.ok, false);
    assert.equal(v.firstBroken!.file, r1);
    assert.equal(v.firstBroken!.line, ls.length);
    // Each line carries its own keyed mac, so the edit is caught at the line itself.
    assert.match(v.firstBroken!.reason, /changed after it was written/);
  });

  it('rotation by another writer is noticed: the chain goes on from the rotated file', async function () {
    const a = await AuditLog.open(tmp.file, { maxBytes: 1200, keep: 50 });
    const b = await AuditLog.open(tmp.file, { maxBytes: 100_000, keep: 50 });
    for (let i = 0; i < 30; i++) await (i % 2 ? a : b).append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r' }) });
    await a.close();
    await b.close();
    const v = verifyAuditFile(tmp.file);
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.equal(v.lines, 30);
    assert.ok(v.files.length > 3);
  });

  it('a run_started carries the full policy the first time its digest appears in a file', async function () {
    const log = await AuditLog.open(tmp.file, { maxBytes: 6000, keep: 5 });
    await log.append(runStarted('r1'));
    await log.append(runStarted('r2'));
    const other = policy({ profile: 'strict' });
    await log.append(runStarted('r3', { policy: other, policyDigest: sha(JSON.stringify(other)) }));
    const other2 = await AuditLog.open(tmp.file, { maxBytes: 6000, keep: 5 });
    await other2.append(runStarted('r4', { policy: other, policyDigest: sha(JSON.stringify(other)) }));
    await other2.close();
    await fill(log, 20); // forces a rotation
    await log.append(runStarted('r5'));
    await log.close();
    const recs = readAuditRecords(tmp.file).filter((r) => r.type === 'run_started');
    assert.deepEqual(recs.map((r) => [r.runId, r.type === 'run_started' && r.policy !== undefined]), [
      ['r1', true],
      ['r2', false],
      ['r3', true],
      ['r4', false],
      ['r5', true],
    ]);
    const r5 = readAuditRecords(tmp.file).find((r) => r.type === 'run_started' && r.runId === 'r5');
    assert.deepEqual(r5 && r5.type === 'run_started' && r5.policy, policy());
  });

  it('cuts off an incomplete last line left by a killed writer and records the repair', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 3);
    await log.close();
    const fragment = '{"v":1,"seq":4,"prev":"ab';
    fs.appendFileSync(tmp.file, fragment);
    const before = verifyAuditFile(tmp.file);
    assert.equal(before.ok, true);
    assert.deepEqual(before.incompleteTail, { file: tmp.file, bytes: fragment.length });
    const log2 = await AuditLog.open(tmp.file);
    await fill(log2, 1);
    await log2.close();
    const recs = readAuditRecords(tmp.file);
    assert.deepEqual(recs.map((r) => r.type), ['violation', 'violation', 'violation', 'log_repaired', 'violation']);
    const rep = recs[3]!;
    assert.ok(rep.type === 'log_repaired');
    assert.equal(rep.removedBytes, fragment.length);
    assert.equal(rep.removedSha256, sha(fragment));
    const after = verifyAuditFile(tmp.file);
    assert.deepEqual([after.ok, after.lines, after.incompleteTail], [true, 5, undefined]);
  });

  it('a writer that finds the chain shorter than it last saw records log_regressed (file deleted, lines cut)', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 5);
    writeLines(tmp.file, lines(tmp.file).slice(0, 3)); // someone cut the last two lines
    await fill(log, 1);
    let recs = readAuditRecords(tmp.file);
    assert.deepEqual(recs.map((r) => [r.seq, r.type]), [[1, 'violation'], [2, 'violation'], [3, 'violation'], [4, 'log_regressed'], [5, 'violation']]);
    const reg = recs[3]!;
    assert.ok(reg.type === 'log_regressed' && reg.expectedSeq === 5 && reg.foundSeq === 3);
    fs.rmSync(tmp.file); // and now the whole file
    await fill(log, 1);
    await log.close();
    recs = readAuditRecords(tmp.file);
    assert.deepEqual(recs.map((r) => [r.seq, r.type]), [[1, 'log_regressed'], [2, 'violation']]);
    assert.ok(recs[0]!.type === 'log_regressed' && recs[0]!.expectedSeq === 5 && recs[0]!.foundSeq === 0);
    assert.equal(verifyAuditFile(tmp.file).ok, true);
  });

  it('a repair line that itself triggers a rotation leaves the chain whole', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 3);
    await log.close();
    // Room for less than one more line: the repair line rotates, the next record follows it.
    const maxBytes = fs.statSync(tmp.file).size + 100;
    fs.appendFileSync(tmp.file, '{"v":1,"seq":4');
    const log2 = await AuditLog.open(tmp.file, { maxBytes, keep: 5 });
    await fill(log2, 2);
    await log2.close();
    assert.equal(lines(rotatedPath(tmp.file, 1)).length, 3);
    assert.equal(lines(tmp.file)[0]!.includes('"type":"log_repaired"'), true);
    const v = verifyAuditFile(tmp.file);
    assert.deepEqual([v.ok, v.lines, v.incompleteTail], [true, 6, undefined]);
    assert.deepEqual(readAuditRecords(tmp.file).map((r) => r.type), ['violation', 'violation', 'violation', 'log_repaired', 'violation', 'violation']);
  });

  it('refuses to extend a chain whose last line is not a record (tampering), leaving the file as it is', async function () {
    const log = await AuditLog.open(tmp.file);
    await fill(log, 2);
    await log.close();
    fs.appendFileSync(tmp.file, 'garbage\n');
    const size = fs.statSync(tmp.file).size;
    const log2 = await AuditLog.open(tmp.file);
    await assert.rejects(fill(log2, 1), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_BROKEN' && /last line/.test(e.message));
    await log2.close();
    assert.equal(fs.statSync(tmp.file).size, size);
  });

  it('fails with AUDIT_LOCKED when another holder keeps the lock past the timeout, then recovers', async function () {
    const log = await AuditLog.open(tmp.file, { lockTimeoutMs: 150 });
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
    assert.deepEqual([verifyAuditFile(tmp.file).ok, lines(tmp.file).length], [true, 1]);
  });
});

describe('audit log: recovering runs of dead writers', function () {
  useTempHome();
  const tmp = useTempAuditFile();

  async function startAs(runId: string, identity: ReturnType<typeof processIdentity>): Promise<void> {
    const log = await AuditLog.open(tmp.file, { writerIdentity: identity, recover: false });
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
    const fin = await AuditLog.open(tmp.file, { recover: false });
    await fin.append(finished('finished'));
    await fin.close();

    const log = await AuditLog.open(tmp.file);
    const aborted = readAuditRecords(tmp.file).filter((r) => r.type === 'run_aborted');
    assert.deepEqual(aborted.map((r) => r.type === 'run_aborted' && r.runId).sort(), ['gone', 'other-boot', 'reused-pid']);
    assert.match(aborted[0]!.type === 'run_aborted' ? aborted[0]!.reason : '', /is gone and the run never finished/);
    // A second recovery (another window opening the log) adds nothing.
    assert.deepEqual(await log.recoverAborted(), []);
    await log.close();
    const again = await AuditLog.open(tmp.file);
    await again.close();
    assert.equal(readAuditRecords(tmp.file).filter((r) => r.type === 'run_aborted').length, 3);
    assert.equal(verifyAuditFile(tmp.file).ok, true);
  });

  it('finds open runs in rotated files too', async function () {
    const log = await AuditLog.open(tmp.file, { maxBytes: 3000, keep: 5, writerIdentity: { ...processIdentity(), pid: 4_000_003 }, recover: false });
    await log.append(runStarted('old-run'));
    await fill(log, 20, 'old-run');
    await log.close();
    assert.ok(auditChainFiles(tmp.file).length > 2);
    const l2 = await AuditLog.open(tmp.file);
    await l2.close();
    const last = readAuditRecords(tmp.file).at(-1)!;
    assert.ok(last.type === 'run_aborted' && last.runId === 'old-run');
    assert.equal(verifyAuditFile(tmp.file).ok, true);
  });
});
