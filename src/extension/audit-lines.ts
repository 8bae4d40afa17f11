// Where each violation of a run is recorded in the audit log text: the line of its own `violation` record,
// else the line of the run's `run_started` record. Pure, so unit-tested; diagnostics.ts turns the lines
// into related information ("recorded in the audit log, line N").
import type { Violation } from '../policy/violation';

type Key = Pick<Violation, 'runId' | 'time' | 'rule' | 'kind'>;
const keyOf = (v: Key) => `${v.runId}\u0000${v.time}\u0000${v.kind}\u0000${v.rule}`;

/** 0-based line numbers, one per violation in order; undefined where the run is not in this text. */
export function auditLinesFor(text: string, violations: readonly Key[]): Array<number | undefined> {
  const runs = new Set(violations.map((v) => v.runId));
  const recorded = new Map<string, number[]>();
  const started = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    // Cheap filter first: a log holds many runs, and only this run's lines are parsed.
    if (!l.includes('"runId"') || ![...runs].some((r) => l.includes(JSON.stringify(r)))) continue;
    let rec: { type?: string; runId?: string; violation?: Key };
    try {
      rec = JSON.parse(l) as typeof rec;
    } catch {
      continue; // a torn last line (a writer killed mid-write) is not a record
    }
    if (rec.type === 'run_started' && rec.runId && !started.has(rec.runId)) started.set(rec.runId, i);
    if (rec.type === 'violation' && rec.violation) {
      const k = keyOf({ ...rec.violation, runId: rec.runId ?? rec.violation.runId });
      recorded.set(k, [...(recorded.get(k) ?? []), i]);
    }
  }
  // Two identical violations (same time, kind and rule) take their records in order.
  return violations.map((v) => recorded.get(keyOf(v))?.shift() ?? started.get(v.runId));
}
