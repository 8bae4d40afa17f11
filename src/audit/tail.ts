// Where the chain ends: the last complete line of the current file (or, when it is empty, of the newest
// rotated file with a line), checked before anything is written after it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GENESIS_HASH, parseAuditLine } from '../protocol/audit';
import { SandboxError } from '../errors';
import { checkSeal, linkOf } from './chain';
import { rotatedSiblings } from './files';
import { readTail } from './lines';
import { openNoFollow, type LogDir } from './safe-dir';

export interface ChainEnd {
  seq: number;
  /** What the next line's prev must be. */
  hash: string;
}

/** The chain's end, or how many bytes of an incomplete last line the current file (fd, size) ends in. */
export function findChainEnd(dir: LogDir, key: Buffer, st: { fd: number; size: number }): ChainEnd | { tornBytes: number } {
  const { lastLine, tornBytes } = readTail(st.fd, st.size);
  if (tornBytes > 0) return { tornBytes };
  if (lastLine) return endOf(key, lastLine, dir.file);
  for (const r of rotatedSiblings(dir.at(dir.base))) {
    const name = path.basename(r.path);
    const fd = openNoFollow(dir, name);
    try {
      const t = readTail(fd, fs.fstatSync(fd).size);
      if (t.lastLine) return endOf(key, t.lastLine, path.join(path.dirname(dir.file), name));
    } finally {
      fs.closeSync(fd);
    }
  }
  return { seq: 0, hash: GENESIS_HASH };
}

function endOf(key: Buffer, line: Buffer, file: string): ChainEnd {
  const text = line.toString('utf8');
  const p = parseAuditLine(text);
  const advice = '(see "script-sandbox audit verify"; move the file aside to start a new chain)';
  if (!p.ok) throw new SandboxError('AUDIT_BROKEN', `the last line of ${file} ${p.reason}; refusing to extend a broken chain ${advice}`);
  const bad = checkSeal(key, text, p.record);
  if (bad) throw new SandboxError('AUDIT_BROKEN', `the last line of ${file} fails its keyed check (${bad}); refusing to extend it ${advice}`);
  return { seq: p.record.seq, hash: linkOf(line, p.record) };
}
