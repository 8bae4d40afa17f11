// The host's half of file confinement on Windows: the run's SID gets an inheritable Modify ACE on the paths
// the script may write (workspace, run temp, allowWrite) and a deny-write ACE on protected paths inside them;
// after the run every ACE naming that SID is removed again. Every change is journaled first (acl-journal.ts),
// so a host that crashed mid-run undoes it at its next start.
//
// SetNamedSecurityInfoW (not SetFileSecurityW) so the inheritable ACE reaches files that already exist
// below: Windows rewrites their inherited ACEs, which costs time on very large trees.
import koffi from 'koffi';
import { SandboxError } from '../../src/errors';
import { AceType, FileAccess, INHERIT_ALL, namesSid, withAce, withoutSid } from './acl';
import type { Advapi32 } from './advapi32';
import type { Kernel32 } from './kernel32';
import { DACL_SECURITY_INFORMATION, SE_FILE_OBJECT } from './token-structs';

export interface FileGrant {
  path: string;
  /** write: Modify for the run's SID, inherited below; deny: write/delete taken away, inherited below. */
  kind: 'write' | 'deny';
}

/** The ACE a grant adds. */
export function aceFor(kind: FileGrant['kind']): { type: number; flags: number; mask: number } {
  return kind === 'write'
    ? { type: AceType.ACCESS_ALLOWED, flags: INHERIT_ALL, mask: FileAccess.MODIFY }
    : { type: AceType.ACCESS_DENIED, flags: INHERIT_ALL, mask: FileAccess.WRITE_AND_DELETE };
}

const ERROR_FILE_NOT_FOUND = 2;
const ERROR_PATH_NOT_FOUND = 3;

/** A path's DACL as bytes; null for a NULL DACL (everyone has full access: nothing to grant). Missing path: undefined. */
export function readDacl(k: Kernel32, a: Advapi32, p: string): Buffer | null | undefined {
  const dacl = Buffer.alloc(8);
  const sd = Buffer.alloc(8);
  const err = a.GetNamedSecurityInfoW(p, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, null, null, dacl, null, sd);
  if (err === ERROR_FILE_NOT_FOUND || err === ERROR_PATH_NOT_FOUND) return undefined;
  if (err !== 0) throw new SandboxError('SETUP_FAILED', `GetNamedSecurityInfoW(${p}) failed (Windows error ${err})`, { call: 'GetNamedSecurityInfoW', errno: err });
  try {
    const addr = dacl.readBigUInt64LE(0);
    if (addr === 0n) return null;
    const size = Buffer.from(koffi.decode(addr, koffi.array('uint8', 8)) as number[]).readUInt16LE(2);
    return Buffer.from(koffi.decode(addr, koffi.array('uint8', size)) as number[]);
  } finally {
    const s = sd.readBigUInt64LE(0);
    if (s !== 0n) k.LocalFree(s);
  }
}

export function writeDacl(a: Advapi32, p: string, acl: Buffer): void {
  const err = a.SetNamedSecurityInfoW(p, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, null, null, acl, null);
  if (err !== 0) throw new SandboxError('SETUP_FAILED', `SetNamedSecurityInfoW(${p}) failed (Windows error ${err})`, { call: 'SetNamedSecurityInfoW', errno: err });
}

/** Adds the grant's ACE for `sid`. Returns false when there was nothing to do (missing path, NULL DACL). */
export function applyGrant(k: Kernel32, a: Advapi32, g: FileGrant, sid: string): boolean {
  const acl = readDacl(k, a, g.path);
  if (acl == null) return false;
  const ace = aceFor(g.kind);
  writeDacl(a, g.path, withAce(acl, ace.type, ace.flags, ace.mask, sid));
  return true;
}

/** Removes every ACE naming `sid` from the path's DACL (idempotent; a missing path is fine). */
export function revokeSid(k: Kernel32, a: Advapi32, p: string, sid: string): boolean {
  const acl = readDacl(k, a, p);
  if (acl == null || !namesSid(acl, sid)) return false;
  writeDacl(a, p, withoutSid(acl, sid).acl);
  return true;
}
