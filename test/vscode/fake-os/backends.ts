// Fake Windows and macOS backends for the extension-host test of the other OSes' code paths (issue 12): the
// sandbox host bundled for that test (fake-os/build.ts) gets one of these from its native/index.ts, and runs
// its real engine, host binding and host platform (Win32HostPlatform, DarwinHostPlatform) over it. The report
// is distinctive so the test can tell it reached the Capabilities page. Runs are not part of that test: the
// calls that would start one refuse with a SandboxError.
import type { DarwinBackend, Win32Backend } from '../../../native';
import type { CapabilityReport } from '../../../native/backend';
import { SandboxError } from '../../../src/errors';

export type FakeOs = 'win32' | 'darwin';

export const FAKE_MARK = 'fake backend (extension-host test)';

export function fakeReport(os: FakeOs): CapabilityReport {
  const win = os === 'win32';
  return {
    platform: os,
    arch: win ? 'x64' : 'arm64',
    kernel: win ? 'Windows_NT 10.0.22631 (fake)' : 'Darwin 24.1.0 (fake)',
    capabilities: [
      { name: win ? 'job_objects' : 'seatbelt', available: true, detail: FAKE_MARK, requiredForEnforce: true },
      { name: win ? 'restricted_token' : 'unified_log', available: false, detail: `${FAKE_MARK}: not probed`, requiredForEnforce: false, fix: 'nothing to fix: this is a test' },
    ],
    treeLimits: win ? 'job object' : 'watchdog',
    enforcePossible: true,
  };
}

function refuse(): never {
  throw new SandboxError('PLATFORM_UNSUPPORTED', `${FAKE_MARK}: runs are not part of this test`);
}

export function fakeWin32Backend(): Win32Backend {
  return {
    platform: 'win32',
    supported: true,
    probe: () => fakeReport('win32'),
    applyAndExec: refuse,
    compile: refuse,
    jobLimits: refuse,
    createJob: refuse,
    restrictions: () => [],
    confine: () => null,
    replayAclJournal: () => ({ undone: [], skippedLive: [], failed: [] }),
  };
}

export function fakeDarwinBackend(): DarwinBackend {
  return {
    platform: 'darwin',
    supported: true,
    probe: () => fakeReport('darwin'),
    applyAndExec: refuse,
    compile: refuse,
    profile: refuse,
    childrenUsage: () => ({ userMs: 0, systemMs: 0, maxRssKiB: 0 }),
  };
}
