// The script's token on Windows: a write-restricted copy of the launcher's own token (CreateRestrictedToken
// with DISABLE_MAX_PRIVILEGE | LUA_TOKEN | WRITE_RESTRICTED). Every write access then passes two checks: the
// usual one with the user's SIDs, and a second one with only the restricting SIDs (the run's SID, the logon
// SID, Everyone). User files grant none of those, so writes land only where the host granted the run's SID
// (workspace, run temp; native/win32/file-grants.ts). Reads are not restricted by this mechanism.
//
// The same second check guards the host's and the launcher's process objects: PROCESS_DUP_HANDLE,
// VM_WRITE and CREATE_THREAD are write rights of the process type (GENERIC_WRITE mapping), and their DACLs
// (the user's default DACL) grant no restricting SID, so the script can neither duplicate the host's job
// handle out of it nor inject code into it. Its own processes get a default DACL that names the run's SID,
// so it can still manage them.
import koffi from 'koffi';
import { SandboxError } from '../../src/errors';
import { AceType, encodeAce, encodeAcl, FileAccess } from './acl';
import type { Advapi32 } from './advapi32';
import { ERROR_INVALID_PARAMETER } from './constants';
import { handle, type Handle, type Kernel32 } from './kernel32';
import { sidFromBytes, sidToBytes, WellKnownSid } from './sid';
import { RestrictedTokenFlag, sidAndAttributesArray, TokenAccess, TokenInfoClass, TOKEN_DEFAULT_DACL } from './token-structs';
import { encodeStruct } from './structs';

export const RESTRICTED_TOKEN_FLAGS = RestrictedTokenFlag.DISABLE_MAX_PRIVILEGE | RestrictedTokenFlag.LUA_TOKEN | RestrictedTokenFlag.WRITE_RESTRICTED;

/** The restricting SIDs, in order: the run's, the logon session's (console, desktop objects), Everyone. */
export function restrictingSids(runSid: string, logonSid: string | null): string[] {
  return [runSid, ...(logonSid ? [logonSid] : []), WellKnownSid.everyone];
}

/** The default DACL of the script's token: full access for the user, SYSTEM and the run's SID. */
export function defaultDacl(userSid: string, runSid: string): Buffer {
  return encodeAcl([userSid, WellKnownSid.localSystem, runSid].map((s) => encodeAce(AceType.ACCESS_ALLOWED, 0, FileAccess.GENERIC_ALL, s)));
}

function fail(k: Kernel32, call: string): never {
  const err = k.GetLastError();
  throw new SandboxError('SETUP_FAILED', `${call} failed (Windows error ${err})`, { call, errno: err });
}

/** A token information class as bytes (two calls: size, then data). */
function tokenInfo(k: Kernel32, a: Advapi32, token: Handle, cls: number): Buffer | null {
  const len = Buffer.alloc(4);
  a.GetTokenInformation(token, cls, null, 0, len);
  const n = len.readUInt32LE(0);
  if (!n) return null;
  const buf = Buffer.alloc(n);
  if (!a.GetTokenInformation(token, cls, buf, n, len)) return null;
  return buf;
}

/** The SID a SID_AND_ATTRIBUTES at `off` of `buf` points to (inside the same buffer). */
function sidAt(buf: Buffer, off: number): string {
  const addr = buf.readBigUInt64LE(off);
  const head = Buffer.from(koffi.decode(addr, koffi.array('uint8', 8)) as number[]);
  return sidFromBytes(Buffer.from(koffi.decode(addr, koffi.array('uint8', 8 + 4 * head[1])) as number[]));
}

export interface TokenSids {
  user: string;
  logon: string | null;
}

/** The user and logon SIDs of a token (TokenLogonSid, Vista+; null where the system has none). */
export function tokenSids(k: Kernel32, a: Advapi32, token: Handle): TokenSids {
  const user = tokenInfo(k, a, token, TokenInfoClass.TokenUser);
  if (!user) fail(k, 'GetTokenInformation(TokenUser)');
  const groups = tokenInfo(k, a, token, TokenInfoClass.TokenLogonSid);
  const logon = groups && groups.readUInt32LE(0) > 0 ? sidAt(groups, 8) : null;
  return { user: sidAt(user, 0), logon };
}

export interface RestrictedToken {
  token: Handle;
  sids: string[];
  flags: number;
  close(): void;
}

/** The script's primary token for `runSid`, derived from this process's token. */
export function createRestrictedToken(k: Kernel32, a: Advapi32, runSid: string): RestrictedToken {
  const out = Buffer.alloc(8);
  const access = TokenAccess.DUPLICATE | TokenAccess.QUERY | TokenAccess.ASSIGN_PRIMARY | TokenAccess.ADJUST_DEFAULT;
  if (!a.OpenProcessToken(handle(k.GetCurrentProcess()), access, out)) fail(k, 'OpenProcessToken');
  const own = out.readBigUInt64LE(0);
  try {
    const ids = tokenSids(k, a, own);
    const sids = restrictingSids(runSid, ids.logon);
    const sidBufs = sids.map(sidToBytes); // kept alive until the call returns: the array holds their addresses
    const list = sidAndAttributesArray(sidBufs.map((b) => koffi.address(b) as bigint));
    let flags = RESTRICTED_TOKEN_FLAGS;
    let ok = a.CreateRestrictedToken(own, flags, 0, null, 0, null, sids.length, list, out);
    if (!ok && k.GetLastError() === ERROR_INVALID_PARAMETER) {
      // LUA_TOKEN is refused on some systems for a token that is already filtered; the write restriction is what matters.
      flags &= ~RestrictedTokenFlag.LUA_TOKEN;
      ok = a.CreateRestrictedToken(own, flags, 0, null, 0, null, sids.length, list, out);
    }
    if (!ok) fail(k, 'CreateRestrictedToken');
    const token = out.readBigUInt64LE(0);
    const dacl = defaultDacl(ids.user, runSid);
    const info = encodeStruct(TOKEN_DEFAULT_DACL, { DefaultDacl: koffi.address(dacl) });
    if (!a.SetTokenInformation(token, TokenInfoClass.TokenDefaultDacl, info, info.length)) {
      k.CloseHandle(token);
      fail(k, 'SetTokenInformation(TokenDefaultDacl)');
    }
    return { token, sids, flags, close: () => void k.CloseHandle(token) };
  } finally {
    k.CloseHandle(own);
  }
}
