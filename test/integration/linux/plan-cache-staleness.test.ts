// The host caches parts of the compiled plan between runs (carve-out-cache.ts, the seccomp program). A cache
// that kept an old answer after the file system changed could drop a protected path. Here one engine (so one
// set of caches) runs the same policy twice in a settled workspace; between the runs the workspace gains a
// hooks directory named by core.hooksPath in .git/config, a ~/.netrc appears in the home, and a readable
// folder of the home (~/docs, a Landlock rule of its own in the first run) is swapped for a symlink to
// ~/.ssh: a rule kept from the first run's listing would now follow the link and grant the key. The first
// run proves the hooks directory was writable and ~/docs readable before (so the change is what protects
// them); the second must find all three protected. Both tiers: in the namespace tier ~/.ssh is also hidden
// by a mount, so there the symlink case is kept twice; in the fallback tier Landlock alone keeps it (a cache
// that ignored the directory's change made this test read the key there).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, makeSandbox, type Sandbox } from './helpers';

describe('plan caches never keep a stale protected set (real kernel)', function () {
  this.timeout(120_000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
    fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks'), { recursive: true });
    fs.writeFileSync(path.join(sb.workspace, '.git', 'config'), '[core]\n\tbare = false\n');
    fs.writeFileSync(path.join(sb.workspace, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    fs.mkdirSync(path.join(sb.workspace, 'myhooks'));
    fs.mkdirSync(path.join(sb.home, 'docs'));
    fs.writeFileSync(path.join(sb.home, 'docs', 'id_rsa'), 'just notes\n');
  });
  afterEach(() => sb.cleanup());

  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`${tier} tier: a core.hooksPath, a ~/.netrc and a ~/docs symlink to ~/.ssh made between two warm runs are protected in the second`, async function () {
      const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
      const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
      const engine = createEngine({ pool: 2, namespaces: tier === 'namespaces', launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'dist/supervisor.js') });
      const nsAvailable = engine.capabilities().capabilities.some((c) => c.name === 'namespaces' && c.available);
      if (tier === 'namespaces' && !nsAvailable) {
        engine.dispose();
        this.skip(); // the namespace stage is not available here (no unshare, or user namespaces refused)
      }
      const ws = sb.workspace;
      const netrc = path.join(sb.home, '.netrc');
      const run = async (script: string) => {
        const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: ws, home: sb.home });
        const h = engine.runner.run({ command: ['/bin/sh', '-c', script], cwd: ws, policy, env: { PATH: '/usr/bin:/bin', HOME: sb.home } });
        let out = '';
        h.on('stdout', (b) => (out += b));
        h.on('stderr', (b) => (out += b));
        const r = await h.wait();
        assert.equal(r.setupError, null, JSON.stringify(r.setupError));
        return out;
      };
      const docs = path.join(sb.home, 'docs');
      const attempt = `if printf x > myhooks/pre-commit 2>/dev/null; then echo HOOK-WRITTEN; fi; if cat ${netrc} 2>/dev/null; then echo NETRC-READ; fi; cat ${docs}/id_rsa 2>/dev/null`;
      try {
        // Settled: older than the caches' racy window, so the first runs' listings are stored and reused.
        await new Promise((r) => setTimeout(r, 1300));
        const first = await run(attempt);
        assert.match(first, /HOOK-WRITTEN/, `before the change the folder is an ordinary one: ${first}`);
        assert.match(first, /just notes/, `before the change ~/docs is readable: ${first}`);
        fs.rmSync(path.join(ws, 'myhooks', 'pre-commit'));
        await run('true'); // the listings of this state are cached now
        await new Promise((r) => setTimeout(r, 1300));
        await run('true');

        fs.writeFileSync(path.join(ws, '.git', 'config'), '[core]\n\tbare = false\n\thooksPath = myhooks\n');
        fs.writeFileSync(netrc, 'machine example.com password hunter2\n');
        fs.renameSync(docs, path.join(sb.home, 'docs-old'));
        fs.symlinkSync(path.join(sb.home, '.ssh'), docs);
        const second = await run(attempt);
        assert.doesNotMatch(second, /HOOK-WRITTEN/, `the new hooksPath folder was writable: ${second}`);
        assert.doesNotMatch(second, /NETRC-READ|hunter2/, `the new ~/.netrc was readable: ${second}`);
        assert.doesNotMatch(second, /FAKE KEY|secret/, `~/.ssh was readable through the new ~/docs symlink: ${second}`);
        assert.ok(!fs.existsSync(path.join(ws, 'myhooks', 'pre-commit')), 'a hook was planted in the new hooksPath');
      } finally {
        engine.dispose();
      }
    });
  }
});
