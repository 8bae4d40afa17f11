// --events FILE: one JSON line per event, appended the moment it happens (one write per line, O_APPEND,
// so a reader tailing the file never sees half a line).
import * as fs from 'node:fs';
import type { RunHandle } from './runner';

export function recordEvents(handle: RunHandle, file: string, meta: Record<string, unknown>): void {
  const fd = fs.openSync(file, 'a');
  const write = (obj: Record<string, unknown>) => fs.writeSync(fd, JSON.stringify({ time: new Date().toISOString(), ...obj }) + '\n');
  handle.on('started', (s) => write({ type: 'run_started', ...meta, ...s }));
  handle.on('limit', (l) => write({ type: 'limit_exceeded', runId: handle.runId, ...l }));
  handle.on('violation', (v) => write({ type: 'violation', ...v }));
  handle.once('finished', (r) => {
    write({ type: 'run_finished', ...r });
    fs.closeSync(fd);
  });
}
