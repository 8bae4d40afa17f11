// The host's Windows code path over a fake backend: Win32HostPlatform needs nothing but the Win32Backend
// interface (no koffi, no Windows), and it keeps the confinement's order: journal replay at start, grants
// before the plan (the plan names the run's SID), undo after the job is closed, even when the undo fails.
import * as assert from 'node:assert/strict';
import type { Win32Backend } from '../../../native';
import type { JobObject } from '../../../native/win32/job-object';
import type { Confinement } from '../../../native/win32/confine';
import { Win32HostPlatform } from '../../../src/host/win32/platform';
import { resolvePolicy } from '../../../src/policy/resolve';
import type { Win32Plan } from '../../../src/protocol/plan';

function fakeBackend(opts: { confine: boolean; undoThrows?: boolean }) {
  const calls: string[] = [];
  const job = {
    limits: { mode: 'enforce', activeProcesses: null, jobMemoryBytes: null, cpuSeconds: null },
    handle: 0x44n,
    refused: [],
    drain: () => [],
    violation: () => null,
    accounting: () => null,
    peakJobMemory: () => null,
    terminate: () => void calls.push('job.terminate'),
    close: () => void calls.push('job.close'),
  } as unknown as JobObject;
  const backend = {
    platform: 'win32',
    supported: true,
    probe: () => ({ platform: 'win32', arch: 'x64', kernel: 'fake', capabilities: [{ name: 'filesystem', available: false, detail: 'fake', requiredForEnforce: false }], treeLimits: 'job object', enforcePossible: true }),
    applyAndExec: () => {
      throw new Error('the host never applies a plan');
    },
    compile: (_p, req) => {
      calls.push(`compile sid=${req.restrictedToken?.sid ?? 'none'} job=${req.job?.handle}`);
      return { platform: 'win32', runId: req.runId, application: 'C:\\x.exe', commandLine: 'x', env: req.env, cwd: req.cwd, job: req.job, requireJob: true, restrictedToken: req.restrictedToken ?? null, namespaces: null } satisfies Win32Plan;
    },
    jobLimits: () => job.limits,
    createJob: () => (calls.push('createJob'), job),
    restrictions: () => [],
    confine: (_p, runId, tmp) => {
      calls.push(`confine ${runId} ${tmp}`);
      if (!opts.confine) return null;
      return {
        sid: 'S-1-15-3-1-2-3-4',
        grants: [],
        applied: [],
        undo: () => {
          calls.push('undo');
          if (opts.undoThrows) throw new Error('access denied');
        },
      } satisfies Confinement;
    },
    replayAclJournal: () => (calls.push('replay'), { undone: [], skippedLive: [], failed: [] }),
  } satisfies Win32Backend;
  return { backend, calls };
}

const policy = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: 'C:\\w', home: 'C:\\Users\\me' }).policy;
const req = { runId: 'r1', file: 'C:\\w\\s.cmd', argv: ['s.cmd'], env: { Path: 'C:\\bin' }, cwd: 'C:\\w', tmpDir: 'C:\\t\\r1', toolRoots: [], nprocLimit: null, listener: false };

describe('Win32HostPlatform over a fake backend (the host needs only the backend interface)', function () {
  it('start replays the ACL journal; a run: job, grants, then the plan with the run SID; dispose closes the job before undoing the grants', function () {
    const { backend, calls } = fakeBackend({ confine: true });
    const platform = new Win32HostPlatform(backend);
    assert.deepEqual(calls, ['replay']);
    assert.equal(platform.supervises(), false);
    assert.equal(platform.probe().platform, 'win32');
    const tree = platform.createTree('r1', policy);
    const plan = platform.compile(policy, req) as Win32Plan;
    assert.deepEqual(plan.restrictedToken, { sid: 'S-1-15-3-1-2-3-4' });
    tree.dispose();
    assert.deepEqual(calls, ['replay', 'createJob', 'confine r1 C:\\t\\r1', 'compile sid=S-1-15-3-1-2-3-4 job=68', 'job.close', 'undo']);
  });
  it('no confinement (warn, permissive, unusable token): the plan has no token and dispose undoes nothing', function () {
    const { backend, calls } = fakeBackend({ confine: false });
    const platform = new Win32HostPlatform(backend);
    platform.createTree('r2', policy);
    const plan = platform.compile(policy, { ...req, runId: 'r2' }) as Win32Plan;
    assert.equal(plan.restrictedToken, null);
    platform.dispose();
    assert.ok(!calls.includes('undo'));
  });
  it('a failing undo never throws into the runner\'s cleanup: it is said (the journal keeps the grants for the next start)', function () {
    const { backend, calls } = fakeBackend({ confine: true, undoThrows: true });
    const said: string[] = [];
    const platform = new Win32HostPlatform(backend, (m) => said.push(m));
    const tree = platform.createTree('r3', policy);
    platform.compile(policy, { ...req, runId: 'r3' });
    assert.doesNotThrow(() => tree.dispose());
    assert.deepEqual(said, ['access denied']);
    assert.deepEqual(calls.slice(-2), ['job.close', 'undo']);
  });
  it('the policy filter sees Path as PATH (Windows names are case-insensitive), other names unchanged', function () {
    const { backend } = fakeBackend({ confine: false });
    const platform = new Win32HostPlatform(backend);
    assert.deepEqual(platform.envForPolicy(policy, { Path: 'C:\\bin', Foo: '1' }), { PATH: 'C:\\bin', Foo: '1' });
  });
});
