// The branches of the apply steps that the real kernel here cannot show (no Landlock, already a session
// leader, an older kernel without close_range CLOEXEC), against a fake libc that records calls.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { capabilityStep, dieWithParent, landlockStep, ownSession, prepareFds, resetSignals } from '../../../native/linux/apply';
import { sysError, type Libc } from '../../../native/linux/libc';
import type { LinuxPlan } from '../../../src/protocol/plan';
import { SandboxError } from '../../../src/errors';

const E = os.constants.errno;

function fakeLibc(over: Partial<Libc>, calls: string[] = []): Libc {
  return new Proxy({} as Libc, {
    get(_t, name: string) {
      if (name in over) {
        const f = (over as Record<string, unknown>)[name];
        if (typeof f !== 'function') return f;
        return (...args: unknown[]) => {
          calls.push(`${name}(${args.map(String).join(',')})`);
          return (f as (...a: unknown[]) => unknown)(...args);
        };
      }
      return () => {
        throw new Error(`unexpected call ${name}`);
      };
    },
  });
}

const plan = (over: Partial<LinuxPlan>): LinuxPlan => ({
  platform: 'linux',
  runId: 'r',
  file: '/bin/true',
  argv: ['true'],
  env: {},
  cwd: '/',
  rlimits: [],
  noNewPrivs: true,
  landlock: { handled: ['read_file'], rules: [], carveOuts: [], scopes: [] },
  seccomp: null,
  requireLandlock: true,
  namespaces: null,
  ...over,
});

describe('apply steps (fake libc)', function () {
  const noLandlock = (errno: number) =>
    fakeLibc({
      landlockCreateRuleset: () => {
        throw sysError('landlock_create_ruleset', errno);
      },
    });

  it('capabilities: a disabled-mode plan touches nothing; a sandboxed one drops them and a failure is fatal', function () {
    assert.equal(capabilityStep(fakeLibc({}), plan({ noNewPrivs: false, landlock: null, seccomp: null })), null);
    const failing = fakeLibc({
      capget: () => ({ effective: 0n, permitted: 0n, inheritable: 0n }),
      prctl: () => 0,
      capset: () => {
        throw sysError('capset', E.EINVAL);
      },
    });
    assert.throws(() => capabilityStep(failing, plan({})), (e: unknown) => e instanceof SandboxError && e.call === 'capset' && e.errno === E.EINVAL);
  });

  it('fails closed when Landlock is required but missing (ENOSYS / EOPNOTSUPP)', function () {
    for (const errno of [E.ENOSYS, E.EOPNOTSUPP]) {
      assert.throws(
        () => landlockStep(noLandlock(errno), plan({})),
        (e: unknown) => e instanceof SandboxError && e.code === 'MECHANISM_UNAVAILABLE' && e.call === 'landlock_create_ruleset',
      );
    }
  });

  it('skips Landlock when missing and not required', function () {
    assert.equal(landlockStep(noLandlock(E.ENOSYS), plan({ requireLandlock: false })), null);
    assert.equal(landlockStep(noLandlock(E.ENOSYS), plan({ landlock: null })), null);
  });

  it('passes other Landlock probe errors through', function () {
    assert.throws(() => landlockStep(noLandlock(E.EFAULT), plan({})), (e: unknown) => e instanceof SandboxError && e.errno === E.EFAULT);
  });

  it('accepts EPERM from setsid only when already the session leader', function () {
    const leader = fakeLibc({
      setsid: () => {
        throw sysError('setsid', E.EPERM);
      },
      getsid: () => 42,
      getpid: () => 42,
    });
    assert.doesNotThrow(() => ownSession(leader));
    const groupLeaderOnly = fakeLibc({
      setsid: () => {
        throw sysError('setsid', E.EPERM);
      },
      getsid: () => 7,
      getpid: () => 42,
    });
    assert.throws(() => ownSession(groupLeaderOnly), (e: unknown) => e instanceof SandboxError && e.call === 'setsid');
  });

  it('stops when the parent changed while arming the parent-death signal', function () {
    let ppid = 100;
    const libc = fakeLibc({
      getppid: () => ppid,
      prctl: () => {
        ppid = 1; // the parent died; we were re-parented
        return 0;
      },
    });
    assert.throws(() => dieWithParent(libc), (e: unknown) => e instanceof SandboxError && e.code === 'SETUP_FAILED');
    assert.throws(() => dieWithParent(fakeLibc({ getppid: () => 1, prctl: () => 0 }), 100), SandboxError);
    assert.doesNotThrow(() => dieWithParent(fakeLibc({ getppid: () => 100, prctl: () => 0 })));
  });

  it('resets exactly the ignored signals and empties the mask', function () {
    const calls: string[] = [];
    const libc = fakeLibc(
      {
        sigaction: (sig: number, handler: bigint | null) => {
          if (sig === 32 || sig === 33) throw sysError('sigaction', E.EINVAL);
          if (handler !== null) return 1n;
          return sig === 13 || sig === 25 ? 1n : sig === 2 ? 0x1234n : 0n;
        },
        setSignalMask: () => [],
      },
      calls,
    );
    resetSignals(libc);
    assert.deepEqual(
      calls.filter((c) => !c.endsWith(',null)')),
      ['sigaction(13,0)', 'sigaction(25,0)', 'setSignalMask()'],
    );
  });

  it('clears close-on-exec on 0-2 only where set, skipping closed ones', function () {
    const calls: string[] = [];
    const flags: Record<number, number | null> = { 0: 1, 1: 0, 2: null };
    const libc = fakeLibc(
      {
        closeRange: () => undefined,
        fcntl: (fd: number, cmd: number) => {
          if (flags[fd] === null) throw sysError('fcntl', E.EBADF);
          return cmd === 1 ? flags[fd] : 0;
        },
      },
      calls,
    );
    prepareFds(libc);
    assert.deepEqual(calls, ['closeRange(3,4294967295,4)', 'fcntl(0,1)', 'fcntl(0,2,0)', 'fcntl(1,1)', 'fcntl(2,1)']);
  });
});
