// Recovery of aborted runs: a run_started whose run never finished, written by a process that is provably
// gone, is closed with run_aborted by the next writer that opens the log.
import { parseAuditLine, type AuditWriter } from '../protocol/audit';
import { processLiveness } from '../../native/linux/file-lock';
import { forEachLine } from './lines';

export interface AbortedRun {
  runId: string;
  writer: AuditWriter;
}

/**
 * Runs left open in the chain (files oldest first) whose writer is dead: same host, and the pid is gone, a
 * zombie, from another boot, or now a different process by start time. Runs of live writers, and of
 * writers on other hosts, are left alone.
 */
export function abortedRuns(files: Buffer[]): AbortedRun[] {
  const open = new Map<string, AuditWriter>();
  for (const buf of files) {
    forEachLine(buf, (line) => {
      // Cheap pre-filter: only run_* lines matter, and most lines are violations.
      if (line.indexOf('"type":"run_') < 0) return;
      const p = parseAuditLine(line.toString('utf8'));
      if (!p.ok) return;
      const r = p.record;
      if (r.type === 'run_started') open.set(r.runId, r.writer);
      else if (r.type === 'run_finished' || r.type === 'run_aborted') open.delete(r.runId);
    });
  }
  return [...open].filter(([, w]) => processLiveness(w) === 'dead').map(([runId, writer]) => ({ runId, writer }));
}

export function abortedReason(w: AuditWriter): string {
  return `writer process ${w.pid} on ${w.host} (started ${w.startedAt}) is gone and the run never finished`;
}
