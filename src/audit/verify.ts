// Reading and verifying the chain (readers: CLI `audit`, tests). Read-only: no lock, no write, no key
// created; verify reads the user's key to check seals (./chain.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUDIT_FORMAT_VERSION, GENESIS_HASH, parseAuditLine, type AuditRecord } from '../protocol/audit';
import { checkSeal, linkOf } from './chain';
import { auditChainFiles, isRotatedName } from './files';
import { auditKeyPath, defaultStateDir, readAuditKey } from './key';
import { forEachLine, splitLines } from './lines';

export interface VerifyOptions {
  /** The user's audit state folder holding the key. Default ~/.local/state/script-sandbox. */
  stateDir?: string;
}

export interface VerifyResult {
  /** The chain is intact and keyed: every line after the unkeyed start (if any) passed its keyed check. */
  ok: boolean;
  /** Lines checked (whole lines, across all files). */
  lines: number;
  /** Files checked, oldest first. */
  files: string[];
  firstSeq?: number;
  lastSeq?: number;
  /** The chain starts at seq 1 (nothing rotated out of it). */
  anchored: boolean;
  /** Lines in the older unkeyed format (version 1), all at the start of the chain. */
  unkeyedLines: number;
  /**
   * Intact, but every line is in the older unkeyed format: anyone who could write the file could have
   * rewritten and re-hashed it, so it proves nothing about the lines. ok is false.
   */
  unkeyed?: boolean;
  /** An incomplete last line in the newest file: a writer died mid-write; the next writer cuts it off. */
  incompleteTail?: { file: string; bytes: number };
  firstBroken?: { file: string; line: number; reason: string };
}

/**
 * Checks every line: whole and terminated, valid JSON, valid against the shared schema, seq = previous + 1,
 * prev = the previous line's link (across files), and the line's own keyed seal. Given one path of the
 * current file, its rotated siblings are found and checked oldest → newest; given a list, it is taken as
 * the chain in that order. The line reported is the first one that is wrong as far as the chain can tell.
 */
export function verifyAuditFile(files: string[] | string, opts: VerifyOptions = {}): VerifyResult {
  const list = typeof files === 'string' ? auditChainFiles(path.resolve(files)) : files.map((f) => path.resolve(f));
  const result: VerifyResult = { ok: true, lines: 0, files: list, anchored: false, unkeyedLines: 0 };
  const broken = (file: string, line: number, reason: string): VerifyResult => ({ ...result, ok: false, firstBroken: { file, line, reason } });
  if (!list.length) return broken(typeof files === 'string' ? path.resolve(files) : '(none)', 0, 'no audit file found');
  const stateDir = opts.stateDir ?? defaultStateDir();
  let key: Buffer | null | undefined;

  let prev: { seq: number; hash: string; keyed: boolean; file: string; line: number } | null = null;
  for (let fi = 0; fi < list.length; fi++) {
    const file = list[fi]!;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (e) {
      return broken(file, 0, `cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
    const { lines, rest } = splitLines(buf);
    for (let li = 0; li < lines.length; li++) {
      const raw = lines[li]!;
      const lineNo = li + 1;
      if (raw.length === 0) return broken(file, lineNo, 'empty line');
      const text = raw.toString('utf8');
      const p = parseAuditLine(text);
      if (!p.ok) return broken(file, lineNo, p.reason);
      const r = p.record;
      const keyed = r.v === AUDIT_FORMAT_VERSION;
      if (!keyed && prev?.keyed) return broken(file, lineNo, 'an unkeyed line (older format) after keyed lines: it was not written by the audit log');
      if (!prev) {
        if (r.seq === 1) {
          if (r.prev !== GENESIS_HASH) return broken(file, lineNo, 'seq 1 must have the genesis prev (64 zeros)');
          result.anchored = true;
        } else if (!isRotatedName(file)) {
          // Only a rotated file may start mid-chain (older files were dropped); the current file may not.
          return broken(file, lineNo, `the chain starts at seq ${r.seq}, not 1: lines before it are missing`);
        }
        result.firstSeq = r.seq;
      } else {
        if (r.seq !== prev.seq + 1) {
          const why = r.seq > prev.seq + 1 ? `${r.seq - prev.seq - 1} line(s) missing before it, or lines reordered` : 'a line repeated or lines reordered';
          return broken(file, lineNo, `seq ${r.seq} where ${prev.seq + 1} was expected: ${why}`);
        }
        if (r.prev !== prev.hash) {
          const here = prev.file === file ? `line ${lineNo}` : `line ${lineNo} of ${path.basename(file)}`;
          // A keyed previous line passed its own check, so the fault is here; an unkeyed one may be the edit.
          if (prev.keyed) return broken(file, lineNo, `its prev does not match the mac of the line before: this line was changed after it was written`);
          return broken(prev.file, prev.line, `its hash does not match the prev recorded in ${here}: this line was changed after it was written (or that prev was)`);
        }
      }
      if (keyed) {
        if (key === undefined) {
          try {
            key = readAuditKey(stateDir);
          } catch (e) {
            return broken(file, lineNo, `cannot check its keyed mac: ${(e as Error).message}`);
          }
        }
        if (!key) return broken(file, lineNo, `cannot check its keyed mac: there is no audit key at ${auditKeyPath(stateDir)} (the log was written by another user or on another machine, or the key was removed)`);
        const bad = checkSeal(key, text, r);
        if (bad) return broken(file, lineNo, bad);
      } else {
        result.unkeyedLines++;
      }
      prev = { seq: r.seq, hash: linkOf(raw, r), keyed, file, line: lineNo };
      result.lines++;
      result.lastSeq = r.seq;
    }
    if (rest > 0) {
      if (fi === list.length - 1) result.incompleteTail = { file, bytes: rest };
      else return broken(file, lines.length + 1, 'incomplete last line in a rotated file');
    }
  }
  if (result.lines > 0 && result.unkeyedLines === result.lines) return { ...result, ok: false, unkeyed: true };
  return result;
}

/** Reads all records of the chain (oldest first), skipping lines that do not parse. For readers (CLI). */
export function readAuditRecords(file: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const f of auditChainFiles(path.resolve(file))) {
    forEachLine(fs.readFileSync(f), (line) => {
      const p = parseAuditLine(line.toString('utf8'));
      if (p.ok) out.push(p.record);
    });
  }
  return out;
}
