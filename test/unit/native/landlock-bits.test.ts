// Landlock right names → uapi bits, and what each ABI knows.
import * as assert from 'node:assert/strict';
import { LANDLOCK_ACCESS_FS, LANDLOCK_FILE_ACCESS, accessBits, fsRightsForAbi, rulesetAttrSize, scopeBits } from '../../../native/linux/landlock';
import { SandboxError } from '../../../src/errors';

describe('Landlock rights', function () {
  it('maps names to the uapi bits', function () {
    assert.equal(LANDLOCK_ACCESS_FS.execute, 1);
    assert.equal(LANDLOCK_ACCESS_FS.make_sym, 1 << 12);
    assert.equal(LANDLOCK_ACCESS_FS.refer, 1 << 13);
    assert.equal(LANDLOCK_ACCESS_FS.truncate, 1 << 14);
    assert.equal(LANDLOCK_ACCESS_FS.ioctl_dev, 1 << 15);
    assert.equal(accessBits(['read_file', 'read_dir']), 0b1100);
    assert.equal(LANDLOCK_FILE_ACCESS, 1 | 2 | 4 | (1 << 14) | (1 << 15));
  });

  it('rejects an unknown right name with a typed error', function () {
    assert.throws(() => accessBits(['read_file', 'fly']), (e: unknown) => e instanceof SandboxError && e.code === 'PROTOCOL_INVALID');
  });

  it('knows which rights each ABI handles', function () {
    assert.equal(fsRightsForAbi(0), 0);
    assert.equal(fsRightsForAbi(1), 0x1fff);
    assert.equal(fsRightsForAbi(2), 0x3fff);
    assert.equal(fsRightsForAbi(3), 0x7fff);
    assert.equal(fsRightsForAbi(4), 0x7fff);
    assert.equal(fsRightsForAbi(5), 0xffff);
    assert.equal(fsRightsForAbi(7), 0xffff);
  });

  it('passes the ruleset attr size of the ABI and scopes only from ABI 6', function () {
    assert.deepEqual([1, 3, 4, 5, 6, 7].map(rulesetAttrSize), [8, 8, 16, 16, 24, 24]);
    assert.equal(scopeBits(['abstract_unix_socket', 'signal'], 5), 0);
    assert.equal(scopeBits(['abstract_unix_socket', 'signal'], 6), 3);
    assert.equal(scopeBits(['signal'], 7), 2);
  });
});
