// `check` on this machine: the capability report the README promises.
import { strict as assert } from 'node:assert';
import { runCli } from './helpers';

describe('script-sandbox check', () => {
  it('reports Landlock with its ABI, seccomp and user notifications; exit 0 when enforce is possible', async () => {
    const r = await runCli(['check', '--json']);
    const report = JSON.parse(r.stdout) as { enforcePossible: boolean; capabilities: Array<{ name: string; available: boolean; detail: string }>; treeLimits: string };
    const cap = (n: string) => report.capabilities.find((c) => c.name === n)!;
    assert.ok(cap('landlock').available);
    assert.match(cap('landlock').detail, /^ABI \d+$/);
    assert.ok(Number(cap('landlock').detail.slice(4)) >= 1);
    assert.ok(cap('seccomp').available);
    assert.ok(cap('seccomp_user_notif').available);
    assert.ok(cap('no_new_privs').available);
    assert.ok(['cgroup v1', 'cgroup v2', 'watchdog'].includes(report.treeLimits));
    assert.equal(report.enforcePossible, true);
    assert.equal(r.code, 0);
    const text = await runCli(['check']);
    assert.match(text.stdout, /landlock\s+ABI \d/);
    assert.match(text.stdout, /enforce mode: possible/);
  });
});
