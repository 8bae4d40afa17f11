// Reading lines out of audit files by byte: whole lines, the last complete line, an incomplete tail.
import * as fs from 'node:fs';
import { SandboxError } from '../errors';

const NEWLINE = 0x0a;

export function readFully(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new SandboxError('AUDIT_BROKEN', 'audit file shrank while it was being read');
    off += n;
  }
}

/**
 * The last complete line of the first `size` bytes of fd, and how many bytes follow the last newline (an
 * incomplete line left by a writer that died mid-write). Reads backwards in growing windows.
 */
export function readTail(fd: number, size: number): { lastLine: Buffer | null; tornBytes: number } {
  if (size === 0) return { lastLine: null, tornBytes: 0 };
  for (let window = Math.min(size, 64 * 1024); ; window = Math.min(size, window * 4)) {
    const buf = Buffer.alloc(window);
    readFully(fd, buf, size - window);
    const endNl = buf.lastIndexOf(NEWLINE);
    const atStart = window === size;
    if (endNl < 0) {
      if (atStart) return { lastLine: null, tornBytes: size };
      continue;
    }
    const startNl = endNl > 0 ? buf.lastIndexOf(NEWLINE, endNl - 1) : -1;
    if (startNl < 0 && !atStart) continue;
    return { lastLine: buf.subarray(startNl + 1, endNl), tornBytes: window - 1 - endNl };
  }
}

/** Calls fn for each complete line (without its newline) of buf; returns the offset after the last newline. */
export function forEachLine(buf: Buffer, fn: (line: Buffer, index: number) => void): number {
  let start = 0;
  let index = 0;
  for (;;) {
    const nl = buf.indexOf(NEWLINE, start);
    if (nl < 0) return start;
    fn(buf.subarray(start, nl), index++);
    start = nl + 1;
  }
}

/** Complete lines of buf (without newlines) and the length of an unterminated rest. */
export function splitLines(buf: Buffer): { lines: Buffer[]; rest: number } {
  const lines: Buffer[] = [];
  const end = forEachLine(buf, (line) => lines.push(line));
  return { lines, rest: buf.length - end };
}
