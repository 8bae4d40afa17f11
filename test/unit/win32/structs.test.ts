// Win32 struct layouts as declared for koffi, against the x64 layouts read from the mingw-w64 headers
// (PLATFORMS.md §1.2), and byte-exact encodings of what the backend hands to the kernel.
import * as assert from 'node:assert/strict';
import koffi from 'koffi';
import type { TypeObject } from 'koffi';
import * as S from '../../../native/win32/structs';
import { associatePortInfo, endOfJobTimeInfo, extendedLimitInfo, notificationLimitInfo, type JobLimits } from '../../../native/win32/job-limits';
import { inheritList, startupInfo } from '../../../native/win32/spawn';
import { INVALID_HANDLE_VALUE, JobLimit, STARTF_USESTDHANDLES } from '../../../native/win32/constants';

function layout(t: TypeObject, fields: string[]): Record<string, number> {
  return Object.fromEntries(fields.map((f) => [f, koffi.offsetof(t, f)]));
}

describe('win32 struct layouts (x64)', function () {
  it('JOBOBJECT_BASIC_LIMIT_INFORMATION = 64', function () {
    assert.equal(koffi.sizeof(S.JOBOBJECT_BASIC_LIMIT_INFORMATION), 64);
    assert.deepEqual(
      layout(S.JOBOBJECT_BASIC_LIMIT_INFORMATION, ['PerProcessUserTimeLimit', 'PerJobUserTimeLimit', 'LimitFlags', 'MinimumWorkingSetSize', 'MaximumWorkingSetSize', 'ActiveProcessLimit', 'Affinity', 'PriorityClass', 'SchedulingClass']),
      { PerProcessUserTimeLimit: 0, PerJobUserTimeLimit: 8, LimitFlags: 16, MinimumWorkingSetSize: 24, MaximumWorkingSetSize: 32, ActiveProcessLimit: 40, Affinity: 48, PriorityClass: 56, SchedulingClass: 60 },
    );
  });
  it('IO_COUNTERS = 48, JOBOBJECT_EXTENDED_LIMIT_INFORMATION = 144', function () {
    assert.equal(koffi.sizeof(S.IO_COUNTERS), 48);
    assert.equal(koffi.sizeof(S.JOBOBJECT_EXTENDED_LIMIT_INFORMATION), 144);
    assert.deepEqual(layout(S.JOBOBJECT_EXTENDED_LIMIT_INFORMATION, ['BasicLimitInformation', 'IoInfo', 'ProcessMemoryLimit', 'JobMemoryLimit', 'PeakProcessMemoryUsed', 'PeakJobMemoryUsed']), {
      BasicLimitInformation: 0,
      IoInfo: 64,
      ProcessMemoryLimit: 112,
      JobMemoryLimit: 120,
      PeakProcessMemoryUsed: 128,
      PeakJobMemoryUsed: 136,
    });
  });
  it('JOBOBJECT_ASSOCIATE_COMPLETION_PORT = 16, END_OF_JOB_TIME = 4, BASIC_ACCOUNTING = 48', function () {
    assert.equal(koffi.sizeof(S.JOBOBJECT_ASSOCIATE_COMPLETION_PORT), 16);
    assert.deepEqual(layout(S.JOBOBJECT_ASSOCIATE_COMPLETION_PORT, ['CompletionKey', 'CompletionPort']), { CompletionKey: 0, CompletionPort: 8 });
    assert.equal(koffi.sizeof(S.JOBOBJECT_END_OF_JOB_TIME_INFORMATION), 4);
    assert.equal(koffi.sizeof(S.JOBOBJECT_BASIC_ACCOUNTING_INFORMATION), 48);
    assert.deepEqual(layout(S.JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, ['TotalUserTime', 'TotalKernelTime', 'TotalPageFaultCount', 'TotalProcesses', 'ActiveProcesses', 'TotalTerminatedProcesses']), {
      TotalUserTime: 0,
      TotalKernelTime: 8,
      TotalPageFaultCount: 32,
      TotalProcesses: 36,
      ActiveProcesses: 40,
      TotalTerminatedProcesses: 44,
    });
  });
  it('NOTIFICATION_LIMIT = 48, LIMIT_VIOLATION = 80', function () {
    assert.equal(koffi.sizeof(S.JOBOBJECT_NOTIFICATION_LIMIT_INFORMATION), 48);
    assert.deepEqual(layout(S.JOBOBJECT_NOTIFICATION_LIMIT_INFORMATION, ['IoReadBytesLimit', 'IoWriteBytesLimit', 'PerJobUserTimeLimit', 'JobMemoryLimit', 'RateControlTolerance', 'RateControlToleranceInterval', 'LimitFlags']), {
      IoReadBytesLimit: 0,
      IoWriteBytesLimit: 8,
      PerJobUserTimeLimit: 16,
      JobMemoryLimit: 24,
      RateControlTolerance: 32,
      RateControlToleranceInterval: 36,
      LimitFlags: 40,
    });
    assert.equal(koffi.sizeof(S.JOBOBJECT_LIMIT_VIOLATION_INFORMATION), 80);
    assert.deepEqual(layout(S.JOBOBJECT_LIMIT_VIOLATION_INFORMATION, ['LimitFlags', 'ViolationLimitFlags', 'IoReadBytes', 'PerJobUserTime', 'PerJobUserTimeLimit', 'JobMemory', 'JobMemoryLimit', 'RateControlTolerance', 'RateControlToleranceLimit']), {
      LimitFlags: 0,
      ViolationLimitFlags: 4,
      IoReadBytes: 8,
      PerJobUserTime: 40,
      PerJobUserTimeLimit: 48,
      JobMemory: 56,
      JobMemoryLimit: 64,
      RateControlTolerance: 72,
      RateControlToleranceLimit: 76,
    });
  });
  it('STARTUPINFOW = 104, STARTUPINFOEXW = 112, PROCESS_INFORMATION = 24', function () {
    assert.equal(koffi.sizeof(S.STARTUPINFOW), 104);
    assert.deepEqual(layout(S.STARTUPINFOW, ['cb', 'lpReserved', 'lpDesktop', 'lpTitle', 'dwX', 'dwFillAttribute', 'dwFlags', 'wShowWindow', 'cbReserved2', 'lpReserved2', 'hStdInput', 'hStdOutput', 'hStdError']), {
      cb: 0,
      lpReserved: 8,
      lpDesktop: 16,
      lpTitle: 24,
      dwX: 32,
      dwFillAttribute: 56,
      dwFlags: 60,
      wShowWindow: 64,
      cbReserved2: 66,
      lpReserved2: 72,
      hStdInput: 80,
      hStdOutput: 88,
      hStdError: 96,
    });
    assert.equal(koffi.sizeof(S.STARTUPINFOEXW), 112);
    assert.equal(koffi.offsetof(S.STARTUPINFOEXW, 'lpAttributeList'), 104);
    assert.equal(koffi.sizeof(S.PROCESS_INFORMATION), 24);
    assert.deepEqual(layout(S.PROCESS_INFORMATION, ['hProcess', 'hThread', 'dwProcessId', 'dwThreadId']), { hProcess: 0, hThread: 8, dwProcessId: 16, dwThreadId: 20 });
  });
});

const enforce: JobLimits = { mode: 'enforce', activeProcesses: 4, jobMemoryBytes: 256 * 1048576, cpuSeconds: 2 };

describe('win32 job limit encodings (byte-exact)', function () {
  it('enforce: kill on close, active process, job memory, job and process user time', function () {
    const { flags, buf } = extendedLimitInfo(enforce);
    assert.equal(flags, JobLimit.KILL_ON_JOB_CLOSE | JobLimit.ACTIVE_PROCESS | JobLimit.JOB_MEMORY | JobLimit.JOB_TIME | JobLimit.PROCESS_TIME);
    const want = Buffer.alloc(144);
    want.writeBigInt64LE(20_000_000n, 0); // PerProcessUserTimeLimit: 2 s in 100 ns
    want.writeBigInt64LE(20_000_000n, 8); // PerJobUserTimeLimit
    want.writeUInt32LE(0x2000 | 0x8 | 0x200 | 0x4 | 0x2, 16);
    want.writeUInt32LE(4, 40); // ActiveProcessLimit
    want.writeBigUInt64LE(268435456n, 120); // JobMemoryLimit
    assert.deepEqual(buf, want);
  });
  it('warn: only kill on close in the hard limits; memory and user time as notification limits', function () {
    const warn: JobLimits = { ...enforce, mode: 'warn' };
    const { flags, buf } = extendedLimitInfo(warn);
    assert.equal(flags, JobLimit.KILL_ON_JOB_CLOSE);
    const want = Buffer.alloc(144);
    want.writeUInt32LE(0x2000, 16);
    assert.deepEqual(buf, want);
    const n = notificationLimitInfo(warn)!;
    const wantN = Buffer.alloc(48);
    wantN.writeBigInt64LE(20_000_000n, 16);
    wantN.writeBigUInt64LE(268435456n, 24);
    wantN.writeUInt32LE(0x200 | 0x4, 40);
    assert.deepEqual(n, wantN);
    assert.equal(notificationLimitInfo(enforce), null);
  });
  it('end-of-job action: terminate in enforce, post in warn; port association is key then port', function () {
    assert.deepEqual(endOfJobTimeInfo(enforce), Buffer.from([0, 0, 0, 0]));
    assert.deepEqual(endOfJobTimeInfo({ ...enforce, mode: 'warn' }), Buffer.from([1, 0, 0, 0]));
    const a = associatePortInfo(0x1234n, 0x88n);
    const want = Buffer.alloc(16);
    want.writeBigUInt64LE(0x1234n, 0);
    want.writeBigUInt64LE(0x88n, 8);
    assert.deepEqual(a, want);
  });
  it('STARTUPINFOEXW: cb 112, STARTF_USESTDHANDLES, the three handles and the attribute list', function () {
    const b = startupInfo({ input: 0x10n, output: 0x14n, error: 0x14n }, 0xabcdefn);
    assert.equal(b.length, 112);
    assert.equal(b.readUInt32LE(0), 112);
    assert.equal(b.readUInt32LE(60), STARTF_USESTDHANDLES);
    assert.equal(b.readBigUInt64LE(80), 0x10n);
    assert.equal(b.readBigUInt64LE(88), 0x14n);
    assert.equal(b.readBigUInt64LE(96), 0x14n);
    assert.equal(b.readBigUInt64LE(104), 0xabcdefn);
    assert.equal(b.readBigUInt64LE(72), 0n); // no CRT fd table (lpReserved2): no launcher fd reaches the script
  });
  it('HANDLE_LIST gets each real handle once (duplicates, null and INVALID_HANDLE_VALUE left out)', function () {
    assert.deepEqual(inheritList([0x10n, 0x14n, 0x14n]), [0x10n, 0x14n]);
    assert.deepEqual(inheritList([0n, INVALID_HANDLE_VALUE, 0x8n]), [0x8n]);
  });
});
