// The runtime monitor: keeps recent violations (per run and across runs), answers filters and statistics,
// and raises alerts. Alert rule from the origin spec: `threshold` violations (default 3) inside `windowMs`
// (default 5 minutes) raise an alert; a critical violation alerts at once. After an alert the count starts
// again, so a flood gives one alert per `threshold` violations rather than one per violation.
// Handlers are plain subscribers; one that throws is reported to onHandlerError and never stops the others.
// Memory is bounded: the last `maxEvents` violations are kept (older ones only count in `dropped`).
import type { Violation } from '../policy/violation';
import type { RunHandle } from './run-handle';
import type { LimitEvent } from '../protocol/run-events';
import type { Alert } from '../protocol/host';
import { violationStats, type ViolationStats } from './violation-stats';

export { blockedTarget, violationStats, type Count, type ViolationStats } from './violation-stats';

type Kind = Violation['kind'];
type Severity = Violation['severity'];
type Action = Violation['action'];

export interface Disposable {
  dispose(): void;
}

export interface MonitorOptions {
  /** Violations inside the window that raise an alert. Default 3. */
  threshold?: number;
  /** Window length, ms. Default 5 minutes. An event exactly windowMs old has left the window. */
  windowMs?: number;
  /** Critical violations alert at once. Default true. */
  criticalAtOnce?: boolean;
  /** Which violations are critical. Default: severity 'critical'. */
  isCritical?: (v: Violation) => boolean;
  /** Which violations count toward the threshold. Default: all. */
  counts?: (v: Violation) => boolean;
  /** One window across all runs ('all', default) or one per run ('run'). */
  scope?: 'all' | 'run';
  /** Violations kept for queries and statistics. Default 10,000. */
  maxEvents?: number;
  /** Clock, ms since the epoch (tests inject one). */
  now?: () => number;
  /** Where a throwing handler's error goes. Default: ignored. */
  onHandlerError?: (error: unknown, handler: 'event' | 'alert') => void;
}

export interface MonitorEvent {
  /** Order of arrival, from 1. */
  seq: number;
  /** Monitor clock when it arrived (the alert window runs on this). */
  receivedAt: number;
  /** The violation's own time, ms (receivedAt when its time does not parse). Filters use this. */
  time: number;
  violation: Violation;
}

export type { Alert };

export interface MonitorFilter {
  kinds?: Kind[];
  severities?: Severity[];
  /** Severity at least this (info < warning < error < critical). */
  minSeverity?: Severity;
  actions?: Action[];
  runId?: string | string[];
  rule?: string;
  /** Inclusive bounds on the violation's time: ms, ISO string or Date. */
  since?: number | string | Date;
  until?: number | string | Date;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

function toMs(t: number | string | Date): number {
  if (typeof t === 'number') return t;
  if (t instanceof Date) return t.getTime();
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${t}`);
  return ms;
}


/** A limit event as a violation of kind 'resource', so the monitor counts and shows it like the others. */
export function limitToViolation(runId: string, l: LimitEvent, time: string = new Date().toISOString()): Violation {
  return {
    runId,
    time,
    kind: 'resource',
    action: l.action === 'killed' ? 'killed' : l.action === 'denied' ? 'blocked' : 'warned',
    severity: l.action === 'reported' ? 'warning' : 'error',
    limit: l.limit,
    rule: `limit:${l.limit}`,
    message: l.message,
  };
}

export class Monitor {
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly criticalAtOnce: boolean;
  private readonly isCritical: (v: Violation) => boolean;
  private readonly counts: (v: Violation) => boolean;
  private readonly scope: 'all' | 'run';
  private readonly maxEvents: number;
  private readonly now: () => number;
  private readonly onHandlerError: (error: unknown, handler: 'event' | 'alert') => void;

  // Ring buffer of the last maxEvents events.
  private readonly ring: Array<MonitorEvent | undefined>;
  private start = 0;
  private size = 0;
  private seq = 0;
  private droppedCount = 0;
  private alertId = 0;
  private readonly recentAlerts: Alert[] = [];
  /** Per scope key: events counting toward the threshold, oldest first, all inside the window. */
  private readonly windows = new Map<string, MonitorEvent[]>();
  private readonly eventHandlers = new Set<(e: MonitorEvent) => void>();
  private readonly alertHandlers = new Set<(a: Alert) => void>();

  constructor(opts: MonitorOptions = {}) {
    this.threshold = opts.threshold ?? 3;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
    if (!Number.isInteger(this.threshold) || this.threshold < 1) throw new RangeError(`threshold must be a whole number ≥ 1, got ${this.threshold}`);
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${this.windowMs}`);
    this.criticalAtOnce = opts.criticalAtOnce ?? true;
    this.isCritical = opts.isCritical ?? ((v) => v.severity === 'critical');
    this.counts = opts.counts ?? (() => true);
    this.scope = opts.scope ?? 'all';
    this.maxEvents = Math.max(1, opts.maxEvents ?? 10_000);
    this.now = opts.now ?? Date.now;
    this.onHandlerError = opts.onHandlerError ?? (() => undefined);
    this.ring = new Array(this.maxEvents);
  }

  /** Subscribes to every violation as it is recorded. */
  onEvent(handler: (e: MonitorEvent) => void): Disposable {
    this.eventHandlers.add(handler);
    return { dispose: () => void this.eventHandlers.delete(handler) };
  }

  /** Subscribes to alerts. */
  onAlert(handler: (a: Alert) => void): Disposable {
    this.alertHandlers.add(handler);
    return { dispose: () => void this.alertHandlers.delete(handler) };
  }

  /** Records a violation; returns the alerts it raised (also delivered to subscribers). */
  record(v: Violation): Alert[] {
    const receivedAt = this.now();
    const parsed = Date.parse(v.time);
    const ev: MonitorEvent = { seq: ++this.seq, receivedAt, time: Number.isFinite(parsed) ? parsed : receivedAt, violation: v };
    this.store(ev);
    this.deliver(this.eventHandlers, ev, 'event');

    const alerts: Alert[] = [];
    const key = this.scope === 'run' ? v.runId : '';
    const win = this.window(key, receivedAt);
    if (this.counts(v)) win.push(ev);
    if (this.criticalAtOnce && this.isCritical(v)) {
      alerts.push(this.alert('critical', win.includes(ev) ? win : [...win, ev], `Critical: ${v.message}`));
      win.length = 0;
    } else if (win.length >= this.threshold) {
      const mins = this.windowMs >= 60_000 ? `${+(this.windowMs / 60_000).toFixed(1)} min` : `${+(this.windowMs / 1000).toFixed(1)} s`;
      alerts.push(this.alert('threshold', win, `${win.length} violations within ${mins}; latest: ${v.message}`));
      win.length = 0;
    }
    if (!win.length) this.windows.delete(key);
    for (const a of alerts) {
      this.recentAlerts.push(a);
      if (this.recentAlerts.length > 100) this.recentAlerts.shift();
      this.deliver(this.alertHandlers, a, 'alert');
    }
    return alerts;
  }

  /** Stored violations matching the filter, oldest first. */
  events(filter: MonitorFilter = {}): Violation[] {
    return this.matching(filter).map((e) => e.violation);
  }

  /** Stored events (with arrival data) matching the filter, oldest first. */
  entries(filter: MonitorFilter = {}): MonitorEvent[] {
    return this.matching(filter);
  }

  stats(filter: MonitorFilter = {}, top = 10): ViolationStats & { dropped: number } {
    return { ...violationStats(this.events(filter), top), dropped: this.droppedCount };
  }

  /** Runs with stored violations: count and first/last time, in order of first appearance. */
  runs(): Array<{ runId: string; count: number; first: string; last: string }> {
    const m = new Map<string, { runId: string; count: number; first: number; last: number }>();
    for (const e of this.all()) {
      const r = m.get(e.violation.runId) ?? { runId: e.violation.runId, count: 0, first: e.time, last: e.time };
      r.count++;
      r.first = Math.min(r.first, e.time);
      r.last = Math.max(r.last, e.time);
      m.set(r.runId, r);
    }
    return [...m.values()].map((r) => ({ ...r, first: new Date(r.first).toISOString(), last: new Date(r.last).toISOString() }));
  }

  /** The last 100 alerts, oldest first. */
  alerts(): Alert[] {
    return [...this.recentAlerts];
  }

  /** Violations no longer stored because of maxEvents. */
  get dropped(): number {
    return this.droppedCount;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.size = 0;
    this.windows.clear();
    this.recentAlerts.length = 0;
  }

  dispose(): void {
    this.clear();
    this.eventHandlers.clear();
    this.alertHandlers.clear();
  }

  private store(ev: MonitorEvent): void {
    if (this.size < this.maxEvents) {
      this.ring[(this.start + this.size) % this.maxEvents] = ev;
      this.size++;
    } else {
      this.ring[this.start] = ev;
      this.start = (this.start + 1) % this.maxEvents;
      this.droppedCount++;
    }
  }

  private *all(): Generator<MonitorEvent> {
    for (let i = 0; i < this.size; i++) yield this.ring[(this.start + i) % this.maxEvents]!;
  }

  private matching(f: MonitorFilter): MonitorEvent[] {
    const kinds = f.kinds && new Set(f.kinds);
    const sev = f.severities && new Set(f.severities);
    const actions = f.actions && new Set(f.actions);
    const runs = f.runId === undefined ? null : new Set(Array.isArray(f.runId) ? f.runId : [f.runId]);
    const min = f.minSeverity ? SEVERITY_RANK[f.minSeverity] : -1;
    const since = f.since === undefined ? -Infinity : toMs(f.since);
    const until = f.until === undefined ? Infinity : toMs(f.until);
    const out: MonitorEvent[] = [];
    for (const e of this.all()) {
      const v = e.violation;
      if (kinds && !kinds.has(v.kind)) continue;
      if (sev && !sev.has(v.severity)) continue;
      if (actions && !actions.has(v.action)) continue;
      if (runs && !runs.has(v.runId)) continue;
      if (SEVERITY_RANK[v.severity] < min) continue;
      if (f.rule !== undefined && v.rule !== f.rule) continue;
      if (e.time < since || e.time > until) continue;
      out.push(e);
    }
    return out;
  }

  /** The window for a key, with events that are windowMs old or older removed. */
  private window(key: string, now: number): MonitorEvent[] {
    let win = this.windows.get(key);
    if (!win) {
      win = [];
      this.windows.set(key, win);
      // Per-run scope: forget windows of runs that went quiet, so the map does not grow with every run.
      if (this.windows.size > 1000) {
        for (const [k, w] of this.windows) if (k !== key && (!w.length || now - w[w.length - 1]!.receivedAt >= this.windowMs)) this.windows.delete(k);
      }
    }
    while (win.length && now - win[0]!.receivedAt >= this.windowMs) win.shift();
    return win;
  }

  private alert(reason: Alert['reason'], events: MonitorEvent[], message: string): Alert {
    return {
      id: ++this.alertId,
      time: new Date(this.now()).toISOString(),
      reason,
      message,
      count: events.length,
      windowMs: this.windowMs,
      runIds: [...new Set(events.map((e) => e.violation.runId))],
      violations: events.map((e) => e.violation),
    };
  }

  private deliver<T>(handlers: Set<(x: T) => void>, x: T, which: 'event' | 'alert'): void {
    for (const h of [...handlers]) {
      try {
        h(x);
      } catch (e) {
        try {
          this.onHandlerError(e, which);
        } catch {
          // the error reporter itself failed; the monitor goes on
        }
      }
    }
  }
}

/** Feeds a run's violations and limit events into a monitor. */
export function attachMonitor(handle: RunHandle, monitor: Monitor): Disposable {
  const onViolation = (v: Violation) => void monitor.record(v);
  const onLimit = (l: LimitEvent) => void monitor.record(limitToViolation(handle.runId, l));
  handle.on('violation', onViolation);
  handle.on('limit', onLimit);
  return {
    dispose() {
      handle.off('violation', onViolation);
      handle.off('limit', onLimit);
    },
  };
}
