// The keyed chain: how a line is sealed and checked, and what the next line links to.
//
// A version 2 line is the record's JSON with `"mac":"<hex>"` as its last field, where mac is HMAC-SHA-256
// under the user's audit key (src/audit/key.ts) of the line's exact bytes without that field; its `prev`
// is the previous line's mac. So each line authenticates itself and its place in the chain: someone who
// can write the file but lacks the key cannot change, forge or re-hash a line without it failing verify.
// Deleting lines from the end stays invisible to a reader (the writer records `log_regressed` when it
// notices); deleting from the middle breaks seq.
//
// Version 1 lines (the older, unkeyed format) have no mac and link by SHA-256 of their bytes. A chain may
// start with version 1 lines and go on in version 2 (a log written before the key existed): the first
// keyed line's prev is the SHA-256 of the last unkeyed line, so the unkeyed part is pinned by a keyed line.
// A version 1 line after a keyed line is never valid.
import * as crypto from 'node:crypto';
import { AUDIT_FORMAT_VERSION, AuditRecord, UNKEYED_FORMAT_VERSION } from '../protocol/audit';

const MAC_SUFFIX = /,"mac":"([0-9a-f]{64})"\}$/;

export function sha256(b: Buffer | string): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

function hmac(key: Buffer, b: Buffer | string): string {
  return crypto.createHmac('sha256', key).update(b).digest('hex');
}

/** The record (its mac, if any, ignored) as one sealed line, newline included, and the mac. */
export function sealLine(key: Buffer, record: AuditRecord): { line: Buffer; mac: string } {
  const { mac: _none, ...body } = record;
  const json = JSON.stringify(body);
  const mac = hmac(key, json);
  return { line: Buffer.from(`${json.slice(0, -1)},"mac":"${mac}"}\n`, 'utf8'), mac };
}

/** The mac a sealed line carries (without its newline), or null when it has none in the sealed position. */
export function macOf(line: string): string | null {
  return MAC_SUFFIX.exec(line)?.[1] ?? null;
}

/**
 * Checks a parsed line's own seal. Returns null when it holds, else the reason. A version 1 line has no
 * seal to check (the caller decides whether an unkeyed line is acceptable where it stands).
 */
export function checkSeal(key: Buffer, line: string, record: AuditRecord): string | null {
  if (record.v === UNKEYED_FORMAT_VERSION) return null;
  const mac = macOf(line);
  if (!mac || record.mac !== mac) return 'has no keyed mac as its last field: it was not written by the audit log';
  const body = `${line.slice(0, line.length - MAC_SUFFIX.exec(line)![0].length)}}`;
  const want = Buffer.from(hmac(key, body), 'hex');
  if (!crypto.timingSafeEqual(want, Buffer.from(mac, 'hex'))) {
    return 'its keyed mac does not match: this line was changed after it was written, or written without the key';
  }
  return null;
}

/** What the next line's prev must be: a keyed line's mac, an unkeyed line's SHA-256. */
export function linkOf(line: Buffer | string, record: AuditRecord): string {
  return record.v === AUDIT_FORMAT_VERSION && record.mac ? record.mac : sha256(line);
}
