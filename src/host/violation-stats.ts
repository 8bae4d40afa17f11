// Statistics over violations: counts by kind, severity, action and rule, and the most blocked hosts and
// paths. Pure; the monitor answers them for its recent window and `script-sandbox audit stats` for the log.
import type { Violation } from '../policy/violation';

type Kind = Violation['kind'];
type Severity = Violation['severity'];
type Action = Violation['action'];

export interface Count {
  key: string;
  count: number;
}

export interface ViolationStats {
  total: number;
  runs: number;
  byKind: Partial<Record<Kind, number>>;
  bySeverity: Partial<Record<Severity, number>>;
  byAction: Partial<Record<Action, number>>;
  /** Rules, most frequent first (all of them). */
  byRule: Count[];
  /** Blocked or killed network attempts by host (or address), most frequent first, `top` of them. */
  topBlockedHosts: Count[];
  /** Blocked or killed file attempts by path, most frequent first, `top` of them. */
  topBlockedPaths: Count[];
  first?: string;
  last?: string;
}

function bump<K extends string>(m: Partial<Record<K, number>>, k: K): void {
  m[k] = (m[k] ?? 0) + 1;
}

function ranked(m: Map<string, number>, top = Infinity): Count[] {
  return [...m]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, top);
}

export function blockedTarget(v: Violation): { host?: string; path?: string } {
  if (v.action === 'warned') return {};
  if (v.kind === 'network') {
    const h = v.host ?? v.address;
    return h ? { host: v.port != null ? `${h}:${v.port}` : h } : {};
  }
  if (v.kind === 'file') {
    const p = v.resolvedPath ?? v.path;
    return p ? { path: p } : {};
  }
  return {};
}

/** Statistics over a list of violations; shared by the monitor and `script-sandbox audit stats`. */
export function violationStats(vs: Iterable<Violation>, top = 10): ViolationStats {
  const s: ViolationStats = { total: 0, runs: 0, byKind: {}, bySeverity: {}, byAction: {}, byRule: [], topBlockedHosts: [], topBlockedPaths: [] };
  const rules = new Map<string, number>();
  const hosts = new Map<string, number>();
  const paths = new Map<string, number>();
  const runs = new Set<string>();
  let first = Infinity;
  let last = -Infinity;
  for (const v of vs) {
    s.total++;
    runs.add(v.runId);
    bump(s.byKind, v.kind);
    bump(s.bySeverity, v.severity);
    bump(s.byAction, v.action);
    rules.set(v.rule, (rules.get(v.rule) ?? 0) + 1);
    const t = blockedTarget(v);
    if (t.host) hosts.set(t.host, (hosts.get(t.host) ?? 0) + 1);
    if (t.path) paths.set(t.path, (paths.get(t.path) ?? 0) + 1);
    const ms = Date.parse(v.time);
    if (Number.isFinite(ms)) {
      first = Math.min(first, ms);
      last = Math.max(last, ms);
    }
  }
  s.runs = runs.size;
  s.byRule = ranked(rules);
  s.topBlockedHosts = ranked(hosts, top);
  s.topBlockedPaths = ranked(paths, top);
  if (Number.isFinite(first)) s.first = new Date(first).toISOString();
  if (Number.isFinite(last)) s.last = new Date(last).toISOString();
  return s;
}
