// The Sandbox Monitor refreshes only what changed (monitor-refresh.ts): for a sequence of run updates as the
// run service makes them, which elements the tree fires. An unchanged row is never re-rendered, so a context
// menu open on it (Run Again on a finished run while another run prints) keeps its element.
import * as assert from 'node:assert/strict';
import { MonitorRefreshPlanner, runShown, type RefreshPlan } from '../../../src/extension/views/monitor-refresh';

type Run = { key: string; id: string; label: string; status: string; violations: unknown[]; alerts: unknown[]; limits: unknown[]; notes: unknown[]; policy?: unknown; result?: unknown; error?: unknown };
const run = (key: string): Run => ({ key, id: key, label: `${key}.sh`, status: 'starting', violations: [], alerts: [], limits: [], notes: [] });
const NOTHING: RefreshPlan = { root: false, runs: [] };

describe('extension: Monitor refreshes only the elements that changed', () => {
  it('a run\'s life: the list once when it is added, then only its own row, and nothing for a no-op event', () => {
    const p = new MonitorRefreshPlanner();
    const list: Run[] = [];
    const plan = () => p.plan(list.map(runShown));
    assert.deepEqual(plan(), NOTHING, 'an empty view, nothing to refresh');
    const a = run('a');
    list.unshift(a);
    assert.deepEqual(plan(), { root: true }, 'added: the list changed');
    a.id = 'host-1';
    a.policy = { mode: 'enforce' };
    a.notes.push('in force: mode enforce');
    assert.deepEqual(plan(), { root: false, runs: ['a'] }, 'accepted by the host: its row (id in the tooltip, policy child)');
    assert.deepEqual(plan(), NOTHING, 'the same event again changes nothing on screen');
    a.status = 'running';
    assert.deepEqual(plan(), { root: false, runs: ['a'] });
    a.violations.push({ rule: 'protected' });
    assert.deepEqual(plan(), { root: false, runs: ['a'] }, 'a live violation: its row (count) and children');
    a.result = { exitCode: 0 };
    a.status = 'finished';
    assert.deepEqual(plan(), { root: false, runs: ['a'] });
    assert.deepEqual(plan(), NOTHING, 'the diagnostics linking the audit log after the end re-fire: nothing changes');
  });

  it('updates of a running run never refresh a finished run listed below it (the Run Again race)', () => {
    const p = new MonitorRefreshPlanner();
    const done = { ...run('task'), status: 'finished', result: { exitCode: 0 } };
    const live = run('plain');
    const list = [live, done];
    assert.deepEqual(p.plan(list.map(runShown)), { root: true });
    const fired: string[] = [];
    for (const step of [() => (live.status = 'running'), () => live.violations.push({}), () => live.limits.push({}), () => live.alerts.push({}), () => (live.status = 'finished')]) {
      step();
      const r = p.plan(list.map(runShown));
      assert.equal(r.root, false, 'no whole-list refresh while the list itself is the same');
      if (!r.root) fired.push(...r.runs);
    }
    assert.deepEqual(fired, ['plain', 'plain', 'plain', 'plain', 'plain'], 'only the run that changed, once per change');
  });

  it('the list: a new run, a dropped run or a reorder refreshes the root; a restore that adds nothing does not', () => {
    const p = new MonitorRefreshPlanner();
    const a = run('a');
    const b = run('b');
    assert.deepEqual(p.plan([a, b].map(runShown)), { root: true });
    assert.deepEqual(p.plan([a, b].map(runShown)), NOTHING, 'restore() of runs already listed');
    assert.deepEqual(p.plan([run('c'), a, b].map(runShown)), { root: true }, 'a new run on top');
    assert.deepEqual(p.plan([run('c'), a].map(runShown)), { root: true }, 'the oldest dropped');
    assert.deepEqual(p.plan([a, run('c')].map(runShown)), { root: true }, 'a different order');
  });

  it('two runs changing between two events are both refreshed (a change reported for one cannot hide another)', () => {
    const p = new MonitorRefreshPlanner();
    const a = run('a');
    const b = run('b');
    p.plan([a, b].map(runShown));
    a.status = 'running';
    b.error = { code: 'HOST_FAILED', message: 'x' };
    assert.deepEqual(p.plan([a, b].map(runShown)), { root: false, runs: ['a', 'b'] });
  });
});
