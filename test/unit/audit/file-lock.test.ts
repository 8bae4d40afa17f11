import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exclusiveFileLock, openFileLock, processIdentity, processLiveness } from '../../../native/linux/file-lock';
import { tempDir } from './fixtures';

describe('file lock and process identity', function () {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('flock: one holder at a time, released by release() and by close()', function () {
    const p = path.join(t.dir, 'x.lock');
    const a = openFileLock(p);
    const b = openFileLock(p);
    assert.equal(a.mechanism, 'flock');
    assert.equal(a.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false);
    a.release();
    assert.equal(b.tryAcquire(), true);
    assert.equal(a.tryAcquire(), false);
    b.close();
    assert.equal(a.tryAcquire(), true);
    a.close();
  });

  it('flock held by a process that dies is released by the kernel', function () {
    const p = path.join(t.dir, 'x.lock');
    // A child takes the lock with flock(1)-like behaviour through the same module, then is killed.
    const mod = require.resolve('../../../native/linux/file-lock');
    const r = spawnSync(process.execPath, ['-e', `const l=require(${JSON.stringify(mod)}).openFileLock(${JSON.stringify(p)}); if(!l.tryAcquire()) process.exit(3); process.kill(process.pid,'SIGKILL')`]);
    assert.equal(r.signal, 'SIGKILL');
    const a = openFileLock(p);
    assert.equal(a.tryAcquire(), true);
    a.close();
  });

  it('lock-file fallback: exclusive, and a stale file of a dead holder is broken, a live holder\'s is not', function () {
    const p = path.join(t.dir, 'y.lock');
    const me = processIdentity();
    const a = exclusiveFileLock(p, me);
    const b = exclusiveFileLock(p, me);
    assert.equal(a.mechanism, 'lockfile');
    assert.equal(a.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false, 'a live holder (this process) keeps it');
    a.release();
    assert.equal(b.tryAcquire(), true);
    b.release();
    fs.writeFileSync(p, JSON.stringify({ ...me, pid: 4_000_000 })); // left by a dead process
    assert.equal(a.tryAcquire(), true);
    assert.equal(JSON.parse(fs.readFileSync(p, 'utf8')).pid, process.pid);
    a.close();
    assert.ok(!fs.existsSync(p));
  });

  it('tells live processes from dead ones, reused pids and other boots; other hosts are unknown', function () {
    const me = processIdentity();
    assert.equal(me.pid, process.pid);
    assert.equal(me.host, os.hostname());
    assert.ok(me.startTicks! > 0);
    assert.ok(Math.abs(Date.parse(me.startedAt) - (Date.now() - process.uptime() * 1000)) < 3000, 'startedAt is this process\'s start');
    assert.equal(processLiveness(me), 'alive');
    assert.equal(processLiveness({ ...me, startTicks: me.startTicks! + 7 }), 'dead');
    assert.equal(processLiveness({ ...me, bootId: 'another-boot' }), 'dead');
    assert.equal(processLiveness({ ...me, host: 'elsewhere' }), 'unknown');
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    assert.equal(processLiveness({ ...me, pid: Number(child.stdout.trim()) }), 'dead');
    const noProc = { pid: process.pid, host: me.host, startedAt: me.startedAt };
    assert.equal(processLiveness(noProc), 'alive', 'without a start time, kill(pid, 0) decides');
  });
});
