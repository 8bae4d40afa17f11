// koffi bindings to kernel32: the only place that declares Win32 functions. loadKernel32() returns bound
// functions; callers hold the object (no module-level mutable state). Struct arguments are passed as Buffers
// encoded with native/win32/structs.ts; handles are uintptr_t. Failures read GetLastError right after the
// call (koffi protects it from V8 since 2.6.10) and throw a SandboxError with the call and the error code.
import koffi from 'koffi';
import { SandboxError, type SandboxErrorCode } from '../../src/errors';

export type Handle = bigint;

export interface Kernel32 {
  CreateJobObjectW(sa: null, name: null): unknown;
  SetInformationJobObject(job: Handle, cls: number, info: Buffer, len: number): number;
  QueryInformationJobObject(job: Handle, cls: number, info: Buffer, len: number, ret: Buffer | null): number;
  AssignProcessToJobObject(job: Handle, proc: Handle): number;
  TerminateJobObject(job: Handle, code: number): number;
  IsProcessInJob(proc: Handle, job: Handle, result: Buffer): number;
  CreateIoCompletionPort(file: Handle, existing: Handle, key: Handle, threads: number): unknown;
  GetQueuedCompletionStatus(port: Handle, bytes: Buffer, key: Buffer, overlapped: Buffer, ms: number): number;
  InitializeProcThreadAttributeList(list: unknown, count: number, flags: number, size: Buffer): number;
  UpdateProcThreadAttribute(list: unknown, flags: number, attr: number, value: unknown, size: number, prev: null, ret: null): number;
  DeleteProcThreadAttributeList(list: unknown): void;
  CreateProcessW(app: string | null, cmdline: Buffer, pa: null, ta: null, inherit: number, flags: number, env: Buffer | null, cwd: string | null, si: Buffer, pi: Buffer): number;
  ResumeThread(thread: Handle): number;
  WaitForSingleObject(h: Handle, ms: number): number;
  GetExitCodeProcess(h: Handle, code: Buffer): number;
  SetHandleInformation(h: Handle, mask: number, flags: number): number;
  GetStdHandle(which: number): unknown;
  CloseHandle(h: Handle): number;
  GetLastError(): number;
  OpenProcess(access: number, inherit: number, pid: number): unknown;
  DuplicateHandle(srcProc: Handle, src: Handle, dstProc: Handle, out: Buffer, access: number, inherit: number, options: number): number;
  GetCurrentProcess(): unknown;
  TerminateProcess(h: Handle, code: number): number;
  LocalFree(p: Handle): Handle;
  GetProcessTimes(h: Handle, creation: Buffer, exit: Buffer, kernel: Buffer, user: Buffer): number;
}

export function loadKernel32(): Kernel32 {
  const lib = koffi.load('kernel32.dll');
  const f = (name: string, ret: string, args: string[]) => lib.func('__stdcall', name, ret, args);
  const H = 'uintptr_t';
  const P = 'void *';
  return {
    CreateJobObjectW: f('CreateJobObjectW', H, [P, 'const char16_t *']),
    SetInformationJobObject: f('SetInformationJobObject', 'int', [H, 'int', P, 'uint32']),
    QueryInformationJobObject: f('QueryInformationJobObject', 'int', [H, 'int', P, 'uint32', P]),
    AssignProcessToJobObject: f('AssignProcessToJobObject', 'int', [H, H]),
    TerminateJobObject: f('TerminateJobObject', 'int', [H, 'uint32']),
    IsProcessInJob: f('IsProcessInJob', 'int', [H, H, P]),
    CreateIoCompletionPort: f('CreateIoCompletionPort', H, [H, H, H, 'uint32']),
    GetQueuedCompletionStatus: f('GetQueuedCompletionStatus', 'int', [H, P, P, P, 'uint32']),
    InitializeProcThreadAttributeList: f('InitializeProcThreadAttributeList', 'int', [P, 'uint32', 'uint32', P]),
    UpdateProcThreadAttribute: f('UpdateProcThreadAttribute', 'int', [P, 'uint32', 'uintptr_t', P, 'uintptr_t', P, P]),
    DeleteProcThreadAttributeList: f('DeleteProcThreadAttributeList', 'void', [P]),
    CreateProcessW: f('CreateProcessW', 'int', ['const char16_t *', P, P, P, 'int', 'uint32', P, 'const char16_t *', P, P]),
    ResumeThread: f('ResumeThread', 'uint32', [H]),
    WaitForSingleObject: f('WaitForSingleObject', 'uint32', [H, 'uint32']),
    GetExitCodeProcess: f('GetExitCodeProcess', 'int', [H, P]),
    SetHandleInformation: f('SetHandleInformation', 'int', [H, 'uint32', 'uint32']),
    GetStdHandle: f('GetStdHandle', H, ['int32']),
    CloseHandle: f('CloseHandle', 'int', [H]),
    GetLastError: f('GetLastError', 'uint32', []),
    OpenProcess: f('OpenProcess', H, ['uint32', 'int', 'uint32']),
    DuplicateHandle: f('DuplicateHandle', 'int', [H, H, H, P, 'uint32', 'int', 'uint32']),
    GetCurrentProcess: f('GetCurrentProcess', H, []),
    TerminateProcess: f('TerminateProcess', 'int', [H, 'uint32']),
    LocalFree: f('LocalFree', H, [H]),
    GetProcessTimes: f('GetProcessTimes', 'int', [H, P, P, P, P]),
  } as unknown as Kernel32;
}

/** A handle as koffi returned it (number or BigInt) as BigInt. */
export function handle(v: unknown): Handle {
  return typeof v === 'bigint' ? v : BigInt(v as number);
}

/** Throws the call's failure (BOOL 0, or a null handle) with GetLastError. */
export function check(k: Kernel32, call: string, ok: boolean, code: SandboxErrorCode = 'SETUP_FAILED'): void {
  if (ok) return;
  const err = k.GetLastError();
  throw new SandboxError(code, `${call} failed (Windows error ${err})`, { call, errno: err });
}
