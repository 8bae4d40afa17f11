// Cancelling a git-script fetch (the progress notification's Cancel): the sandboxed git's process tree is
// killed mid-transfer, the cache is left consistent (no stale locks, no refs to a half pack, no usable
// half checkout) and the next fetch of the same repository works. Progress comes from git's own percentages.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, REPO, type Sandbox } from './helpers';
import { HostProcess } from './host-process';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).trim();
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('git-script fetch: progress and cancel', function () {
  this.timeout(180_000);
  let sb: Sandbox;
  let bare: string;
  const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
  const { gitSandbox } = require(path.join(REPO, 'out/src/host/git-sandbox.js')) as typeof import('../../../src/host/git-sandbox');
  const { fetchGitScript } = require(path.join(REPO, 'out/src/gitscript/index.js')) as typeof import('../../../src/gitscript');

  before(() => {
    sb = makeSandbox();
    const work = path.join(sb.root, 'src');
    bare = path.join(sb.root, 'big.git');
    fs.mkdirSync(path.join(work, 'data'), { recursive: true });
    fs.writeFileSync(path.join(work, 'tool.sh'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
    // Incompressible objects, enough that the transfer takes a while even on a fast disk.
    for (let i = 0; i < 600; i++) fs.writeFileSync(path.join(work, 'data', `blob-${i}.bin`), crypto.randomBytes(128 * 1024));
    git(work, 'init', '-q');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'big');
    git(sb.root, 'clone', '-q', '--bare', work, bare);
    // No delta search or zlib work on random data: the serving side starts sending at once.
    git(bare, 'config', 'pack.window', '0');
    git(bare, 'config', 'core.compression', '0');
  });
  after(() => sb?.cleanup());

  it('cancelled mid-transfer: git killed, cache consistent, the next fetch works', async () => {
    const engine = createEngine({ launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'out/src/host/linux/supervisor-worker.js') });
    const cacheRoot = path.join(sb.root, 'cache');
    const spec = { repo: `file://${bare}`, ref: 'main', script: 'tool.sh' };
    try {
      const abort = new AbortController();
      const seen: Array<[string, number | undefined]> = [];
      const t0 = Date.now();
      let cancelledAt = 0;
      const err = await fetchGitScript(gitSandbox(engine), spec, {
        cacheRoot,
        signal: abort.signal,
        onProgress: (message, percent) => {
          seen.push([message, percent]);
          // Cancel while git is receiving the pack, as a user pressing Cancel would.
          if (/^Receiving objects: \d+%/.test(message) && !abort.signal.aborted) {
            cancelledAt = Date.now();
            abort.abort();
          }
        },
      }).then(
        () => null,
        (e: unknown) => e as { code?: string; message: string },
      );
      console.log(`      progress before the cancel: ${seen.map(([m, p]) => `${m} (${p ?? '-'})`).join(' | ')}; cancelled after ${cancelledAt - t0} ms, ended ${Date.now() - cancelledAt} ms later`);
      assert.ok(err, 'the fetch was cancelled, not finished');
      assert.equal(err.code, 'GIT_FETCH_CANCELLED', err.message);
      assert.ok(Date.now() - cancelledAt < 10_000, 'the cancel took effect within seconds, not at the end of the transfer');
      assert.ok(seen.some(([m, p]) => /^Receiving objects: \d+%$/.test(m) && typeof p === 'number'), 'git\'s own percentages reached the caller');

      const mirror = fs.readdirSync(path.join(cacheRoot, 'mirrors')).map((m) => path.join(cacheRoot, 'mirrors', m))[0]!;
      // The process tree is gone: nothing still works on the mirror.
      const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(mirror) && !l.includes('ps -eo'));
      assert.deepEqual(left, [], 'no git left running on the mirror');
      // Consistent: no lock files or temporary packs, no ref to a pack that never completed, no checkout.
      const stale = filesUnder(mirror).filter((f) => f.endsWith('.lock') || path.basename(f).startsWith('tmp_'));
      assert.deepEqual(stale, [], 'no stale locks or temporary packs');
      const refs = git(sb.root, '--git-dir', mirror, 'for-each-ref', '--format=%(refname)');
      assert.equal(refs, '', 'the killed fetch updated no ref');
      execFileSync('git', ['--git-dir', mirror, 'fsck', '--no-dangling'], { stdio: 'ignore' });
      assert.ok(!filesUnder(path.join(cacheRoot, 'checkouts')).some((f) => f.endsWith('.manifest.json')), 'no usable checkout');

      // The next fetch of the same repository goes through and yields a verified checkout.
      const f = await fetchGitScript(gitSandbox(engine), spec, { cacheRoot });
      assert.equal(f.reused, false);
      assert.equal(fs.readFileSync(f.scriptPath, 'utf8'), '#!/bin/sh\necho tool\n');
      assert.equal(fs.readdirSync(path.join(f.checkoutDir, 'data')).length, 600);
      assert.ok(fs.existsSync(`${f.checkoutDir}.manifest.json`));
    } finally {
      engine.dispose();
    }
  });

  it('a cancel before git starts rejects at once and leaves nothing behind', async () => {
    const engine = createEngine({ launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'out/src/host/linux/supervisor-worker.js') });
    try {
      const abort = new AbortController();
      abort.abort();
      const cacheRoot = path.join(sb.root, 'cache-early');
      await assert.rejects(fetchGitScript(gitSandbox(engine), { repo: `file://${bare}`, ref: 'main', script: 'tool.sh' }, { cacheRoot, signal: abort.signal }), { code: 'GIT_FETCH_CANCELLED' });
      assert.deepEqual(filesUnder(path.join(cacheRoot, 'mirrors')), []);
    } finally {
      engine.dispose();
    }
  });

  it('through the host protocol, as the extension does: gitProgress carries percentages, gitFetchCancel stops the fetch', async () => {
    const host = new HostProcess();
    try {
      await host.ready(60_000);
      const cacheRoot = path.join(sb.root, 'cache-host');
      host.send({ type: 'gitFetch', requestId: 'g1', spec: { repo: `file://${bare}`, ref: 'main', script: 'tool.sh' }, workspace: sb.workspace, cacheRoot, layers: {} });
      const p = await host.waitFor((m) => m.type === 'gitProgress' && m.requestId === 'g1' && typeof m.percent === 'number' && /^Receiving objects: \d+%$/.test(String(m.message)), 120_000, 'a Receiving objects percentage');
      assert.ok((p.percent as number) >= 10 && (p.percent as number) <= 85, `overall percent ${p.percent}`);
      host.send({ type: 'gitFetchCancel', requestId: 'g1' });
      const answer = await host.waitFor((m) => (m.type === 'rejected' || m.type === 'gitFetched') && m.requestId === 'g1', 30_000, 'the answer to the fetch');
      assert.equal(answer.type, 'rejected', JSON.stringify(answer));
      assert.equal((answer.error as { code: string }).code, 'GIT_FETCH_CANCELLED');
      assert.ok(host.alive, 'the host keeps serving');
      // The same host fetches it afterwards.
      host.send({ type: 'gitFetch', requestId: 'g2', spec: { repo: `file://${bare}`, ref: 'main', script: 'tool.sh' }, workspace: sb.workspace, cacheRoot, layers: {} });
      const again = await host.waitFor((m) => (m.type === 'rejected' || m.type === 'gitFetched') && m.requestId === 'g2', 150_000, 'the second fetch');
      assert.equal(again.type, 'gitFetched', JSON.stringify(again));
    } finally {
      await host.stop();
    }
  });
});
