// DACLs as bytes (winnt.h ACL: AclRevision u8, Sbz1 u8, AclSize u16, AceCount u16, Sbz2 u16; then ACEs, each
// ACE_HEADER AceType u8, AceFlags u8, AceSize u16 + Mask u32 + SID for the allow/deny types). Pure: the
// confinement edits a path's DACL by adding or removing ACEs for the run's SID, keeping every other ACE byte
// for byte and the canonical order Windows expects (explicit deny, explicit allow, then inherited). No koffi.
import { SandboxError } from '../../src/errors';
import { sidFromBytes, sidLength, sidToBytes } from './sid';

export const ACL_REVISION = 2;
export const ACL_HEADER_SIZE = 8;

export const AceType = { ACCESS_ALLOWED: 0, ACCESS_DENIED: 1 } as const;

export const AceFlag = {
  OBJECT_INHERIT: 0x1,
  CONTAINER_INHERIT: 0x2,
  NO_PROPAGATE_INHERIT: 0x4,
  INHERIT_ONLY: 0x8,
  INHERITED: 0x10,
} as const;

/** Access masks (winnt.h). MODIFY is Explorer's "Modify": read, write, execute and delete, no WRITE_DAC. */
export const FileAccess = {
  GENERIC_ALL: 0x10000000,
  DELETE: 0x10000,
  FILE_DELETE_CHILD: 0x40,
  /** What a deny on a protected path takes away: write data/append/EA/attributes, delete, delete child,
   *  WRITE_DAC, WRITE_OWNER. Not READ_CONTROL or SYNCHRONIZE (part of FILE_GENERIC_WRITE, but every read
   *  asks for them). */
  WRITE_AND_DELETE: 0x2 | 0x4 | 0x10 | 0x100 | 0x40 | 0x10000 | 0x40000 | 0x80000,
  MODIFY: 0x1301bf,
} as const;

/** Inherited by files and folders below (OI | CI). */
export const INHERIT_ALL = AceFlag.OBJECT_INHERIT | AceFlag.CONTAINER_INHERIT;

export interface Ace {
  type: number;
  flags: number;
  /** Raw bytes of the whole ACE (header included): unknown types are carried through unchanged. */
  raw: Buffer;
  /** Mask and SID for the allow/deny types, else null. */
  mask: number | null;
  sid: string | null;
}

/** One ACCESS_ALLOWED_ACE / ACCESS_DENIED_ACE. */
export function encodeAce(type: number, flags: number, mask: number, sid: string): Buffer {
  const s = sidToBytes(sid);
  const ace = Buffer.alloc(8 + s.length);
  ace[0] = type;
  ace[1] = flags;
  ace.writeUInt16LE(ace.length, 2);
  ace.writeUInt32LE(mask >>> 0, 4);
  s.copy(ace, 8);
  return ace;
}

/** An ACL from its ACEs (revision 2: only the basic ACE types are built here; a parsed higher revision is kept). */
export function encodeAcl(aces: readonly Buffer[], revision = ACL_REVISION): Buffer {
  const size = ACL_HEADER_SIZE + aces.reduce((n, a) => n + a.length, 0);
  if (size > 0xffff) throw new SandboxError('SETUP_FAILED', `ACL too large (${size} bytes)`);
  const head = Buffer.alloc(ACL_HEADER_SIZE);
  head[0] = revision;
  head.writeUInt16LE(size, 2);
  head.writeUInt16LE(aces.length, 4);
  return Buffer.concat([head, ...aces]);
}

/** The ACL's ACEs, in order. */
export function parseAcl(acl: Buffer): { revision: number; aces: Ace[] } {
  if (acl.length < ACL_HEADER_SIZE) throw new SandboxError('SETUP_FAILED', 'malformed ACL (short header)');
  const size = acl.readUInt16LE(2);
  const count = acl.readUInt16LE(4);
  if (size > acl.length) throw new SandboxError('SETUP_FAILED', 'malformed ACL (size beyond buffer)');
  const aces: Ace[] = [];
  let off = ACL_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    if (off + 4 > size) throw new SandboxError('SETUP_FAILED', 'malformed ACL (ACE beyond size)');
    const len = acl.readUInt16LE(off + 2);
    if (len < 4 || off + len > size) throw new SandboxError('SETUP_FAILED', 'malformed ACL (ACE size)');
    const raw = Buffer.from(acl.subarray(off, off + len));
    const type = raw[0];
    const basic = (type === AceType.ACCESS_ALLOWED || type === AceType.ACCESS_DENIED) && len >= 16 && len >= 8 + sidLength(raw, 8);
    aces.push({ type, flags: raw[1], raw, mask: basic ? raw.readUInt32LE(4) : null, sid: basic ? sidFromBytes(raw, 8) : null });
    off += len;
  }
  return { revision: acl[0], aces };
}

const sameSid = (a: string | null, b: string) => a !== null && a.toUpperCase() === b.toUpperCase();

/**
 * `acl` with one explicit ACE added in canonical position: a deny first, an allow after the explicit ACEs
 * (before the first inherited one). Inherited ACEs are recomputed by Windows when the DACL is set.
 */
export function withAce(acl: Buffer, type: number, flags: number, mask: number, sid: string): Buffer {
  const { revision, aces } = parseAcl(acl);
  const ace = encodeAce(type, flags, mask, sid);
  const raws = aces.map((a) => a.raw);
  const at = type === AceType.ACCESS_DENIED ? 0 : (() => {
    const i = aces.findIndex((a) => (a.flags & AceFlag.INHERITED) !== 0);
    return i === -1 ? aces.length : i;
  })();
  raws.splice(at, 0, ace);
  return encodeAcl(raws, revision);
}

/** `acl` without any ACE naming `sid` (explicit or inherited): what undoing a run's grants writes back. */
export function withoutSid(acl: Buffer, sid: string): { acl: Buffer; removed: number } {
  const { revision, aces } = parseAcl(acl);
  const kept = aces.filter((a) => !sameSid(a.sid, sid));
  return { acl: encodeAcl(kept.map((a) => a.raw), revision), removed: aces.length - kept.length };
}

/** Whether `acl` has an ACE naming `sid`. */
export function namesSid(acl: Buffer, sid: string): boolean {
  return parseAcl(acl).aces.some((a) => sameSid(a.sid, sid));
}
