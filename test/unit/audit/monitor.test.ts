import * as assert from 'node:assert/strict';
import { Monitor, attachMonitor, limitToViolation, violationStats, type Alert } from '../../../src/host/monitor';
import { RunHandle } from '../../../src/host/run-handle';
import { violation } from './fixtures';

const MIN = 60_000;

function clock(start = Date.UTC(2025, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = start + ms) };
}

describe('monitor: alert threshold', function () {
  it('fires exactly at the third violation inside 5 minutes', function () {
    const c = clock();
    const m = new Monitor({ now: c.now });
    const seen: Alert[] = [];
    m.onAlert((a) => seen.push(a));
    assert.deepEqual(m.record(violation()), []);
    c.advance(2 * MIN);
    assert.deepEqual(m.record(violation()), []);
    c.advance(2 * MIN + 59_999); // 4:59.999 after the first
    const fired = m.record(violation({ message: 'third' }));
    assert.equal(fired.length, 1);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.reason, 'threshold');
    assert.equal(seen[0]!.count, 3);
    assert.equal(seen[0]!.windowMs, 5 * MIN);
    assert.match(seen[0]!.message, /^3 violations within 5 min; latest: third$/);
    assert.equal(seen[0]!.time, new Date(c.now()).toISOString());
  });

  it('does not fire for three violations spread wider than the window (boundary: exactly 5 minutes is outside)', function () {
    const c = clock();
    const m = new Monitor({ now: c.now });
    let alerts = 0;
    m.onAlert(() => alerts++);
    m.record(violation());
    c.advance(2.5 * MIN);
    m.record(violation());
    c.advance(2.5 * MIN); // exactly 5:00 after the first: it has left the window
    m.record(violation());
    c.advance(2.6 * MIN);
    m.record(violation()); // the 2nd is now 5:06 old: the window holds the 3rd and this one
    assert.equal(alerts, 0);
    c.advance(1000);
    m.record(violation()); // 3rd, 4th, 5th within 2.6 min: fires
    assert.equal(alerts, 1);
  });

  it('starts counting again after an alert: one alert per threshold violations in a flood', function () {
    const c = clock();
    const m = new Monitor({ now: c.now });
    const fired = Array.from({ length: 9 }, () => {
      c.advance(1000);
      return m.record(violation()).length;
    });
    assert.deepEqual(fired, [0, 0, 1, 0, 0, 1, 0, 0, 1]);
  });

  it('alerts at once for a critical violation, and restarts the count', function () {
    const c = clock();
    const m = new Monitor({ now: c.now });
    m.record(violation());
    const a = m.record(violation({ severity: 'critical', kind: 'network', host: '169.254.169.254', message: 'Blocked connect to 169.254.169.254:80 — cloud metadata' }));
    assert.equal(a.length, 1);
    assert.equal(a[0]!.reason, 'critical');
    assert.match(a[0]!.message, /^Critical: Blocked connect to 169\.254\.169\.254/);
    assert.equal(a[0]!.violations.at(-1)!.severity, 'critical');
    assert.deepEqual(m.record(violation()), []); // count restarted
    assert.deepEqual(m.record(violation()), []);
    assert.equal(m.record(violation()).length, 1);
  });

  it('takes configured thresholds, window, critical predicate and per-run scope', function () {
    const c = clock();
    const m = new Monitor({ now: c.now, threshold: 2, windowMs: 10_000, criticalAtOnce: false });
    assert.deepEqual(m.record(violation({ severity: 'critical' })), []);
    c.advance(9_999);
    assert.equal(m.record(violation()).length, 1);
    c.advance(5_000);
    m.record(violation());
    c.advance(10_000);
    assert.deepEqual(m.record(violation()), [], 'the previous one left the 10 s window');

    const perRun = new Monitor({ now: c.now, scope: 'run' });
    const all = new Monitor({ now: c.now });
    for (const runId of ['a', 'b', 'c']) {
      assert.deepEqual(perRun.record(violation({ runId })), []);
      all.record(violation({ runId }));
    }
    assert.equal(all.alerts().length, 1);
    assert.deepEqual(all.alerts()[0]!.runIds, ['a', 'b', 'c']);
    perRun.record(violation({ runId: 'a' }));
    assert.equal(perRun.record(violation({ runId: 'a' })).length, 1);

    const custom = new Monitor({ now: c.now, isCritical: (v) => v.kind === 'syscall' });
    assert.equal(custom.record(violation({ kind: 'syscall', syscall: 'ptrace', severity: 'error' }))[0]!.reason, 'critical');
    assert.throws(() => new Monitor({ threshold: 0 }), RangeError);
  });

  it('a throwing handler neither stops other handlers nor the monitor', function () {
    const c = clock();
    const errors: Array<[unknown, string]> = [];
    const m = new Monitor({ now: c.now, onHandlerError: (e, which) => errors.push([e, which]) });
    const got: string[] = [];
    m.onEvent(() => {
      throw new Error('event handler broke');
    });
    m.onEvent((e) => got.push(`event ${e.seq}`));
    m.onAlert(() => {
      throw new Error('alert handler broke');
    });
    m.onAlert((a) => got.push(`alert ${a.id}`));
    for (let i = 0; i < 3; i++) m.record(violation());
    assert.deepEqual(got, ['event 1', 'event 2', 'event 3', 'alert 1']);
    assert.equal(errors.length, 4);
    assert.deepEqual(errors.map(([, w]) => w), ['event', 'event', 'event', 'alert']);
    const throwingReporter = new Monitor({ now: c.now, onHandlerError: () => { throw new Error('reporter broke'); } });
    throwingReporter.onEvent(() => { throw new Error('x'); });
    assert.doesNotThrow(() => throwingReporter.record(violation()));
    const d = m.onEvent(() => got.push('late'));
    d.dispose();
    m.record(violation());
    assert.ok(!got.includes('late'));
  });
});

describe('monitor: events, filters, statistics', function () {
  function seeded() {
    const c = clock();
    const m = new Monitor({ now: c.now, threshold: 1000 });
    const at = (min: number) => new Date(Date.UTC(2025, 0, 1, 10, min)).toISOString();
    m.record(violation({ runId: 'r1', time: at(0), kind: 'file', severity: 'error', action: 'blocked', path: '/etc/passwd', resolvedPath: '/etc/passwd', rule: 'system-path' }));
    m.record(violation({ runId: 'r1', time: at(1), kind: 'network', severity: 'critical', action: 'blocked', host: '169.254.169.254', port: 80, rule: 'metadata' }));
    m.record(violation({ runId: 'r2', time: at(2), kind: 'network', severity: 'warning', action: 'warned', host: 'example.com', port: 443, rule: 'host-not-allowed' }));
    m.record(violation({ runId: 'r2', time: at(3), kind: 'network', severity: 'error', action: 'blocked', address: '10.0.0.5', port: 22, rule: 'blocked-port' }));
    m.record(violation({ runId: 'r2', time: at(4), kind: 'network', severity: 'critical', action: 'blocked', host: '169.254.169.254', port: 80, rule: 'metadata' }));
    m.record(violation({ runId: 'r3', time: at(5), kind: 'syscall', severity: 'critical', action: 'killed', syscall: 'ptrace', rule: 'seccomp:deny ptrace', path: undefined }));
    m.record(violation({ runId: 'r3', time: at(6), kind: 'file', severity: 'info', action: 'blocked', path: '/etc/passwd', rule: 'system-path' }));
    return { m, at };
  }

  it('filters by kind, severity, action, run, rule and time range', function () {
    const { m, at } = seeded();
    assert.equal(m.events().length, 7);
    assert.equal(m.events({ kinds: ['network'] }).length, 4);
    assert.equal(m.events({ severities: ['critical'] }).length, 3);
    assert.equal(m.events({ minSeverity: 'error' }).length, 5);
    assert.equal(m.events({ actions: ['warned'] }).length, 1);
    assert.equal(m.events({ runId: 'r2' }).length, 3);
    assert.equal(m.events({ runId: ['r1', 'r3'] }).length, 4);
    assert.equal(m.events({ rule: 'metadata' }).length, 2);
    assert.deepEqual(m.events({ since: at(2), until: at(4) }).map((v) => v.time), [at(2), at(3), at(4)]);
    assert.equal(m.events({ since: new Date(at(5)) }).length, 2);
    assert.equal(m.events({ kinds: ['network'], severities: ['critical'], runId: 'r2' }).length, 1);
    assert.deepEqual(m.runs().map((r) => [r.runId, r.count]), [['r1', 2], ['r2', 3], ['r3', 2]]);
  });

  it('counts by kind, severity, action and rule, and ranks blocked hosts and paths', function () {
    const { m } = seeded();
    const s = m.stats();
    assert.equal(s.total, 7);
    assert.equal(s.runs, 3);
    assert.deepEqual(s.byKind, { file: 2, network: 4, syscall: 1 });
    assert.deepEqual(s.bySeverity, { error: 2, critical: 3, warning: 1, info: 1 });
    assert.deepEqual(s.byAction, { blocked: 5, warned: 1, killed: 1 });
    assert.deepEqual(s.byRule[0], { key: 'metadata', count: 2 });
    assert.deepEqual(s.topBlockedHosts, [{ key: '169.254.169.254:80', count: 2 }, { key: '10.0.0.5:22', count: 1 }]);
    assert.deepEqual(s.topBlockedPaths, [{ key: '/etc/passwd', count: 2 }]);
    assert.equal(s.first, '2025-01-01T10:00:00.000Z');
    assert.equal(s.last, '2025-01-01T10:06:00.000Z');
    assert.equal(m.stats({ runId: 'r2' }).total, 3);
    assert.deepEqual(violationStats([], 5).topBlockedHosts, []);
  });

  it('keeps memory bounded: only the last maxEvents violations are stored', function () {
    const m = new Monitor({ maxEvents: 5, threshold: 1000 });
    for (let i = 0; i < 8; i++) m.record(violation({ message: `m${i}` }));
    assert.deepEqual(m.events().map((v) => v.message), ['m3', 'm4', 'm5', 'm6', 'm7']);
    assert.equal(m.dropped, 3);
    assert.equal(m.stats().dropped, 3);
    m.clear();
    assert.equal(m.events().length, 0);
  });

  it('takes a run\'s violations and limit events from its RunHandle', function () {
    const m = new Monitor({ threshold: 1000 });
    const h = new RunHandle('run-x');
    const sub = attachMonitor(h, m);
    h.emit('violation', violation({ runId: 'run-x' }));
    h.emit('limit', { limit: 'cpu', observed: 3, max: 2, action: 'killed', message: 'CPU time limit 2 s reached' });
    sub.dispose();
    h.emit('violation', violation({ runId: 'run-x' }));
    const evs = m.events({ runId: 'run-x' });
    assert.equal(evs.length, 2);
    assert.deepEqual([evs[1]!.kind, evs[1]!.action, evs[1]!.limit, evs[1]!.rule], ['resource', 'killed', 'cpu', 'limit:cpu']);
    assert.equal(limitToViolation('r', { limit: 'openFiles', observed: 9, max: 8, action: 'denied', message: 'x' }).action, 'blocked');
  });
});
