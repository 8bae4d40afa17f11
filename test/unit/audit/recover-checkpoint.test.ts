// The recovery checkpoint (src/audit/recover-checkpoint.ts): a scan that continues from where the last one
// ended gives exactly what a scan of the whole chain gives, and a checkpoint that no longer describes the
// file (rotated, rewritten, shortened, unreadable) is never used. Real files, real writers.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog } from '../../../src/audit';
import { openRuns, type OpenRun } from '../../../src/audit/recover';
import { scanOpenRuns } from '../../../src/audit/recover-checkpoint';
import { openLogDir } from '../../../src/audit/safe-dir';
import { auditChainFiles } from '../../../src/audit/files';
import { processIdentity } from '../../../native/linux/file-lock';
import { fill, finished, runStarted, useTempAuditFile, useTempHome } from './fixtures';

describe('audit log: the recovery checkpoint', function () {
  useTempHome();
  const tmp = useTempAuditFile();
  const cpFile = () => path.join(tmp.dir, 'checkpoint.json');
  let seed = 11; // xorshift32: the same chains on every run
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };

  /** Appends `n` random run lines, each by a writer of its own (gone pids, so the writer shows). */
  async function append(n: number, opts: { maxBytes?: number } = {}): Promise<void> {
    for (let k = 0; k < n; k++) {
      const log = await AuditLog.open(tmp.file, { writerIdentity: { ...processIdentity(), pid: 4_200_000 + rnd(100_000) }, recover: false, ...opts });
      const id = `run-${rnd(8)}`;
      await log.append(rnd(3) === 0 ? finished(id) : rnd(5) === 0 ? { type: 'run_aborted', runId: id, reason: 'test' } : runStarted(id));
      if (rnd(4) === 0) await fill(log, 1 + rnd(3), id);
      await log.close();
    }
  }

  /** The chain scanned whole, oldest file first. */
  const whole = (): OpenRun[] => openRuns(auditChainFiles(tmp.file).map((f) => fs.readFileSync(f)));

  function scan(): { open: OpenRun[]; continued: boolean } {
    const dir = openLogDir(tmp.file);
    try {
      let before = -1;
      try {
        before = JSON.parse(fs.readFileSync(cpFile(), 'utf8')).size ?? -1;
      } catch {
        // none, or garbled
      }
      const s = scanOpenRuns(dir, cpFile());
      s.save();
      return { open: s.open, continued: before > 0 };
    } finally {
      dir.close();
    }
  }

  it('continuing from the checkpoint gives the whole chain\'s open runs, step after step', async function () {
    this.timeout(60000);
    let continued = 0;
    for (let step = 0; step < 25; step++) {
      await append(1 + rnd(6));
      const s = scan();
      assert.deepEqual(s.open, whole(), `step ${step}`);
      if (s.continued) continued++;
    }
    assert.ok(continued >= 20, `the checkpoint was used (${continued} of 25)`);
  });

  it('the checkpoint is what is read: a run hidden from it stays hidden, until the file no longer matches', async function () {
    await append(10);
    scan();
    // A checkpoint that lists no open run at all: a continuing scan believes it (it reads only the new lines).
    const cp = JSON.parse(fs.readFileSync(cpFile(), 'utf8'));
    const hidden = { ...cp, open: [] };
    fs.writeFileSync(cpFile(), JSON.stringify(hidden));
    assert.deepEqual(scan().open, []);
    // Rewritten in place with another last line at the offset: a full scan, the runs are back.
    const text = fs.readFileSync(tmp.file, 'utf8');
    fs.writeFileSync(cpFile(), JSON.stringify(hidden));
    fs.writeFileSync(tmp.file, text.replace(/"time":"[^"]*"(?![\s\S]*"time")/, '"time":"2000-01-01T00:00:00.000Z"'));
    assert.deepEqual(scan().open, whole());
  });

  it('a rotation, a shortened file, a foreign or garbled checkpoint: a full scan', async function () {
    this.timeout(60000);
    await append(6);
    scan();
    const stale = fs.readFileSync(cpFile(), 'utf8');
    await append(30, { maxBytes: 1500 }); // rotates: the log is a new file
    assert.ok(auditChainFiles(tmp.file).length > 1);
    fs.writeFileSync(cpFile(), stale);
    assert.deepEqual(scan(), { open: whole(), continued: true /* a checkpoint existed; its file did not match */ });
    const now = JSON.parse(fs.readFileSync(cpFile(), 'utf8'));
    // Shorter than the checkpoint says.
    fs.writeFileSync(cpFile(), JSON.stringify({ ...now, size: now.size + 10, open: [] }));
    assert.deepEqual(scan().open, whole());
    // Another file's device and inode.
    fs.writeFileSync(cpFile(), JSON.stringify({ ...now, ino: '1', open: [] }));
    assert.deepEqual(scan().open, whole());
    // Not a checkpoint at all.
    fs.writeFileSync(cpFile(), '{"v":1,"open":');
    assert.deepEqual(scan().open, whole());
    assert.ok(whole().length > 0, 'the chain leaves runs open');
  });
});
