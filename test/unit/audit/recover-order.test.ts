// The backward scan of abortedRuns (src/audit/recover.ts) gives exactly what a forward scan of every run_*
// line gives: the same runs, the same writers, the same order, with corrupt lines and reopened run ids mixed in.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { AuditLog } from '../../../src/audit';
import { abortedRuns, type OpenRun } from '../../../src/audit/recover';
import { parseAuditLine, type AuditWriter } from '../../../src/protocol/audit';
import { processIdentity } from '../../../native/linux/file-lock';
import { finished, runStarted, useTempAuditFile, useTempHome } from './fixtures';

/** The forward scan abortedRuns did before (every run_* line checked), without the liveness filter. */
function forward(files: Buffer[]): OpenRun[] {
  const open = new Map<string, AuditWriter>();
  for (const buf of files) {
    for (const text of buf.toString('utf8').split('\n')) {
      if (!text.includes('"type":"run_')) continue;
      const p = parseAuditLine(text);
      if (!p.ok) continue;
      const r = p.record;
      if (r.type === 'run_started') open.set(r.runId, r.writer);
      else if (r.type === 'run_finished' || r.type === 'run_aborted') open.delete(r.runId);
    }
  }
  return [...open].map(([runId, writer]) => ({ runId, writer }));
}

describe('audit log: recovery scans backwards with the forward result', function () {
  useTempHome();
  const tmp = useTempAuditFile();

  it('same open runs, writers and order on random chains with corrupt lines', async function () {
    this.timeout(60000);
    const me = processIdentity();
    let seed = 7; // xorshift32: the same chains on every run
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    let opened = 0;
    for (let round = 0; round < 12; round++) {
      fs.rmSync(tmp.file, { force: true });
      // Writers that are provably gone (pids above pid_max), one per open, so the writer chosen is visible.
      let pid = 4_100_000 + round * 1000;
      for (let k = 0; k < 30; k++) {
        const log = await AuditLog.open(tmp.file, { writerIdentity: { ...me, pid: pid++ }, recover: false });
        const id = `run-${rnd(6)}`;
        await log.append(rnd(3) === 0 ? finished(id) : rnd(5) === 0 ? { type: 'run_aborted', runId: id, reason: 'test' } : runStarted(id));
        await log.close();
      }
      // Corrupt some lines: a cut line is not valid JSON, so neither scan counts it.
      const text = fs.readFileSync(tmp.file, 'utf8').split('\n');
      // Others stay JSON with their run id but break the schema (the case a cheap look at the run id must not decide).
      for (let j = 0; j < text.length; j++) {
        if (!text[j]) continue;
        const c = rnd(8);
        if (c === 0) text[j] = text[j]!.slice(0, 40 + rnd(200));
        else if (c === 1) text[j] = text[j]!.replace('"signal":null', '"signal":5').replace('"mode":"', '"mode":"x').replace('"reason":"test"', '"reason":7');
      }
      const buf = Buffer.from(text.join('\n'));
      const half = buf.indexOf('\n', buf.length >> 1) + 1;
      const files = [buf.subarray(0, half), buf.subarray(half)];
      const want = forward(files);
      assert.deepEqual(abortedRuns(files), want, `round ${round}`);
      opened += want.length;
    }
    assert.ok(opened >= 12, `the chains leave runs open (${opened})`);
  });
});
