import * as assert from 'node:assert/strict';
import { RLIM_INFINITY } from '../../../native/linux/libc';
import { clampRlimit } from '../../../native/linux/rlimit';
import { SandboxError } from '../../../src/errors';

describe('rlimit clamping', function () {
  it('never raises a hard limit above the current one, and keeps soft <= hard', function () {
    assert.deepEqual(clampRlimit({ resource: 'nofile', soft: 100000, hard: 100000 }, { soft: 1024n, hard: 4096n }), { soft: 4096n, hard: 4096n });
    assert.deepEqual(clampRlimit({ resource: 'nofile', soft: 64, hard: 64 }, { soft: 1024n, hard: 4096n }), { soft: 64n, hard: 64n });
    assert.deepEqual(clampRlimit({ resource: 'cpu', soft: 10, hard: -1 }, { soft: RLIM_INFINITY, hard: RLIM_INFINITY }), { soft: 10n, hard: RLIM_INFINITY });
    assert.deepEqual(clampRlimit({ resource: 'cpu', soft: -1, hard: -1 }, { soft: 5n, hard: 7n }), { soft: 7n, hard: 7n });
  });

  it('rejects values that are neither a count nor -1', function () {
    assert.throws(() => clampRlimit({ resource: 'core', soft: -2, hard: 0 }, { soft: 0n, hard: 0n }), SandboxError);
    assert.throws(() => clampRlimit({ resource: 'core', soft: 1.5, hard: 2 }, { soft: 0n, hard: 9n }), SandboxError);
  });
});
