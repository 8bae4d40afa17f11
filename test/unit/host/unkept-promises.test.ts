// The enforce gate per policy: a capability the machine measured unavailable names the promises it keeps
// (job limits, read confinement); a run whose policy makes one is refused in enforce and noted in warn. Pure
// decision: the reports are the shapes the Windows backend's probe produces (under Wine, job limits are
// accepted but not enforced; reads are never confined by the write-restricted token).
import * as assert from 'node:assert/strict';
import { SandboxError } from '../../../src/errors';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import { compileReactions } from '../../../src/protocol/run-reactions';
import type { Capability, CapabilityReport } from '../../../src/protocol/capabilities';
import { enforceGate } from '../../../src/host/run-session';
import { unkeptPromises } from '../../../src/host/unkept-promises';
import { NOT_KEPT_ON_WINDOWS, READ_CONFINEMENT } from '../../../native/win32/backend';

const WINE_LIMITS = 'the limits are accepted but not enforced here: a probe ran 2 processes under a 1-process limit';

function report(...extra: Capability[]): CapabilityReport {
  return {
    platform: 'win32',
    arch: 'x64',
    kernel: 'Windows_NT 10.0.18362',
    capabilities: [{ name: 'job_object', available: true, detail: 'job objects', requiredForEnforce: true }, ...extra],
    treeLimits: 'job object',
    enforcePossible: true,
  };
}
const jobLimits = (available: boolean): Capability => ({
  name: 'job_limits',
  available,
  detail: available ? 'measured: the job refuses a process beyond its limit' : WINE_LIMITS,
  requiredForEnforce: false,
  keeps: ['limits.maxProcesses', 'limits.memoryMiB', 'limits.cpuSeconds'],
});

const policy = (run: PolicyInput) => resolvePolicy({ run }, { workspace: 'C:\\work\\proj', home: 'C:\\Users\\u' }).policy;
const none = () => false;
const gate = (r: CapabilityReport, run: PolicyInput, exists: (abs: string) => boolean = none) => {
  const p = policy(run);
  return enforceGate({ capabilities: () => r }, compileReactions(p), p, exists);
};

function refused(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SandboxError, String(e));
    assert.equal(e.code, 'MECHANISM_UNAVAILABLE');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('unkept promises: enforce refuses what the machine measured it cannot keep', () => {
  it('job limits measured unenforced: enforce with the profile\'s limits is refused, naming each limit and why', () => {
    refused(() => gate(report(jobLimits(false)), { mode: 'enforce', profile: 'moderate' }), /process limit 256/, /memory limit 4096 MiB/, /CPU limit 300 s/, /job_limits: the limits are accepted but not enforced/, /--mode warn/);
  });

  it('only the limits the policy sets are named; a policy without process, memory or CPU limits runs', () => {
    refused(() => gate(report(jobLimits(false)), { mode: 'enforce', profile: 'permissive', limits: { maxProcesses: 3 } }), /process limit 3 \(job_limits/);
    assert.deepEqual(unkeptPromises(policy({ mode: 'enforce', profile: 'permissive', limits: { maxProcesses: 3 } }), report(jobLimits(false)), none).map((u) => u.promise), ['limits.maxProcesses']);
    assert.deepEqual(gate(report(jobLimits(false)), { mode: 'enforce', profile: 'permissive' }), []);
  });

  it('warn mode runs and notes the unkept promise; disabled promises nothing', () => {
    const notes = gate(report(jobLimits(false)), { mode: 'warn', profile: 'moderate' });
    assert.equal(notes.length, 1);
    assert.match(notes[0], /not kept on this machine \(warn mode runs anyway\): process limit 256, memory limit 4096 MiB, CPU limit 300 s \(job_limits: the limits are accepted/);
    assert.deepEqual(gate(report(jobLimits(false)), { mode: 'disabled', profile: 'moderate' }), []);
  });

  it('where the job limits are measured enforced (Windows), or the report names no promises (Linux), nothing changes', () => {
    assert.deepEqual(gate(report(jobLimits(true)), { mode: 'enforce', profile: 'moderate' }), []);
    assert.deepEqual(gate(report({ name: 'cgroup', available: false, detail: 'not delegated', requiredForEnforce: false }), { mode: 'enforce', profile: 'strict' }), []);
  });

  it('a missing required capability still refuses enforce as a whole, before any policy promise', () => {
    const r = { ...report(jobLimits(false)), enforcePossible: false, capabilities: [{ name: 'job_object', available: false, detail: 'CreateJobObjectW failed', requiredForEnforce: true }] };
    refused(() => gate(r, { mode: 'enforce', profile: 'permissive' }), /enforce mode impossible on this machine: missing job_object/);
  });
});

const reads: Capability = {
  name: 'read_confinement',
  available: false,
  detail: READ_CONFINEMENT,
  requiredForEnforce: false,
  keeps: ['filesystem.protectedReads', 'filesystem.denyRead', 'filesystem.readListedOnly'],
};
/** This machine's files: a user with an SSH folder and an AWS credentials folder. */
const secretsHere = (abs: string) => ['C:/Users/u/.ssh', 'C:/Users/u/.aws'].includes(abs);

describe('unkept promises: reads Windows cannot refuse', () => {
  it('enforce is refused when a protected secret exists here and reads are not confined, naming it and why', () => {
    refused(() => gate(report(reads), { mode: 'enforce', profile: 'permissive' }, secretsHere), /reads of ~\/\.ssh, ~\/\.aws refused \(read_confinement: reads are not confined: the write-restricted token/);
  });

  it('a secret absent from this machine is no promise to keep; the audit folder (the sandbox\'s own record) is not counted', () => {
    assert.deepEqual(gate(report(reads), { mode: 'enforce', profile: 'permissive' }), []);
    assert.deepEqual(gate(report(reads), { mode: 'enforce', profile: 'permissive' }, (abs) => abs.endsWith('/.sandbox') || abs.endsWith('/.local/state/script-sandbox')), []);
    // The profile's Unix system secrets mean nothing on a Windows plan (under Wine, Z:\etc\shadow is the Linux host's).
    assert.deepEqual(gate(report(reads), { mode: 'enforce', profile: 'permissive' }, (abs) => abs === '/etc/shadow'), []);
  });

  it('a secret the user\'s own allow list opens as a whole is not promised; unprotect releases it too', () => {
    assert.deepEqual(gate(report(reads), { mode: 'enforce', profile: 'permissive', filesystem: { allowRead: ['~/.ssh', '~/.aws/**'] } }, secretsHere), []);
    // Opening one file inside still promises the rest of the folder.
    refused(() => gate(report(reads), { mode: 'enforce', profile: 'permissive', filesystem: { allowRead: ['~/.ssh', '~/.aws/config'] } }, secretsHere), /reads of ~\/\.aws refused/);
    assert.deepEqual(gate(report(reads), { mode: 'enforce', profile: 'permissive', filesystem: { unprotect: ['~/.ssh', '~/.aws'] } }, secretsHere), []);
  });

  it('denyRead and strict\'s read list are promises wherever they point', () => {
    refused(() => gate(report(reads), { mode: 'enforce', profile: 'permissive', filesystem: { denyRead: ['C:\\data\\private'] } }), /denyRead C:\/data\/private \(read_confinement/);
    refused(() => gate(report(reads), { mode: 'enforce', profile: 'strict' }), /reads only of the workspace, system paths and allowRead \(profile strict\)/);
  });

  it('warn runs and notes both kinds of unkept promise on one line each', () => {
    const notes = gate(report(jobLimits(false), reads), { mode: 'warn', profile: 'moderate' }, secretsHere);
    assert.equal(notes.length, 1);
    assert.match(notes[0], /process limit 256, memory limit 4096 MiB, CPU limit 300 s \(job_limits: .*\); reads of ~\/\.ssh, ~\/\.aws refused \(read_confinement: /);
  });
});

/** A Windows machine whose job limits work: only what Windows keeps nowhere (network, file size, open files). */
const windows = () => report(jobLimits(true), ...NOT_KEPT_ON_WINDOWS);

describe('unkept promises: what Windows keeps nowhere (open files, file size, network)', () => {
  it('the profile defaults alone never refuse enforce: every profile runs, with a note naming what is not kept', () => {
    for (const profile of ['moderate', 'permissive'] as const) {
      const notes = gate(windows(), { mode: 'enforce', profile });
      assert.equal(notes.length, 1, profile);
      assert.match(notes[0], /^not kept on this machine \(profile defaults; enforce runs without them\): /);
      assert.match(notes[0], new RegExp(`open files limit ${profile === 'moderate' ? 1024 : 4096} \\(profile ${profile}'s default\\) \\(open_files_limit: Windows has no per-process handle limit`));
      assert.match(notes[0], /cloud metadata, private and loopback addresses and the built-in dangerous ports blocked \(preset default\) \(network: no network control/);
    }
    assert.match(gate(windows(), { mode: 'enforce', profile: 'moderate' })[0], /file size limit 1024 MiB \(profile moderate's default\) \(file_size_limit/);
    assert.ok(unkeptPromises(policy({ mode: 'enforce', profile: 'moderate' }), windows(), none).every((u) => u.baseline));
  });

  it('an explicit open-files or file-size limit other than the profile\'s is refused in enforce, named with why', () => {
    refused(() => gate(windows(), { mode: 'enforce', profile: 'moderate', limits: { openFiles: 64 } }), /enforce mode cannot keep this policy on this machine: open files limit 64 \(open_files_limit: Windows has no per-process handle limit \(RLIMIT_NOFILE\)/);
    refused(() => gate(windows(), { mode: 'enforce', profile: 'permissive', limits: { fileSizeMiB: 10 } }), /file size limit 10 MiB \(file_size_limit: Windows has no per-file size limit/);
    // The refusal names only the demands, not the baseline that would only be noted.
    assert.throws(() => gate(windows(), { mode: 'enforce', profile: 'moderate', limits: { openFiles: 64 } }), (e: Error) => !/preset default|file size limit/.test(e.message));
    // Warn runs it and notes all of it on one line.
    const notes = gate(windows(), { mode: 'warn', profile: 'moderate', limits: { openFiles: 64 } });
    assert.equal(notes.length, 1);
    assert.match(notes[0], /not kept on this machine \(warn mode runs anyway\): .*open files limit 64 \(open_files_limit/);
  });

  it('network none (strict\'s own promise), an allow list and deny lists are demands: refused in enforce, noted in warn', () => {
    refused(() => gate(windows(), { mode: 'enforce', profile: 'moderate', network: { preset: 'none' } }), /no network \(preset none\) \(network: no network control/);
    refused(() => gate(windows(), { mode: 'enforce', profile: 'strict' }), /no network \(preset none\)/);
    refused(() => gate(windows(), { mode: 'enforce', profile: 'moderate', network: { preset: 'api-only', allowHosts: ['api.example.com'], allowAddresses: ['10.0.0.0/8'] } }), /connections only to api\.example\.com, 10\.0\.0\.0\/8 on port 443 \(preset api-only\)/);
    refused(() => gate(windows(), { mode: 'enforce', profile: 'moderate', network: { preset: 'strict' } }), /connections only to no host \(preset strict\)/);
    refused(() => gate(windows(), { mode: 'enforce', profile: 'moderate', network: { denyHosts: ['evil.example'] } }), /denyHosts evil\.example \(network/);
    refused(() => gate(windows(), { mode: 'enforce', profile: 'moderate', network: { blockedPorts: [22, 8080] } }), /blockedPorts 8080 \(network/);
    assert.match(gate(windows(), { mode: 'warn', profile: 'moderate', network: { preset: 'none' } })[0], /warn mode runs anyway\): no network \(preset none\)/);
    // Allowing more on the default preset promises nothing new.
    assert.ok(gate(windows(), { mode: 'enforce', profile: 'moderate', network: { allowAddresses: ['10.0.0.0/8'], allowHosts: ['x.example'] } }).length === 1);
  });

  it('where the backend keeps them (Linux, macOS report no such capability unavailable), nothing is said', () => {
    assert.deepEqual(gate(report(jobLimits(true)), { mode: 'enforce', profile: 'strict', limits: { openFiles: 64, fileSizeMiB: 1 }, network: { denyHosts: ['x.example'] } }), []);
    assert.deepEqual(gate(windows(), { mode: 'disabled', profile: 'strict', limits: { openFiles: 64 } }), []);
  });
});
