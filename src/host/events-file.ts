// --events FILE: one JSON line per event, appended the moment it happens (one write per line, O_APPEND,
// so a reader tailing the file never sees half a line).
import * as fs from 'node:fs';
import type { RunHandle } from './run-handle';
import { SandboxError } from '../errors';

/** Opens the events file before the run starts, so a bad path fails the command, not a running script. */
export function openEventsFile(file: string): number {
  try {
    return fs.openSync(file, 'a');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SandboxError('IO_FAILED', `cannot open the events file ${file}: ${err.code ?? err.message}`, { call: 'open', errno: typeof err.errno === 'number' ? -err.errno : undefined });
  }
}

export function recordEvents(handle: RunHandle, file: string | number, meta: Record<string, unknown>): void {
  const fd = typeof file === 'number' ? file : openEventsFile(file);
  const write = (obj: Record<string, unknown>) => fs.writeSync(fd, JSON.stringify({ time: new Date().toISOString(), ...obj }) + '\n');
  handle.on('started', (s) => write({ type: 'run_started', ...meta, ...s }));
  handle.on('limit', (l) => write({ type: 'limit_exceeded', runId: handle.runId, ...l }));
  handle.on('violation', (v) => write({ type: 'violation', ...v }));
  handle.once('finished', (r) => {
    write({ type: 'run_finished', ...r });
    fs.closeSync(fd);
  });
}
