// Where the last recovery scan of a log left off, so the next writer that opens it reads only what was
// appended since. Every CLI run opens the log, and recovery read the whole chain each time: a 9 MB log cost
// the CLI about 300 ms (a full chain, six 10 MB files, several seconds). Kept in the state folder, which no
// script reaches, and trusted only for the same file (device and inode), no shorter than the offset, with
// the same last line before the offset (its SHA-256); anything else, a rotation included, is a full scan.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { AuditWriter } from '../protocol/audit';
import { readFully, readTail } from './lines';
import { openNoFollow, readNoFollow, type LogDir } from './safe-dir';
import { rotatedSiblings } from './files';
import { continueOpenRuns, openRuns, type OpenRun } from './recover';

const Checkpoint = z.object({
  v: z.literal(1),
  dev: z.string(),
  ino: z.string(),
  /** Bytes of the log scanned: whole lines only. */
  size: z.number().int().nonnegative(),
  /** SHA-256 (hex) of the last line before `size`; '' at 0. */
  lastLine: z.string(),
  open: z.array(z.object({ runId: z.string(), writer: AuditWriter })),
});
type Checkpoint = z.infer<typeof Checkpoint>;

/** The checkpoint's file for a log (by its real path), beside the writers' locks in the state folder. */
export function recoveryCheckpointPath(stateDir: string, realFile: string): string {
  return path.join(stateDir, 'recovery', `${crypto.createHash('sha256').update(realFile).digest('hex')}.json`);
}

/**
 * The chain's open runs (openRuns' answer), from the checkpoint and the log's new lines when the checkpoint
 * holds, else from every file of the chain; `save` records where this scan ended (call it under the same
 * lock hold, before appending). Unreadable or unwritable checkpoints only cost a full scan.
 */
export function scanOpenRuns(dir: LogDir, checkpointFile: string): { open: OpenRun[]; save(): void } {
  let fd: number;
  try {
    fd = openNoFollow(dir, dir.base);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return { open: openRuns(rotatedFiles(dir)), save: () => undefined };
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    // The last complete line is the one that ends where the whole lines end: one read gives both.
    const tail = readTail(fd, Number(st.size));
    const end = Number(st.size) - tail.tornBytes;
    const cp = load(checkpointFile);
    const held = cp !== null && cp.dev === String(st.dev) && cp.ino === String(st.ino) && cp.size <= end && hashOf(readTail(fd, cp.size).lastLine) === cp.lastLine;
    const open = held ? continueOpenRuns(cp.open, readRange(fd, cp.size, end)) : openRuns([...rotatedFiles(dir), readRange(fd, 0, end)]);
    const next: Checkpoint = { v: 1, dev: String(st.dev), ino: String(st.ino), size: end, lastLine: hashOf(tail.lastLine), open };
    return { open, save: () => store(checkpointFile, next) };
  } finally {
    fs.closeSync(fd);
  }
}

/** The rotated files, oldest first (a file gone meanwhile is skipped). */
function rotatedFiles(dir: LogDir): Buffer[] {
  const out: Buffer[] = [];
  for (const s of rotatedSiblings(dir.at(dir.base)).reverse()) {
    try {
      out.push(readNoFollow(dir, path.basename(s.path)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return out;
}

function readRange(fd: number, from: number, to: number): Buffer {
  const buf = Buffer.alloc(to - from);
  readFully(fd, buf, from);
  return buf;
}

/** A line's SHA-256 (hex); '' for none (an empty file). */
function hashOf(line: Buffer | null): string {
  return line ? crypto.createHash('sha256').update(line).digest('hex') : '';
}

function load(file: string): Checkpoint | null {
  try {
    const parsed = Checkpoint.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function store(file: string, cp: Checkpoint): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(cp), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // Only the next open's speed depends on it.
  }
}
