// The launcher's half on Windows, the analogue of "apply, then execve": create the script inside the host's
// job (PROC_THREAD_ATTRIBUTE_JOB_LIST, no window in which it runs outside; the classic suspended → assign →
// resume only where the attribute is refused), pass exactly the three stdio handles (HANDLE_LIST), check the
// process really is in the job, then wait and exit with the script's exit code.
import * as fs from 'node:fs';
import koffi from 'koffi';
import type { ApplyHooks } from '../backend';
import type { Win32Plan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { environmentBlock } from './command-line';
import {
  CREATE_SUSPENDED,
  CREATE_UNICODE_ENVIRONMENT,
  ERROR_BAD_EXE_FORMAT,
  ERROR_FILE_NOT_FOUND,
  ERROR_INVALID_PARAMETER,
  ERROR_NOT_SUPPORTED,
  ERROR_PATH_NOT_FOUND,
  EXTENDED_STARTUPINFO_PRESENT,
  HANDLE_FLAG_INHERIT,
  INFINITE,
  INVALID_HANDLE_VALUE,
  JOB_OBJECT_ASSIGN_PROCESS,
  JOB_OBJECT_QUERY,
  PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
  PROC_THREAD_ATTRIBUTE_JOB_LIST,
  PROCESS_DUP_HANDLE,
  STARTF_USESTDHANDLES,
  STD_ERROR_HANDLE,
  STD_INPUT_HANDLE,
  STD_OUTPUT_HANDLE,
} from './constants';
import { check, handle, loadKernel32, type Handle, type Kernel32 } from './kernel32';
import { decodeStruct, encodeStruct, PROCESS_INFORMATION, STARTUPINFOEXW } from './structs';
import { loadAdvapi32, type Advapi32 } from './advapi32';
import { createRestrictedToken, type RestrictedToken } from './restricted-token';

/** The launcher's control channel (src/launcher/main.ts): on Linux it closes at execve; here, once the script runs. */
const CONTROL_FD = 3;

/** The STARTUPINFOEXW for the given std handles and attribute-list address. */
export function startupInfo(std: { input: Handle; output: Handle; error: Handle }, attributeList: bigint): Buffer {
  return encodeStruct(STARTUPINFOEXW, {
    StartupInfo: { cb: koffi.sizeof(STARTUPINFOEXW), dwFlags: STARTF_USESTDHANDLES, hStdInput: std.input, hStdOutput: std.output, hStdError: std.error },
    lpAttributeList: attributeList,
  });
}

/** The distinct real handles among the three (HANDLE_LIST refuses duplicates and null/invalid entries). */
export function inheritList(std: Handle[]): Handle[] {
  return [...new Set(std.filter((h) => h !== 0n && h !== INVALID_HANDLE_VALUE))];
}

interface AttributeList {
  address: bigint;
  free(): void;
}

function attributeList(k: Kernel32, handles: Handle[], job: Handle | null): AttributeList {
  const count = (handles.length ? 1 : 0) + (job !== null ? 1 : 0);
  const size = Buffer.alloc(8);
  k.InitializeProcThreadAttributeList(null, count, 0, size); // FALSE + ERROR_INSUFFICIENT_BUFFER: size query
  const list = koffi.alloc('uint8', Number(size.readBigUInt64LE(0)) || 64);
  const values: unknown[] = [];
  check(k, 'InitializeProcThreadAttributeList', k.InitializeProcThreadAttributeList(list, count, 0, size) !== 0);
  const add = (attr: number, hs: Handle[], name: string) => {
    const v = koffi.alloc('uintptr_t', hs.length);
    koffi.encode(v, 'uintptr_t', hs, hs.length);
    values.push(v);
    check(k, `UpdateProcThreadAttribute(${name})`, k.UpdateProcThreadAttribute(list, 0, attr, v, 8 * hs.length, null, null) !== 0);
  };
  if (handles.length) add(PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles, 'HANDLE_LIST');
  if (job !== null) add(PROC_THREAD_ATTRIBUTE_JOB_LIST, [job], 'JOB_LIST');
  return {
    address: koffi.address(list),
    free() {
      k.DeleteProcThreadAttributeList(list);
      koffi.free(list);
      for (const v of values) koffi.free(v);
    },
  };
}

/** The launcher's copy of the host's job handle: only the rights to put a process in it and to check that. */
function jobFromHost(k: Kernel32, job: NonNullable<Win32Plan['job']>): Handle {
  const host = handle(k.OpenProcess(PROCESS_DUP_HANDLE, 0, job.hostPid));
  check(k, 'OpenProcess(host)', host !== 0n);
  try {
    const out = Buffer.alloc(8);
    check(k, 'DuplicateHandle(job)', k.DuplicateHandle(host, BigInt(job.handle), handle(k.GetCurrentProcess()), out, JOB_OBJECT_ASSIGN_PROCESS | JOB_OBJECT_QUERY, 0, 0) !== 0);
    return out.readBigUInt64LE(0);
  } finally {
    k.CloseHandle(host);
  }
}

function createError(call: string, err: number): SandboxError {
  if (err === ERROR_FILE_NOT_FOUND || err === ERROR_PATH_NOT_FOUND) return new SandboxError('SCRIPT_NOT_FOUND', `${call}: program not found (Windows error ${err})`, { call, errno: err });
  if (err === ERROR_BAD_EXE_FORMAT) return new SandboxError('SCRIPT_NOT_EXECUTABLE', `${call}: not a Windows program (Windows error ${err})`, { call, errno: err });
  return new SandboxError('EXEC_FAILED', `${call} failed (Windows error ${err})`, { call, errno: err });
}

export interface Created {
  process: Handle;
  thread: Handle;
  pid: number;
  /** How the process got into the job: 'job-list' (at creation) or 'assigned' (suspended, then assigned). */
  how: 'job-list' | 'assigned' | 'none';
}

export interface CreateOptions {
  /** A primary token for the script (restricted-token.ts) and the advapi32 that can use it: CreateProcessAsUserW. */
  token?: { handle: Handle; advapi32: Advapi32 } | null;
  /** No std handles at all (the probes: their output must not reach the host's own stdio). */
  noStdio?: boolean;
}

/** Creates the script suspended, inside the job. Exported for the Wine tier's direct checks. */
export function createInJob(k: Kernel32, plan: Win32Plan, job: Handle | null, opts: CreateOptions = {}): Created {
  const std = opts.noStdio
    ? { input: 0n, output: 0n, error: 0n }
    : {
        input: handle(k.GetStdHandle(STD_INPUT_HANDLE)),
        output: handle(k.GetStdHandle(STD_OUTPUT_HANDLE)),
        error: handle(k.GetStdHandle(STD_ERROR_HANDLE)),
      };
  const inherit = inheritList([std.input, std.output, std.error]);
  for (const h of inherit) check(k, 'SetHandleInformation', k.SetHandleInformation(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT) !== 0);
  const env = environmentBlock(plan.env);
  const attempt = (withJobList: boolean): Created | number => {
    const list = attributeList(k, inherit, withJobList ? job : null);
    try {
      const si = startupInfo(std, list.address);
      const pi = Buffer.alloc(koffi.sizeof(PROCESS_INFORMATION));
      const cmdline = Buffer.from(plan.commandLine + '\0', 'utf16le'); // writable, as CreateProcessW requires
      const flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT | CREATE_SUSPENDED;
      const inh = inherit.length ? 1 : 0;
      const ok = opts.token
        ? opts.token.advapi32.CreateProcessAsUserW(opts.token.handle, plan.application, cmdline, null, null, inh, flags, env, plan.cwd, si, pi)
        : k.CreateProcessW(plan.application, cmdline, null, null, inh, flags, env, plan.cwd, si, pi);
      if (!ok) return k.GetLastError();
      const p = decodeStruct<{ hProcess: number | bigint; hThread: number | bigint; dwProcessId: number }>(PROCESS_INFORMATION, pi);
      return { process: handle(p.hProcess), thread: handle(p.hThread), pid: p.dwProcessId, how: withJobList ? 'job-list' : 'none' };
    } finally {
      list.free();
    }
  };
  let r = attempt(job !== null);
  if (typeof r === 'number' && job !== null && (r === ERROR_INVALID_PARAMETER || r === ERROR_NOT_SUPPORTED)) {
    // Before Windows 10 (and where JOB_LIST is refused): suspended, assigned, then resumed by the caller.
    r = attempt(false);
    if (typeof r !== 'number') {
      if (!k.AssignProcessToJobObject(job, r.process)) {
        const err = k.GetLastError();
        k.TerminateProcess(r.process, 1);
        throw new SandboxError('SETUP_FAILED', `AssignProcessToJobObject failed (Windows error ${err})`, { call: 'AssignProcessToJobObject', errno: err });
      }
      r = { ...r, how: 'assigned' };
    }
  }
  if (typeof r === 'number') throw createError('CreateProcessW', r);
  return r;
}

export function isInJob(k: Kernel32, proc: Handle, job: Handle): boolean {
  const out = Buffer.alloc(4);
  return k.IsProcessInJob(proc, job, out) !== 0 && out.readInt32LE(0) !== 0;
}

export function applyAndExecWin32(plan: Win32Plan, hooks?: ApplyHooks): never {
  const k = loadKernel32();
  let job: Handle | null = null;
  if (plan.job) {
    try {
      job = jobFromHost(k, plan.job);
    } catch (e) {
      if (plan.requireJob) throw e;
    }
  } else if (plan.requireJob) {
    throw new SandboxError('MECHANISM_UNAVAILABLE', 'no job object for this run (the host could not create one)');
  }
  // The restricted token (file confinement, and no write access to the host's or the launcher's process):
  // fail closed when the plan asks for it and it cannot be made.
  let token: RestrictedToken | null = null;
  let advapi32: Advapi32 | null = null;
  if (plan.restrictedToken) {
    advapi32 = loadAdvapi32();
    token = createRestrictedToken(k, advapi32, plan.restrictedToken.sid);
  }
  const child = createInJob(k, plan, job, { token: token && advapi32 ? { handle: token.token, advapi32 } : null });
  token?.close();
  if (job !== null && !isInJob(k, child.process, job)) {
    k.TerminateProcess(child.process, 1);
    throw new SandboxError('SETUP_FAILED', 'the script is not in the run\'s job after creation; it was terminated before it ran', { call: 'IsProcessInJob' });
  }
  if (job !== null) k.CloseHandle(job);
  hooks?.beforeExec?.();
  try {
    // A pipe's unread bytes may be dropped at close (Wine does): FlushFileBuffers waits until the host has
    // read the 'exec' message.
    try {
      fs.fsyncSync(CONTROL_FD);
    } catch {
      // not a pipe that supports flushing; the close below still ends the channel
    }
    fs.closeSync(CONTROL_FD);
  } catch {
    // already closed
  }
  k.ResumeThread(child.thread);
  k.CloseHandle(child.thread);
  k.WaitForSingleObject(child.process, INFINITE);
  const code = Buffer.alloc(4);
  k.GetExitCodeProcess(child.process, code);
  process.exit(code.readUInt32LE(0) | 0);
}
