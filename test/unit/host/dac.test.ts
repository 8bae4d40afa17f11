// The kernel's DAC rules for a caller without capabilities, as the fallback tier's supervisor applies them
// before performing a call for the script (pure logic; the integration test fallback-root checks the kernel).
import { strict as assert } from 'node:assert';
import { mayAccess, mayChangeDir, mayHardlink, mayRemove, openWants, parseCreds, MAY_READ, MAY_WRITE, MAY_EXEC } from '../../../src/host/linux/dac';

const REG = 0o100000;
const DIR = 0o040000;
const me = { uid: 1000, gid: 1000, groups: [1000, 27] };
const file = (mode: number, uid: number, gid: number) => ({ mode: REG | mode, uid, gid });

describe('dac: the kernel rules without capabilities', () => {
  it('reads the fsuid, fsgid and groups from /proc/<pid>/status (4th Uid/Gid fields)', () => {
    const c = parseCreds('Name:\tsh\nUid:\t0\t0\t0\t1001\nGid:\t5\t5\t5\t1002\nGroups:\t4 27 \n');
    assert.deepEqual(c, { uid: 1001, gid: 1002, groups: [4, 27] });
    assert.deepEqual(parseCreds('Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n'), { uid: 0, gid: 0, groups: [] });
    assert.equal(parseCreds('Uid:\t0\t0\nGid:\t0\t0\t0\t0\n'), null);
    assert.equal(parseCreds('Gid:\t0\t0\t0\t0\n'), null);
  });

  it('owner, group and other bits: only the class that applies counts (root without capabilities too)', () => {
    assert.ok(mayAccess(file(0o600, 1000, 0), me, MAY_READ | MAY_WRITE));
    assert.ok(!mayAccess(file(0o066, 1000, 1000), me, MAY_READ)); // the owner class, even if group/other allow
    assert.ok(mayAccess(file(0o040, 0, 27), me, MAY_READ)); // a supplementary group
    assert.ok(!mayAccess(file(0o040, 0, 27), me, MAY_WRITE));
    assert.ok(!mayAccess(file(0o604, 0, 1000), me, MAY_READ)); // the group class
    assert.ok(mayAccess(file(0o006, 0, 0), me, MAY_READ | MAY_WRITE));
    assert.ok(!mayAccess(file(0o600, 1001, 1001), { uid: 0, gid: 0, groups: [0] }, MAY_READ)); // uid 0 has no override
  });

  it('protected_hardlinks: own files, or plain regular files readable and writable by the caller', () => {
    assert.ok(mayHardlink(file(0o600, 1000, 1000), me));
    assert.ok(mayHardlink({ mode: DIR | 0o700, uid: 1000, gid: 1000 }, me)); // ownership is enough
    assert.ok(!mayHardlink(file(0o600, 1001, 1001), me)); // another user's private file (H6)
    assert.ok(!mayHardlink(file(0o644, 0, 0), me)); // readable but not writable
    assert.ok(mayHardlink(file(0o666, 0, 0), me));
    assert.ok(!mayHardlink(file(0o4777, 0, 0), me)); // setuid
    assert.ok(!mayHardlink(file(0o2777, 0, 0), me)); // setgid and group-executable
    assert.ok(mayHardlink(file(0o2666, 0, 0), me)); // setgid without group exec: mandatory locking, allowed
    assert.ok(!mayHardlink({ mode: 0o020666, uid: 0, gid: 0 }, me)); // not a regular file
  });

  it('directories: write and search to change; the sticky bit keeps others\' entries', () => {
    const dir = (mode: number, uid: number) => ({ mode: DIR | mode, uid, gid: 0 });
    assert.ok(mayChangeDir(dir(0o700, 1000), me));
    assert.ok(!mayChangeDir(dir(0o755, 0), me));
    assert.ok(!mayChangeDir(dir(0o600, 1000), me)); // no search
    assert.ok(mayRemove(dir(0o777, 0), file(0o600, 1001, 1001), me));
    assert.ok(!mayRemove(dir(0o1777, 0), file(0o666, 1001, 1001), me)); // sticky, neither entry nor dir owner
    assert.ok(mayRemove(dir(0o1777, 0), file(0o600, 1000, 1000), me)); // entry owner
    assert.ok(mayRemove(dir(0o1777, 1000), file(0o600, 1001, 1001), me)); // dir owner
    assert.ok(!mayRemove(dir(0o1555, 1000), file(0o600, 1000, 1000), me)); // sticky does not replace write
  });

  it('open access: the access mode, plus write for O_TRUNC', () => {
    assert.equal(openWants(0), MAY_READ);
    assert.equal(openWants(1), MAY_WRITE);
    assert.equal(openWants(2), MAY_READ | MAY_WRITE);
    assert.equal(openWants(0o1000), MAY_READ | MAY_WRITE);
    assert.equal(openWants(0o101), MAY_WRITE);
    assert.equal(MAY_EXEC, 1);
  });
});
