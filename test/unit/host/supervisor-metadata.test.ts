// What the fallback tier's supervisor refuses to change for a script although it could (unsafeChange in
// src/host/linux/supervisor-metadata.ts, red team rt22). Pure: inodes as data.
import * as assert from 'node:assert/strict';
import { unsafeChange } from '../../../src/host/linux/supervisor-metadata';

const file = (mode: number, nlink = 1) => ({ mode: 0o100000 | mode, uid: 0, gid: 0, nlink });
const dir = (mode: number) => ({ mode: 0o040000 | mode, uid: 0, gid: 0, nlink: 2 });
const chmod = (mode: number) => ({ kind: 'mode' as const, mode });
const times = { kind: 'times' as const, times: null };

describe('supervisor metadata: the changes it does not make', function () {
  it('a device (the host\'s /dev/null, a terminal), whatever the change', function () {
    assert.match(unsafeChange({ mode: 0o020666, uid: 0, gid: 0, nlink: 1 }, '/dev/null', times, false) ?? '', /device/);
    assert.match(unsafeChange({ mode: 0o060660, uid: 0, gid: 0, nlink: 1 }, '/dev/sda', chmod(0o600), false) ?? '', /device/);
  });

  it('the shared temp folders themselves, a file with other names, set-ID bits on a file', function () {
    assert.match(unsafeChange(dir(0o1777), '/tmp', times, true) ?? '', /shared temporary/);
    assert.match(unsafeChange(file(0o644, 2), '/w/x', times, false) ?? '', /2 names/);
    assert.match(unsafeChange(file(0o644), '/w/x', chmod(0o4755), false) ?? '', /set-user-ID/);
    assert.match(unsafeChange(file(0o644), '/w/x', chmod(0o2755), false) ?? '', /set-user-ID or set-group-ID/);
  });

  it('a folder above a protected path made writable by others, a sticky folder made not sticky', function () {
    assert.match(unsafeChange(dir(0o755), '/w', chmod(0o777), true) ?? '', /writable by others/);
    assert.equal(unsafeChange(dir(0o755), '/w', chmod(0o777), false), null);
    assert.equal(unsafeChange(dir(0o777), '/w', chmod(0o777), true), null, 'no write added: nothing new');
    assert.match(unsafeChange(dir(0o1777), '/w/t', chmod(0o777), false) ?? '', /sticky/);
  });

  it('everything a build does: its own files and folders, modes and times', function () {
    for (const [st, change] of [
      [file(0o644), chmod(0o755)],
      [file(0o644), times],
      [dir(0o755), chmod(0o750)],
      [dir(0o755), chmod(0o2775)],
      [{ mode: 0o010644, uid: 0, gid: 0, nlink: 1 }, chmod(0o600)], // a FIFO
    ] as const) {
      assert.equal(unsafeChange(st, '/w/x', change, false), null, JSON.stringify([st, change]));
    }
  });
});
