// The capability drop's decisions against a small model of the kernel's rules (the real kernel is exercised
// by test/integration/linux/processes.test.ts, as root and unprivileged): what it does with and without
// CAP_SETPCAP, and when it refuses.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { CAP_SETPCAP, PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_CAP_AMBIENT, PR_GET_SECUREBITS, PR_SET_SECUREBITS, SECUREBITS_LOCKED, capLastCap, dropCapabilities } from '../../../native/linux/caps';
import { PR_GET_NO_NEW_PRIVS, sysError, type CapSets, type Libc } from '../../../native/linux/libc';
import { SandboxError } from '../../../src/errors';

const E = os.constants.errno;
const ALL = (1n << 41n) - 1n;

interface Model {
  sets: CapSets;
  bounding: bigint;
  ambient: bigint;
  securebits: number;
  nnp: number;
  failCapset?: number;
}

/** The kernel's rules for the calls dropCapabilities makes, enough to tell right from wrong. */
function kernel(m: Model): Libc {
  const has = (cap: number) => (m.sets.effective & (1n << BigInt(cap))) !== 0n;
  const fail = (call: string, errno: number) => {
    throw sysError(call, errno);
  };
  return {
    capget: () => ({ ...m.sets }),
    capset(s: CapSets) {
      if (m.failCapset) fail('capset', m.failCapset);
      if ((s.permitted & ~m.sets.permitted) !== 0n || (s.effective & ~s.permitted) !== 0n) fail('capset', E.EPERM);
      m.sets = { ...s };
    },
    prctl(option: number, a2 = 0) {
      switch (option) {
        case PR_CAPBSET_READ:
          if (a2 > 40) fail('prctl', E.EINVAL);
          return Number((m.bounding >> BigInt(a2)) & 1n);
        case PR_CAPBSET_DROP:
          if (!has(CAP_SETPCAP)) fail('prctl', E.EPERM);
          m.bounding &= ~(1n << BigInt(a2));
          return 0;
        case PR_CAP_AMBIENT:
          m.ambient = 0n;
          return 0;
        case PR_GET_SECUREBITS:
          return m.securebits;
        case PR_SET_SECUREBITS:
          if (!has(CAP_SETPCAP)) fail('prctl', E.EPERM);
          m.securebits = a2;
          return 0;
        case PR_GET_NO_NEW_PRIVS:
          return m.nnp;
      }
      throw new Error(`unexpected prctl ${option}`);
    },
  } as unknown as Libc;
}

const root = (): Model => ({ sets: { effective: ALL, permitted: ALL, inheritable: 0n }, bounding: ALL, ambient: 0n, securebits: 0, nnp: 1 });
const user = (): Model => ({ sets: { effective: 0n, permitted: 0n, inheritable: 0n }, bounding: ALL, ambient: 0n, securebits: 0, nnp: 1 });

describe('capability drop (kernel model)', function () {
  it('root: bounding set emptied, securebits locked, every set zero', function () {
    const m = root();
    assert.deepEqual(dropCapabilities(kernel(m), 40), { boundingCleared: true, securebitsLocked: true });
    assert.equal(m.bounding, 0n);
    assert.equal(m.securebits & SECUREBITS_LOCKED, SECUREBITS_LOCKED);
    assert.deepEqual(m.sets, { effective: 0n, permitted: 0n, inheritable: 0n });
  });

  it('a user namespace launcher with ambient capabilities: the same, ambient cleared', function () {
    const m = root();
    m.ambient = ALL;
    dropCapabilities(kernel(m), 40);
    assert.equal(m.ambient, 0n);
    assert.equal(m.bounding, 0n);
  });

  it('CAP_SETPCAP permitted but not effective is raised first, then dropped with the rest', function () {
    const m = root();
    m.sets.effective = 0n;
    assert.equal(dropCapabilities(kernel(m), 40).boundingCleared, true);
    assert.equal(m.sets.permitted, 0n);
  });

  it('unprivileged: the bounding set stays (no CAP_SETPCAP), accepted because no_new_privs is on and nothing is permitted', function () {
    const m = user();
    assert.deepEqual(dropCapabilities(kernel(m), 40), { boundingCleared: false, securebitsLocked: false });
    assert.equal(m.bounding, ALL);
  });

  it('refuses when the bounding set stays and no_new_privs is off', function () {
    const m = user();
    m.nnp = 0;
    assert.throws(() => dropCapabilities(kernel(m), 40), (e: unknown) => e instanceof SandboxError && e.code === 'SETUP_FAILED' && /no_new_privs/.test(e.message));
  });

  it('a failing capset is a SandboxError naming the call and errno', function () {
    const m = root();
    m.failCapset = E.EINVAL;
    assert.throws(() => dropCapabilities(kernel(m), 40), (e: unknown) => e instanceof SandboxError && e.call === 'capset' && e.errno === E.EINVAL);
  });

  it('cap_last_cap from /proc, else probed with PR_CAPBSET_READ', function () {
    const k = kernel(root());
    assert.equal(capLastCap(k, () => '40\n'), 40);
    assert.equal(
      capLastCap(k, () => {
        throw new Error('ENOENT');
      }),
      40,
    );
  });
});
