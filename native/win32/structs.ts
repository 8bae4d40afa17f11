// Win32 structs for the job-object backend, field for field (winnt.h, processthreadsapi.h; x64 layouts in the
// team's PLATFORMS.md §1.2). Only fixed-width types: `long` and `wchar_t` differ between Linux and Windows,
// so with these the sizes and offsets are the same under koffi on both and are unit-tested on Linux.
// Handles and pointers are `uintptr_t` (8 bytes on x64 and arm64). Anonymous koffi types: immutable values.
import koffi from 'koffi';
import type { TypeObject } from 'koffi';

export const JOBOBJECT_BASIC_LIMIT_INFORMATION = koffi.struct({
  PerProcessUserTimeLimit: 'int64', // 100 ns units, user-mode time
  PerJobUserTimeLimit: 'int64',
  LimitFlags: 'uint32',
  MinimumWorkingSetSize: 'uintptr_t',
  MaximumWorkingSetSize: 'uintptr_t',
  ActiveProcessLimit: 'uint32',
  Affinity: 'uintptr_t',
  PriorityClass: 'uint32',
  SchedulingClass: 'uint32',
});

export const IO_COUNTERS = koffi.struct({
  ReadOperationCount: 'uint64',
  WriteOperationCount: 'uint64',
  OtherOperationCount: 'uint64',
  ReadTransferCount: 'uint64',
  WriteTransferCount: 'uint64',
  OtherTransferCount: 'uint64',
});

export const JOBOBJECT_EXTENDED_LIMIT_INFORMATION = koffi.struct({
  BasicLimitInformation: JOBOBJECT_BASIC_LIMIT_INFORMATION,
  IoInfo: IO_COUNTERS,
  ProcessMemoryLimit: 'uintptr_t', // committed bytes
  JobMemoryLimit: 'uintptr_t',
  PeakProcessMemoryUsed: 'uintptr_t',
  PeakJobMemoryUsed: 'uintptr_t',
});

export const JOBOBJECT_ASSOCIATE_COMPLETION_PORT = koffi.struct({
  CompletionKey: 'uintptr_t',
  CompletionPort: 'uintptr_t',
});

export const JOBOBJECT_END_OF_JOB_TIME_INFORMATION = koffi.struct({
  EndOfJobTimeAction: 'uint32',
});

export const JOBOBJECT_BASIC_ACCOUNTING_INFORMATION = koffi.struct({
  TotalUserTime: 'int64',
  TotalKernelTime: 'int64',
  ThisPeriodTotalUserTime: 'int64',
  ThisPeriodTotalKernelTime: 'int64',
  TotalPageFaultCount: 'uint32',
  TotalProcesses: 'uint32',
  ActiveProcesses: 'uint32',
  TotalTerminatedProcesses: 'uint32',
});

export const JOBOBJECT_NOTIFICATION_LIMIT_INFORMATION = koffi.struct({
  IoReadBytesLimit: 'uint64',
  IoWriteBytesLimit: 'uint64',
  PerJobUserTimeLimit: 'int64',
  JobMemoryLimit: 'uint64',
  RateControlTolerance: 'uint32',
  RateControlToleranceInterval: 'uint32',
  LimitFlags: 'uint32',
});

export const JOBOBJECT_LIMIT_VIOLATION_INFORMATION = koffi.struct({
  LimitFlags: 'uint32',
  ViolationLimitFlags: 'uint32',
  IoReadBytes: 'uint64',
  IoReadBytesLimit: 'uint64',
  IoWriteBytes: 'uint64',
  IoWriteBytesLimit: 'uint64',
  PerJobUserTime: 'int64',
  PerJobUserTimeLimit: 'int64',
  JobMemory: 'uint64',
  JobMemoryLimit: 'uint64',
  RateControlTolerance: 'uint32',
  RateControlToleranceLimit: 'uint32',
});

export const STARTUPINFOW = koffi.struct({
  cb: 'uint32',
  lpReserved: 'uintptr_t',
  lpDesktop: 'uintptr_t',
  lpTitle: 'uintptr_t',
  dwX: 'uint32',
  dwY: 'uint32',
  dwXSize: 'uint32',
  dwYSize: 'uint32',
  dwXCountChars: 'uint32',
  dwYCountChars: 'uint32',
  dwFillAttribute: 'uint32',
  dwFlags: 'uint32',
  wShowWindow: 'uint16',
  cbReserved2: 'uint16',
  lpReserved2: 'uintptr_t',
  hStdInput: 'uintptr_t',
  hStdOutput: 'uintptr_t',
  hStdError: 'uintptr_t',
});

export const STARTUPINFOEXW = koffi.struct({
  StartupInfo: STARTUPINFOW,
  lpAttributeList: 'uintptr_t',
});

export const PROCESS_INFORMATION = koffi.struct({
  hProcess: 'uintptr_t',
  hThread: 'uintptr_t',
  dwProcessId: 'uint32',
  dwThreadId: 'uint32',
});

/** Encodes a struct value into a fresh buffer of exactly its size (unset fields are zero). */
export function encodeStruct(type: TypeObject, value: Record<string, unknown>): Buffer {
  const buf = Buffer.alloc(koffi.sizeof(type));
  koffi.encode(buf, 0, type, value);
  return buf;
}

export function decodeStruct<T = Record<string, unknown>>(type: TypeObject, buf: Buffer): T {
  return koffi.decode(buf, 0, type) as T;
}
