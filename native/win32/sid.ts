// SIDs as bytes (winnt.h SID: Revision u8 = 1, SubAuthorityCount u8, IdentifierAuthority 6 bytes big-endian,
// SubAuthority u32[] little-endian), built here instead of through ConvertStringSidToSidW so the encoding is
// pure, unit-tested byte for byte on Linux, and needs no LocalFree. No koffi here.
import { SandboxError } from '../../src/errors';

export const SID_REVISION = 1;
export const SID_MAX_SUB_AUTHORITIES = 15;

/** Well-known SIDs the confinement names. */
export const WellKnownSid = {
  everyone: 'S-1-1-0',
  localSystem: 'S-1-5-18',
  administrators: 'S-1-5-32-544',
} as const;

const SID_TEXT = /^S-1-(\d+)((?:-\d+)*)$/i;

/** "S-1-5-21-…" → the binary SID (8 + 4 × sub-authorities bytes). */
export function sidToBytes(text: string): Buffer {
  const m = SID_TEXT.exec(text);
  if (!m) throw new SandboxError('SETUP_FAILED', `not a SID: ${JSON.stringify(text)}`);
  const authority = BigInt(m[1]);
  const subs = m[2] ? m[2].slice(1).split('-').map((s) => Number(s)) : [];
  if (authority >= 1n << 48n || subs.length > SID_MAX_SUB_AUTHORITIES || subs.some((s) => !Number.isSafeInteger(s) || s > 0xffffffff)) {
    throw new SandboxError('SETUP_FAILED', `SID out of range: ${text}`);
  }
  const buf = Buffer.alloc(8 + 4 * subs.length);
  buf[0] = SID_REVISION;
  buf[1] = subs.length;
  buf.writeUIntBE(Number(authority), 2, 6);
  subs.forEach((s, i) => buf.writeUInt32LE(s, 8 + 4 * i));
  return buf;
}

/** Length of the binary SID at `off` (from its sub-authority count). */
export function sidLength(buf: Buffer, off = 0): number {
  return 8 + 4 * buf[off + 1];
}

/** The binary SID at `off` → "S-1-…". */
export function sidFromBytes(buf: Buffer, off = 0): string {
  if (buf[off] !== SID_REVISION || buf.length < off + 8 || buf.length < off + sidLength(buf, off)) throw new SandboxError('SETUP_FAILED', 'malformed SID');
  const authority = buf.readUIntBE(off + 2, 6);
  const subs: number[] = [];
  for (let i = 0; i < buf[off + 1]; i++) subs.push(buf.readUInt32LE(off + 8 + 4 * i));
  return ['S', '1', String(authority), ...subs.map(String)].join('-');
}

/**
 * A fresh SID for one run, the restricting SID of its token and the one the workspace and temp grants name.
 * Capability-style (S-1-15-3-…) with four random sub-authorities: no account carries it, so an ACE left behind
 * by a crash grants nothing to anyone until the journal removes it.
 */
// node:crypto is loaded when a SID is made (Windows), not at the module's load: every launcher bundles the
// Windows backend, and a Linux launcher's start would pay for loading it.
const randomBytes = (n: number): Buffer => (require('node:crypto') as typeof import('node:crypto')).randomBytes(n);

export function newRunSid(random: (n: number) => Buffer = randomBytes): string {
  const r = random(16);
  return `S-1-15-3-${[0, 4, 8, 12].map((o) => r.readUInt32LE(o)).join('-')}`;
}
