// koffi bindings to advapi32 (tokens and file DACLs): the only place that declares these Win32 functions.
// Buffers in, BigInt handles/pointers out; SIDs and ACLs are built in sid.ts/acl.ts and passed as Buffers.
import koffi from 'koffi';
import type { Handle } from './kernel32';

export interface Advapi32 {
  OpenProcessToken(proc: Handle, access: number, out: Buffer): number;
  CreateRestrictedToken(token: Handle, flags: number, disableCount: number, disable: null, delCount: number, del: null, restrictCount: number, restrict: Buffer | null, out: Buffer): number;
  GetTokenInformation(token: Handle, cls: number, info: Buffer | null, len: number, ret: Buffer): number;
  SetTokenInformation(token: Handle, cls: number, info: Buffer, len: number): number;
  CreateProcessAsUserW(token: Handle, app: string | null, cmdline: Buffer, pa: null, ta: null, inherit: number, flags: number, env: Buffer | null, cwd: string | null, si: Buffer, pi: Buffer): number;
  /** Returns a Win32 error code (0 = success), not a BOOL. */
  GetNamedSecurityInfoW(name: string, type: number, info: number, owner: null, group: null, dacl: Buffer, sacl: null, sd: Buffer): number;
  SetNamedSecurityInfoW(name: string, type: number, info: number, owner: null, group: null, dacl: Buffer | null, sacl: null): number;
}

export function loadAdvapi32(): Advapi32 {
  const lib = koffi.load('advapi32.dll');
  const f = (name: string, ret: string, args: string[]) => lib.func('__stdcall', name, ret, args);
  const H = 'uintptr_t';
  const P = 'void *';
  const W = 'const char16_t *';
  return {
    OpenProcessToken: f('OpenProcessToken', 'int', [H, 'uint32', P]),
    CreateRestrictedToken: f('CreateRestrictedToken', 'int', [H, 'uint32', 'uint32', P, 'uint32', P, 'uint32', P, P]),
    GetTokenInformation: f('GetTokenInformation', 'int', [H, 'int', P, 'uint32', P]),
    SetTokenInformation: f('SetTokenInformation', 'int', [H, 'int', P, 'uint32']),
    CreateProcessAsUserW: f('CreateProcessAsUserW', 'int', [H, W, P, P, P, 'int', 'uint32', P, W, P, P]),
    GetNamedSecurityInfoW: f('GetNamedSecurityInfoW', 'uint32', [W, 'int', 'uint32', P, P, P, P, P]),
    SetNamedSecurityInfoW: f('SetNamedSecurityInfoW', 'uint32', [W, 'int', 'uint32', P, P, P, P]),
  } as unknown as Advapi32;
}
