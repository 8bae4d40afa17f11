// Settings layering without VS Code: the user's values (or the defaults), then each workspace value that
// only tightens them, judged by the policy's own resolvePolicy + looserFields; a task's mode/profile the same
// way over the settings and .vscode/sandbox.json.
import * as assert from 'node:assert/strict';
import {
  DEFAULT_SOURCE,
  USER_SOURCE,
  SettingsError,
  auditPathIn,
  describeIgnored,
  describeOrigin,
  isInside,
  layerAlerts,
  layerSettings,
  layerTask,
  type InspectedSetting,
  type PolicySetting,
  type Source,
} from '../../../src/extension/settings-layers';

const ctx = { workspace: '/ws', home: '/home/u' };
const WS: Source = { kind: 'workspace', label: 'workspace', detail: 'workspace settings /ws/.vscode/settings.json' };
const FOLDER: Source = { kind: 'workspace', label: 'folder', detail: 'folder settings /ws/.vscode/settings.json' };
const TASK: Source = { kind: 'task', label: 'task', detail: 'task "build"' };

/** The package.json defaults, plus user values and workspace values. */
function settings(user: Partial<Record<PolicySetting, unknown>>, ws: Partial<Record<PolicySetting, unknown>>, wsSource = WS): Partial<Record<PolicySetting, InspectedSetting>> {
  const defaults: Partial<Record<PolicySetting, unknown>> = { mode: 'enforce', profile: 'moderate' };
  const out: Partial<Record<PolicySetting, InspectedSetting>> = {};
  for (const k of new Set([...Object.keys(defaults), ...Object.keys(user), ...Object.keys(ws)]) as Set<PolicySetting>) {
    out[k] = {
      ...(k in user ? { user: { value: user[k], source: USER_SOURCE } } : k in defaults ? { user: { value: defaults[k], source: DEFAULT_SOURCE } } : {}),
      ...(k in ws ? { workspace: { value: ws[k], source: wsSource } } : {}),
    };
  }
  return out;
}

describe('extension: settings layering (a workspace may only tighten)', () => {
  describe('mode: disabled < warn < enforce, the workspace may only raise it', () => {
    const cases: Array<[string, string, string]> = [
      // user, workspace, effective
      ['enforce', 'disabled', 'enforce'],
      ['enforce', 'warn', 'enforce'],
      ['warn', 'disabled', 'warn'],
      ['warn', 'enforce', 'enforce'],
      ['disabled', 'warn', 'warn'],
      ['disabled', 'enforce', 'enforce'],
      ['enforce', 'enforce', 'enforce'],
    ];
    for (const [user, ws, want] of cases) {
      it(`user ${user}, workspace ${ws} → ${want}`, () => {
        const l = layerSettings(settings({ mode: user }, { mode: ws }), ctx);
        assert.equal(l.mode, want);
        assert.equal(l.layer.mode, want);
        assert.equal(l.user.mode, user);
        const loosens = ws !== want;
        assert.equal(l.ignored.length, loosens ? 1 : 0, JSON.stringify(l.ignored));
        if (loosens) {
          assert.equal(l.ignored[0]!.setting, 'scriptSandbox.mode');
          assert.equal(l.ignored[0]!.source, WS);
          assert.deepEqual(l.ignored[0]!.looser, [`mode (${user} → ${ws})`]);
          assert.equal(describeOrigin(l.origins.mode), `${user} (user)`);
        } else if (ws !== user) {
          assert.equal(describeOrigin(l.origins.mode), `${want} (workspace, tightened)`);
        }
      });
    }
    it('the default counts as the user\'s value', () => {
      const l = layerSettings(settings({}, { mode: 'disabled' }), ctx);
      assert.equal(l.mode, 'enforce');
      assert.equal(describeOrigin(l.origins.mode), 'enforce (default)');
      assert.match(describeIgnored(l.ignored[0]!), /scriptSandbox\.mode = "disabled" from workspace settings \/ws\/\.vscode\/settings\.json: .*mode \(enforce → disabled\)/);
    });
  });

  describe('profile: permissive < moderate < strict', () => {
    const cases: Array<[string, string, string]> = [
      ['moderate', 'permissive', 'moderate'],
      ['strict', 'moderate', 'strict'],
      ['strict', 'permissive', 'strict'],
      ['moderate', 'strict', 'strict'],
      ['permissive', 'moderate', 'moderate'],
      ['permissive', 'strict', 'strict'],
    ];
    for (const [user, ws, want] of cases) {
      it(`user ${user}, workspace ${ws} → ${want}`, () => {
        const l = layerSettings(settings({ profile: user }, { profile: ws }, FOLDER), ctx);
        assert.equal(l.profile, want);
        assert.equal(l.ignored.length, ws === want ? 0 : 1);
        if (ws === want) assert.equal(describeOrigin(l.origins.profile), `${want} (folder, tightened)`);
      });
    }
  });

  describe('limits: smaller only', () => {
    it('a smaller limit is taken, a larger one is not', () => {
      const l = layerSettings(settings({ 'limits.memoryMiB': 1024, 'limits.cpuSeconds': 60 }, { 'limits.memoryMiB': 512, 'limits.cpuSeconds': 600 }), ctx);
      assert.equal(l.layer.limits?.memoryMiB, 512);
      assert.equal(l.layer.limits?.cpuSeconds, 60);
      assert.deepEqual(
        l.ignored.map((i) => [i.setting, i.looser]),
        [['scriptSandbox.limits.cpuSeconds', ['limits.cpuSeconds (60 → 600)']]],
      );
    });
    it('a limit the user left to the profile can only go below the profile\'s', () => {
      const l = layerSettings(settings({ profile: 'strict' }, { 'limits.memoryMiB': 1_000_000, 'limits.maxProcesses': 4 }), ctx);
      assert.equal(l.layer.limits?.memoryMiB, undefined);
      assert.equal(l.layer.limits?.maxProcesses, 4);
      assert.equal(l.ignored[0]!.setting, 'scriptSandbox.limits.memoryMiB');
    });
    it('a workspace profile change is the base its limits are compared on', () => {
      // strict is taken first; a limit above strict's (but below moderate's) is then a loosening.
      const l = layerSettings(settings({}, { profile: 'strict', 'limits.memoryMiB': 100_000 }), ctx);
      assert.equal(l.profile, 'strict');
      assert.deepEqual(l.ignored.map((i) => i.setting), ['scriptSandbox.limits.memoryMiB']);
    });
  });

  describe('filesystem and network', () => {
    it('more denies are added to the user\'s, new allows are ignored', () => {
      const l = layerSettings(
        settings(
          { 'filesystem.denyRead': ['~/secrets'], 'filesystem.allowWrite': ['~/out'] },
          { 'filesystem.denyRead': ['~/more'], 'filesystem.allowWrite': ['~'], 'filesystem.allowRead': ['/srv'], 'filesystem.denyWrite': ['docs'] },
        ),
        ctx,
      );
      assert.deepEqual(l.layer.filesystem?.denyRead, ['~/secrets', '~/more']);
      assert.deepEqual(l.layer.filesystem?.allowWrite, ['~/out']);
      assert.equal(l.layer.filesystem?.allowRead, undefined);
      assert.deepEqual(l.layer.filesystem?.denyWrite, ['docs']);
      assert.deepEqual(l.ignored.map((i) => i.setting).sort(), ['scriptSandbox.filesystem.allowRead', 'scriptSandbox.filesystem.allowWrite']);
    });
    it('readOnly: true is taken, false under the user\'s true is not', () => {
      assert.equal(layerSettings(settings({}, { 'filesystem.readOnly': true }), ctx).layer.filesystem?.readOnly, true);
      const l = layerSettings(settings({ 'filesystem.readOnly': true }, { 'filesystem.readOnly': false }), ctx);
      assert.equal(l.layer.filesystem?.readOnly, true);
      assert.equal(l.ignored.length, 1);
    });
    it('network: a stricter preset and more denied hosts are taken; a looser preset, allowed hosts and addresses are not', () => {
      const l = layerSettings(
        settings(
          { 'network.preset': 'strict', 'network.denyHosts': ['a.example'] },
          { 'network.denyHosts': ['b.example'], 'network.allowHosts': ['evil.example'], 'network.allowAddresses': ['10.0.0.0/8'], 'network.preset': 'default' },
        ),
        ctx,
      );
      assert.equal(l.layer.network?.preset, 'strict');
      assert.deepEqual(l.layer.network?.denyHosts, ['a.example', 'b.example']);
      assert.equal(l.layer.network?.allowHosts, undefined);
      assert.equal(l.layer.network?.allowAddresses, undefined);
      assert.deepEqual(l.ignored.map((i) => i.setting).sort(), ['scriptSandbox.network.allowAddresses', 'scriptSandbox.network.allowHosts', 'scriptSandbox.network.preset']);
      assert.equal(layerSettings(settings({}, { 'network.preset': 'none' }), ctx).layer.network?.preset, 'none');
    });
    it('env: more secret patterns are taken, more passed-through variables are not', () => {
      const l = layerSettings(settings({}, { 'env.secretPatterns': ['^MY_'], 'env.allow': ['AWS_*'] }), ctx);
      assert.deepEqual(l.layer.env?.secretPatterns, ['^MY_']);
      assert.equal(l.layer.env?.allow, undefined);
      assert.deepEqual(l.ignored.map((i) => i.setting), ['scriptSandbox.env.allow']);
    });
    it('without workspace values the layer is the user\'s', () => {
      const l = layerSettings(settings({ profile: 'permissive', 'limits.cpuSeconds': 5 }, {}), ctx);
      assert.deepEqual(l.layer, l.user);
      assert.deepEqual(l.ignored, []);
    });
  });

  it('a bad value names the setting and where it is set', () => {
    assert.throws(() => layerSettings(settings({}, { 'limits.cpuSeconds': -1 }), ctx), (e: Error) => e instanceof SettingsError && /scriptSandbox\.limits\.cpuSeconds.*workspace settings/.test(e.message));
    assert.throws(() => layerSettings(settings({}, { 'network.denyHosts': ['not a host!'] }), ctx), (e: Error) => e instanceof SettingsError && /network\.denyHosts/.test(e.message));
    assert.throws(() => layerSettings(settings({ mode: 'off' }, {}), ctx), (e: Error) => e instanceof SettingsError && /scriptSandbox\.mode.*user settings/.test(e.message));
  });

  describe('a task\'s mode and profile', () => {
    it('may only tighten the settings in force', () => {
      const t = layerTask({ mode: 'disabled', profile: 'strict' }, TASK, { user: { mode: 'enforce', profile: 'moderate' } }, ctx);
      assert.deepEqual(t.run, { profile: 'strict' });
      assert.deepEqual(t.ignored.map((i) => [i.setting, i.looser]), [['task "build": mode', ['mode (enforce → disabled)']]]);
    });
    it('may raise the user\'s mode', () => {
      assert.deepEqual(layerTask({ mode: 'enforce' }, TASK, { user: { mode: 'warn' } }, ctx).run, { mode: 'enforce' });
    });
    it('may not undo what .vscode/sandbox.json tightened', () => {
      const t = layerTask({ profile: 'moderate', mode: 'warn' }, TASK, { user: { mode: 'warn', profile: 'moderate' }, workspace: { mode: 'enforce', profile: 'strict' } }, ctx);
      assert.deepEqual(t.run, {});
      assert.equal(t.ignored.length, 2);
    });
  });

  describe('audit path and alerts', () => {
    it('resolves against the workspace and knows what is inside it', () => {
      assert.equal(auditPathIn('/ws', '', '.sandbox/audit.jsonl'), '/ws/.sandbox/audit.jsonl');
      assert.equal(auditPathIn('/ws', '${workspaceFolder}/logs/a.jsonl', 'x'), '/ws/logs/a.jsonl');
      assert.equal(isInside('/ws', auditPathIn('/ws', '../outside.jsonl', 'x')), false);
      assert.equal(isInside('/ws', auditPathIn('/ws', '/home/u/.bashrc', 'x')), false);
      assert.equal(isInside('/ws', '/ws2/a'), false);
      assert.equal(isInside('/ws', '/ws/..a/b'), true);
    });
    it('alerts may only get louder from a workspace', () => {
      const s = (user: unknown, ws: unknown): InspectedSetting => ({ user: { value: user, source: USER_SOURCE }, ...(ws !== undefined ? { workspace: { value: ws, source: WS } } : {}) });
      const louder = layerAlerts({ threshold: s(3, 1), windowMinutes: s(5, 60), notifications: s('critical', 'all') });
      assert.deepEqual([louder.threshold, louder.windowMinutes, louder.notify, louder.ignored.length], [1, 60, 'all', 0]);
      const quieter = layerAlerts({ threshold: s(3, 100), windowMinutes: s(5, 1), notifications: s('all', 'none') });
      assert.deepEqual([quieter.threshold, quieter.windowMinutes, quieter.notify], [3, 5, 'all']);
      assert.deepEqual(quieter.ignored.map((i) => i.setting), ['scriptSandbox.alerts.threshold', 'scriptSandbox.alerts.windowMinutes', 'scriptSandbox.alerts.notifications']);
    });
  });
});
