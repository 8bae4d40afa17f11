// The namespace plan from a real directory tree (no kernel involved): which paths become writable, read-only
// and hidden, the placeholders for missing entries, the order the launcher mounts them in, and the wait
// status the init reports.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePolicy } from '../../../src/policy';
import { landlockGrants, compileLinuxPlan, runFs } from '../../../native/linux/compile-plan';
import { placeholderFor } from '../../../native/linux/namespace-plan';
import { mountOrder } from '../../../native/linux/namespaces';
import { fromWaitStatus } from '../../../src/host/launcher-source';

describe('namespace plan', function () {
  let root: string;
  let ws: string;
  let tmpDir: string;
  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ns-plan-')));
    ws = path.join(root, 'ws');
    tmpDir = path.join(root, 'run-tmp');
    for (const d of ['.git/hooks', '.git/objects', '.git/refs', '.git/logs', '.husky', 'src']) fs.mkdirSync(path.join(ws, d), { recursive: true });
    fs.mkdirSync(tmpDir);
    fs.writeFileSync(path.join(ws, '.git', 'config'), '[core]\n\tbare = false\n\thooksPath = .husky\n');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const policy = (run: Record<string, unknown> = {}) =>
    resolvePolicy({ run: { mode: 'enforce', profile: 'moderate', ...run } }, { workspace: ws, home: path.join(root, 'home') }).policy;
  const req = () => ({ tmpDir, toolRoots: [], file: '/bin/sh', listener: true });
  const mounts = (p: ReturnType<typeof policy>) => runFs(p, { ...req(), namespaces: true }).mounts!;

  it('.git read-only as a whole with objects/refs/logs writable again; hooksPath read-only; .vscode placeholder; .sandbox hidden', () => {
    const p = policy();
    const ns = mounts(p);
    assert.ok(ns.writable.includes(ws));
    assert.ok(ns.writable.includes(tmpDir));
    for (const sub of ['objects', 'refs', 'logs']) assert.ok(ns.writable.includes(path.join(ws, '.git', sub)), sub);
    assert.ok(ns.readOnly.includes(path.join(ws, '.git')));
    assert.ok(ns.readOnly.includes(path.join(ws, '.husky')));
    assert.ok(ns.readOnly.includes(path.join(ws, '.vscode')), 'missing .vscode gets a placeholder entry');
    assert.deepEqual(ns.hidden, [path.join(ws, '.sandbox')]);
    assert.equal(ns.isolateNetwork, false);
  });

  it('pins: the directories between a write root and a bound entry or the workspace, never a write root itself', () => {
    // The default layout: the workspace is a write root (a mount already) and .git, .husky sit right in it;
    // only the workspace's own ancestors inside a temp root (this test's tree may be in /tmp) are pinned.
    const base = mounts(policy()).pinned;
    assert.ok(base.every((x) => ws.startsWith(x + '/')), base.join(' '));
    // core.hooksPath tools/hooks: tools is pinned (renaming it would carry the read-only hooks bind along).
    fs.writeFileSync(path.join(ws, '.git', 'config'), '[core]\n\tbare = false\n\thooksPath = tools/hooks\n');
    fs.mkdirSync(path.join(ws, 'tools', 'hooks'), { recursive: true });
    assert.deepEqual([...mounts(policy()).pinned].sort(), [...base, path.join(ws, 'tools')].sort());
    // A workspace two levels inside a wider grant: both levels pinned, the grant itself not.
    const p = policy({ filesystem: { allowWrite: [root] } });
    const ns = mounts(p);
    assert.ok(ns.writable.includes(root));
    assert.ok(!ns.pinned.includes(root) && !ns.pinned.includes(ws));
    const order = mountOrder({ writable: ['/g', '/g/d/ws'], readOnly: ['/g/d/ws/.git'], hidden: [], pinned: ['/g/d'], isolateNetwork: false });
    assert.deepEqual(order.map((o) => `${o.kind}:${o.path}`), ['writable:/g', 'pinned:/g/d', 'writable:/g/d/ws', 'readOnly:/g/d/ws/.git']);
  });

  it('network isolated only for --net none in enforce', () => {
    const p = policy({ network: { preset: 'none' } });
    assert.equal(mounts(p).isolateNetwork, true);
  });

  it('placeholder: the highest missing ancestor below the workspace, never the workspace itself', () => {
    fs.rmSync(path.join(ws, '.git'), { recursive: true });
    assert.equal(placeholderFor(path.join(ws, '.git', 'hooks'), ws), path.join(ws, '.git'));
    assert.equal(placeholderFor(path.join(ws, '.vscode'), ws), path.join(ws, '.vscode'));
    assert.equal(placeholderFor(path.join(root, 'elsewhere', 'x'), ws), null);
  });

  it('tiers: namespace plan only with namespaces; fallback makes protected paths Landlock carve-outs even with a listener', () => {
    const p = policy();
    const base = { runId: 'r', file: '/bin/sh', argv: ['sh'], env: {}, cwd: ws, tmpDir, toolRoots: [], arch: 'x86_64' as const, nprocLimit: null, listener: true };
    const expand = (rules: Array<{ path: string; access: string[] }>) => rules as never;
    const withNs = compileLinuxPlan(p, { ...base, namespaces: true }, { expand });
    const fallback = compileLinuxPlan(p, { ...base, namespaces: false }, { expand });
    assert.ok(withNs.namespaces);
    assert.equal(fallback.namespaces, null);
    const carved = (namespaces: boolean) => landlockGrants(p, { ...req(), namespaces }).find((g) => g.access.includes('write_file'))!.except;
    assert.ok(carved(false).includes(path.join(ws, '.git')));
    assert.ok(carved(false).includes(path.join(ws, '.husky')));
    assert.ok(!carved(true).includes(path.join(ws, '.git')), 'the mounts hold it in the namespace tier');
    assert.ok(!carved(true).includes(path.join(ws, '.husky')), 'the mounts hold it in the namespace tier');
    // warn: the integrity set only. The tree stays writable ('/'), the control files are bound read-only
    // (objects/refs/logs given back), .sandbox is hidden; Landlock keeps /dev out, as in enforce.
    const warn = compileLinuxPlan(policy({ mode: 'warn' }), { ...base, namespaces: true }, { expand });
    assert.ok(warn.namespaces);
    assert.ok(warn.namespaces.writable.includes('/'));
    assert.ok(warn.namespaces.writable.includes(path.join(ws, '.git', 'objects')));
    for (const x of ['.git', '.husky', '.vscode']) assert.ok(warn.namespaces.readOnly.includes(path.join(ws, x)), x);
    assert.deepEqual(warn.namespaces.hidden, [path.join(ws, '.sandbox')]);
    assert.equal(warn.namespaces.isolateNetwork, false);
    assert.ok(warn.landlock && warn.requireLandlock);
    assert.ok(warn.landlock.rules.some((r) => r.path === '/dev/null'));
    // warn in the fallback tier: everything but the integrity set, which is carved out and given back read-only.
    const warnFallback = compileLinuxPlan(policy({ mode: 'warn' }), { ...base, namespaces: false }, { expand: (rules, cuts) => rules.map((r) => ({ ...r, path: `${r.path} minus ${cuts.join(',')}` })) });
    assert.equal(warnFallback.namespaces, null);
    const all = warnFallback.landlock!.rules.find((r) => r.path.startsWith('/ minus '))!;
    for (const x of ['.git', '.husky', '.vscode', '.sandbox']) assert.ok(all.path.split(' minus ')[1]!.split(',').includes(path.join(ws, x)), x);
    assert.ok(all.access.includes('write_file') && all.access.includes('make_reg'));
    assert.ok(warnFallback.landlock!.rules.some((r) => r.path === path.join(ws, '.git') && !r.access.includes('write_file')));
    assert.ok(!warnFallback.landlock!.rules.some((r) => r.path.startsWith(path.join(ws, '.sandbox'))));
  });

  it('mount order: shallow before deep, writable before read-only at one depth', () => {
    const order = mountOrder({ writable: ['/w', '/w/.git/objects'], readOnly: ['/w/.git'], hidden: ['/w/.sandbox'], pinned: [], isolateNetwork: false });
    assert.deepEqual(
      order.map((o) => `${o.kind}:${o.path}`),
      ['writable:/w', 'readOnly:/w/.git', 'hidden:/w/.sandbox', 'writable:/w/.git/objects'],
    );
  });

  it('the init\'s wait status: exit codes and signals as Node reports them', () => {
    assert.deepEqual(fromWaitStatus(0), { code: 0, signal: null });
    assert.deepEqual(fromWaitStatus(3 << 8), { code: 3, signal: null });
    assert.deepEqual(fromWaitStatus(15), { code: null, signal: 'SIGTERM' });
    assert.deepEqual(fromWaitStatus(0x80 | 31), { code: null, signal: 'SIGSYS' }); // core dumped
  });
});
