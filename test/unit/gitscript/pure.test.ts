// Git-scripts' pure parts: which host and port a fetch may reach, how a definition's and a repository's
// policy requests tighten (never loosen) the run, and git-scripts defined in .vscode/sandbox.json.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import type { SandboxRunner } from '../../../src/gitscript/sandbox';
import { fetchPolicyLayer, repoEndpoint, runGit } from '../../../src/gitscript/git';
import type { FetchedGitScript } from '../../../src/gitscript/fetch';
import { gitScriptRun, tighten } from '../../../src/gitscript/run';
import { parseGitScriptSpec } from '../../../src/policy/git-script-spec';
import { decideAddress, decidePath, resolvePolicy } from '../../../src/policy';
import { parseWorkspaceFile } from '../../../src/policy/policy-text';
import { analyzePolicyText } from '../../../src/extension/policy-text';
import { SandboxError } from '../../../src/errors';

const ctx = { workspace: '/ws', home: '/home/u' };
const resolved = (layer: Parameters<typeof resolvePolicy>[0]['run']) => resolvePolicy({ run: layer }, ctx).policy;

describe('gitscript: what the fetch may reach', () => {
  it('names the host and the port a URL connects to, with the scheme\'s default port', () => {
    assert.deepEqual(repoEndpoint('https://git.example.com/org/tools.git'), { host: 'git.example.com', port: 443 });
    assert.deepEqual(repoEndpoint('http://127.0.0.1:8123/tools.git'), { host: '127.0.0.1', port: 8123 });
    assert.deepEqual(repoEndpoint('git://localhost/tools.git'), { host: 'localhost', port: 9418 });
    assert.deepEqual(repoEndpoint('ssh://git@[::1]:2222/tools.git'), { host: '::1', port: 2222 });
    assert.deepEqual(repoEndpoint('git@github.com:org/tools.git'), { host: 'github.com', port: 22 });
    assert.equal(repoEndpoint('file:///srv/tools.git'), null);
  });

  it('a file:// repository gets no network and may be read; a remote one its host only; no profile with a writable /tmp', () => {
    const local = fetchPolicyLayer({ cacheRoot: '/c', repo: 'file:///srv/t.git/', timeoutSeconds: 5 });
    assert.equal(local.network?.preset, 'none');
    assert.deepEqual(local.filesystem?.allowRead, ['/srv/t.git', '/srv/t.git/**']);
    assert.equal(local.profile, 'strict', 'moderate would let git write to /tmp');
    const p = resolved(local);
    assert.equal(decidePath(p, '/tmp/elsewhere/x', 'write').allowed, false);
    assert.equal(decidePath(p, '/ws/mirrors/k.git/HEAD', 'write').allowed, true, 'the cache (the run\'s workspace) is writable');
    const remote = fetchPolicyLayer({ cacheRoot: '/c', repo: 'https://git.example.com/t.git', timeoutSeconds: 5 });
    assert.deepEqual(remote.network, { preset: 'strict', allowHosts: ['git.example.com'] });
    assert.equal(remote.limits?.timeoutSeconds, 5);
    assert.equal(remote.mode, 'enforce');
  });

  it('a loopback repository: its port only, so a redirect to another local service is blocked', () => {
    const p = resolved(fetchPolicyLayer({ cacheRoot: '/c', repo: 'http://127.0.0.1:8123/t.git', timeoutSeconds: 5 }));
    assert.equal(decideAddress(p, '127.0.0.1', 8123).allowed, true);
    assert.equal(decideAddress(p, '127.0.0.1', 8124).allowed, false);
    assert.equal(decideAddress(p, '127.0.0.2', 8123).allowed, false);
    const lh = resolved(fetchPolicyLayer({ cacheRoot: '/c', repo: 'git://localhost/t.git', timeoutSeconds: 5 }));
    assert.equal(decideAddress(lh, '127.0.0.1', 9418).allowed, true);
    assert.equal(decideAddress(lh, '::1', 9418).allowed, true);
    assert.equal(decideAddress(lh, '127.0.0.1', 22).allowed, false);
  });
});

describe('gitscript: a file:// repository in a protected place', () => {
  it('is refused before git runs: naming it in allowRead would unlock it', async () => {
    const sandbox = {} as SandboxRunner; // never reached: the refusal comes first
    await assert.rejects(
      runGit(sandbox, ['ls-remote', 'x'], { cacheRoot: '/c', repo: `file://${os.homedir()}/.ssh`, timeoutSeconds: 5 }),
      (e: unknown) => e instanceof SandboxError && e.code === 'POLICY_INVALID' && /protected place \(~\/\.ssh\)/.test(e.message),
    );
  });
});

describe('gitscript: policies that may only tighten', () => {
  const base = resolved({ mode: 'warn', profile: 'moderate', limits: { cpuSeconds: 60 }, network: { preset: 'default' } });

  it('tighten takes the stricter mode, network and limits, adds denied paths, ignores loosening', () => {
    const t = tighten(base, { mode: 'enforce', network: { preset: 'none' }, limits: { cpuSeconds: 10, memoryMiB: 256 }, filesystem: { denyWrite: ['out/**'], allowWrite: ['/etc/**'] } }, '/ws');
    assert.equal(t.mode, 'enforce');
    assert.equal(t.network.preset, 'none');
    assert.equal(t.limits.cpuSeconds, 10);
    assert.equal(t.limits.memoryMiB, Math.min(base.limits.memoryMiB ?? Infinity, 256));
    assert.ok(t.filesystem.denyWrite.includes('/ws/out/**'));
    assert.ok(!t.filesystem.allowWrite.includes('/etc/**'), 'allowWrite is a loosening and is ignored');
    const loose = tighten(base, { mode: 'disabled', network: { preset: 'default' }, limits: { cpuSeconds: 600 } }, '/ws');
    assert.equal(loose.mode, 'warn');
    assert.equal(loose.limits.cpuSeconds, 60);
    assert.equal(base.mode, 'warn', 'the base policy is not modified');
  });

  const fetched = (spec: FetchedGitScript['spec'], requestedPolicy: FetchedGitScript['requestedPolicy'] = null): FetchedGitScript => ({
    spec,
    repo: spec.repo,
    ref: spec.ref,
    commit: 'a'.repeat(40),
    checkoutDir: '/cache/checkouts/k/aaaa',
    scriptPath: `/cache/checkouts/k/aaaa/${spec.script}`,
    mirror: '/cache/mirrors/k.git',
    requestedPolicy,
    reused: false,
  });

  it('the run: the checkout read-only, ${workspaceFolder} replaced, the definition\'s and the repository\'s policy applied', () => {
    const spec = parseGitScriptSpec({ name: 'lint', repo: 'https://h/t.git', ref: 'v1', script: 'bin/r.sh', args: ['--out', '${workspaceFolder}/report'], policy: { network: { preset: 'strict' } } }, 'test');
    const r = gitScriptRun(fetched(spec, { limits: { cpuSeconds: 5 } }), base, '/ws');
    assert.deepEqual(r.command, ['/cache/checkouts/k/aaaa/bin/r.sh', '--out', '/ws/report']);
    assert.equal(r.cwd, '/cache/checkouts/k/aaaa');
    assert.equal(r.policy.network.preset, 'strict', 'from the definition');
    assert.equal(r.policy.limits.cpuSeconds, 5, 'from the repository');
    assert.ok(r.policy.filesystem.denyWrite.includes('/cache/checkouts/k/aaaa/**'));
    assert.deepEqual(r.gitScript, { repo: 'https://h/t.git', ref: 'v1', commit: 'a'.repeat(40) });
  });

  it('a definition with a bad field or a bad policy is refused naming the field', () => {
    const bad = (raw: unknown) => assert.throws(() => parseGitScriptSpec(raw, 'settings'), (e: unknown) => e instanceof SandboxError && e.code === 'POLICY_INVALID' && /^settings: /.test(e.message));
    bad({ repo: 'ftp://h/t.git', ref: 'v1', script: 'x' });
    bad({ repo: 'https://h/t.git', ref: '--upload-pack=evil', script: 'x' });
    bad({ repo: 'https://h/t.git', ref: 'v1', script: '../outside.sh' });
    bad({ repo: 'https://h/t.git', ref: 'v1', script: 'x', extra: 1 });
    assert.throws(() => parseGitScriptSpec({ repo: 'https://h/t.git', ref: 'v1', script: 'x', policy: { network: { allowAddresses: ['nonsense'] } } }, 'settings'), /settings: policy: network\.allowAddresses\[0\]/);
  });
});

describe('gitscript: git-scripts in .vscode/sandbox.json', () => {
  const text = '{\n  "mode": "enforce",\n  // the team\'s report tool\n  "gitScripts": [\n    { "name": "report", "repo": "https://h/t.git", "ref": "v1.4.0", "script": "bin/report.py" }\n  ]\n}\n';

  it('the CLI reads the layer and the git-scripts apart', () => {
    const c = parseWorkspaceFile(text, 'ws/.vscode/sandbox.json');
    assert.deepEqual(c.layer, { mode: 'enforce' });
    assert.equal(c.gitScripts.length, 1);
    assert.equal(c.gitScripts[0]!.name, 'report');
    assert.deepEqual(parseWorkspaceFile('{ "mode": "warn" }', 'f').gitScripts, []);
  });

  it('a broken git-script names the file and its index and field', () => {
    assert.throws(() => parseWorkspaceFile('{ "gitScripts": [ { "repo": "https://h/t.git", "ref": "v1" } ] }', 'f.json'), /f\.json:\d+:\d+: gitScripts\[0\]\.script/);
    assert.throws(() => parseWorkspaceFile('{ "gitScripts": {} }', 'f.json'), /f\.json:\d+:\d+: gitScripts: /);
    assert.throws(() => parseWorkspaceFile('{ "gitScripts": [], "mdoe": "warn" }', 'f.json'), /mdoe/);
  });

  it('the editor check accepts gitScripts and places a problem in one on its key', () => {
    const ok = analyzePolicyText(text);
    assert.ok(ok.ok);
    if (ok.ok) {
      assert.deepEqual(ok.layer, { mode: 'enforce' }, 'the layer the host gets has no gitScripts');
      assert.equal(ok.gitScripts[0]!.script, 'bin/report.py');
    }
    const badText = '{\n  "gitScripts": [ { "repo": "https://h/t.git", "ref": "v1", "script": "/etc/passwd" } ]\n}\n';
    const bad = analyzePolicyText(badText);
    assert.ok(!bad.ok);
    if (!bad.ok) {
      assert.match(bad.problems[0]!.message, /gitScripts\[0\]\.script: must be a path inside the repository/);
      assert.equal(badText.slice(bad.problems[0]!.offset, bad.problems[0]!.offset + bad.problems[0]!.length), '"script"');
    }
  });
});
