// Recovery of aborted runs: a run_started whose run never finished, written by a process that is provably
// gone, is closed with run_aborted by the next writer that opens the log.
import { parseAuditLine, type AuditWriter } from '../protocol/audit';
import { processLiveness } from '../../native/linux/file-lock';
import { forEachLine } from './lines';

/** A run left open in the chain (its last valid run_* line is a run_started), and who wrote that line. */
export interface OpenRun {
  runId: string;
  writer: AuditWriter;
}

/** A run's state as the backward scan knows it. */
type RunState = { closed: true } | { closed: false; writer: AuditWriter; firstOpenLine: number; final: boolean };

/**
 * Runs left open in the chain (files oldest first) whose writer is dead: same host, and the pid is gone, a
 * zombie, from another boot, or now a different process by start time. Runs of live writers, and of
 * writers on other hosts, are left alone.
 */
export function abortedRuns(files: Buffer[]): OpenRun[] {
  return deadWriters(openRuns(files));
}

/** The runs whose writer is provably gone (see abortedRuns). */
export function deadWriters(open: OpenRun[]): OpenRun[] {
  return open.filter(({ writer }) => processLiveness(writer) === 'dead');
}

/**
 * Every run left open in the chain (files oldest first), whoever wrote it. A run is open when its last
 * valid run_* line is a run_started. The lines are read from the end: the first valid line met for a run
 * decides, and the run's earlier lines need no schema check (the check is most of
 * what opening a long log costs the CLI). Open runs come out in the order their last opening appeared, as a
 * forward scan would give them.
 */
export function openRuns(files: Buffer[]): OpenRun[] {
  const lines: Buffer[] = [];
  for (const buf of files) {
    forEachLine(buf, (line) => {
      // Cheap pre-filter: only run_* lines matter, and most lines are violations.
      if (line.indexOf('"type":"run_') >= 0) lines.push(line);
    });
  }
  const runs = new Map<string, RunState>();
  for (let i = lines.length - 1; i >= 0; i--) {
    const text = lines[i]!.toString('utf8');
    const known = runs.get(cheapRunId(text) ?? '');
    if (known && (known.closed || known.final)) continue; // decided by a later line
    const p = parseAuditLine(text);
    if (!p.ok) continue;
    const r = p.record;
    if (r.type !== 'run_started' && r.type !== 'run_finished' && r.type !== 'run_aborted') continue;
    const state = runs.get(r.runId);
    if (r.type === 'run_started') {
      if (!state) runs.set(r.runId, { closed: false, writer: r.writer, firstOpenLine: i, final: false });
      else if (!state.closed && !state.final) state.firstOpenLine = i; // an earlier opening of the same stretch
    } else if (!state) runs.set(r.runId, { closed: true });
    else if (!state.closed) state.final = true; // the opening stretch starts after this close
  }
  const open: Array<OpenRun & { at: number }> = [];
  for (const [runId, s] of runs) if (!s.closed) open.push({ runId, writer: s.writer, at: s.firstOpenLine });
  open.sort((a, b) => a.at - b.at);
  return open.map(({ runId, writer }) => ({ runId, writer }));
}

/**
 * The open runs once `tail` (whole lines) follows a chain whose open runs were `before` (openRuns' order):
 * a forward scan of the tail's run_* lines, each checked, with the same result as openRuns over the whole.
 */
export function continueOpenRuns(before: OpenRun[], tail: Buffer): OpenRun[] {
  const open = new Map(before.map((r) => [r.runId, r.writer]));
  forEachLine(tail, (line) => {
    if (line.indexOf('"type":"run_') < 0) return;
    const p = parseAuditLine(line.toString('utf8'));
    if (!p.ok) return;
    const r = p.record;
    if (r.type === 'run_started') open.set(r.runId, r.writer);
    else if (r.type === 'run_finished' || r.type === 'run_aborted') open.delete(r.runId);
  });
  return [...open].map(([runId, writer]) => ({ runId, writer }));
}

/** The run id a line names, without the schema check (null: not a plain JSON object with a string runId). */
function cheapRunId(text: string): string | null {
  try {
    const raw: unknown = JSON.parse(text);
    const id = raw && typeof raw === 'object' ? (raw as { runId?: unknown }).runId : undefined;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

export function abortedReason(w: AuditWriter): string {
  return `writer process ${w.pid} on ${w.host} (started ${w.startedAt}) is gone and the run never finished`;
}
