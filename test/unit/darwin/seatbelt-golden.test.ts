// Golden Seatbelt profiles for a fixed fixture tree: the filesystem model's grants as SBPL. Any change to
// what macOS is asked to allow shows up as a reviewed diff. UPDATE_GOLDEN=1 rewrites them (run from the
// repository root). The properties below the goldens are checked on the text itself, so a regenerated
// golden cannot quietly drop a carve-out.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import type { FsModelFs } from '../../../src/policy/fs-model-types';
import { seatbeltProfile, type SeatbeltRequest } from '../../../native/darwin/seatbelt';
import { compileDarwinPlan } from '../../../native/darwin/backend';
import { assertGolden } from '../fixtures/golden';

const GOLDEN_DIR = 'test/unit/darwin/golden';
const HOME = '/Users/u';
const WS = '/Users/u/proj';
const ODD_WS = '/Users/u/my "proj" (copy)\\ünïcode';

function fixture(ws: string): FsModelFs {
  const files: Record<string, string> = {
    [`${ws}/main.py`]: '',
    [`${ws}/.git/HEAD`]: '',
    [`${ws}/.git/config`]: '[core]\n\thooksPath = .husky\n',
    [`${ws}/.husky/pre-commit`]: '',
    [`${ws}/.vscode/settings.json`]: '',
    [`${ws}/secrets/key`]: '',
  };
  const dirs = new Set<string>();
  for (const f of Object.keys(files)) for (let d = path.posix.dirname(f); d !== '/'; d = path.posix.dirname(d)) dirs.add(d);
  return {
    readFile: (p) => files[p] ?? null,
    kind: (p) => (p in files ? 'file' : dirs.has(p) ? 'dir' : null),
    readdir: (d) => (dirs.has(d) ? [...new Set(Object.keys(files).filter((f) => f.startsWith(d + '/')).map((f) => f.slice(d.length + 1).split('/')[0]))] : null),
  };
}

const req = (ws: string, proxyPort: number | null = null): SeatbeltRequest => ({
  runId: 'run-1',
  tmpDir: '/var/folders/zz/abc/T/script-sandbox-run-1',
  toolRoots: ['/opt/homebrew/Cellar/python@3.12'],
  file: `${ws}/main.py`,
  proxyPort,
});

const CASES: { file: string; ws: string; input: PolicyInput; proxyPort?: number }[] = [
  { file: 'seatbelt-strict-net-none.sb', ws: WS, input: { profile: 'strict', network: { preset: 'none' } } },
  { file: 'seatbelt-moderate-allowhosts.sb', ws: WS, input: { profile: 'moderate', network: { preset: 'strict', allowHosts: ['api.example.com'] }, filesystem: { denyRead: ['secrets/**'] } }, proxyPort: 41234 },
  { file: 'seatbelt-permissive.sb', ws: WS, input: { profile: 'permissive', network: { preset: 'default' } } },
  { file: 'seatbelt-odd-workspace.sb', ws: ODD_WS, input: { profile: 'moderate', network: { preset: 'none' } } },
];

function profileFor(c: (typeof CASES)[number]) {
  const policy = resolvePolicy({ user: c.input }, { workspace: c.ws, home: HOME }).policy;
  return seatbeltProfile(policy, req(c.ws, c.proxyPort ?? null), fixture(c.ws));
}

describe('Seatbelt golden profiles (filesystem model → SBPL)', () => {
  for (const c of CASES) {
    it(c.file, () => {
      const text = profileFor(c).text;
      assertGolden(GOLDEN_DIR, c.file, text);
    });
  }
});

describe('Seatbelt profile properties', () => {
  const strict = profileFor(CASES[0]).text;
  const moderate = profileFor(CASES[1]).text;
  const permissive = profileFor(CASES[2]).text;
  const odd = profileFor(CASES[3]).text;

  it('starts closed: version 1, deny default tagged with the run id, before any allow', () => {
    for (const t of [strict, moderate, permissive, odd]) {
      const lines = t.split('\n');
      assert.equal(lines[0], '(version 1)');
      const deny = lines.findIndex((l) => l.startsWith('(deny default'));
      assert.ok(deny > 0 && deny < lines.findIndex((l) => l.startsWith('(allow')));
      assert.match(lines[deny], /script-sandbox:run-1/);
      assert.doesNotMatch(t, /\(allow default/);
    }
  });

  it('uses canonical /private paths: the temp dir and /etc, never /tmp or /var or /etc rules', () => {
    for (const t of [strict, moderate, permissive]) {
      assert.match(t, /\(subpath "\/private\/var\/folders\/zz\/abc\/T\/script-sandbox-run-1"\)/);
      assert.doesNotMatch(t, /"\/(tmp|var|etc)(\/|")/);
    }
    assert.match(strict, /\(allow file-read\* process-exec \(subpath "\/private\/etc"\)\)|"\/private\/etc"/);
    assert.match(moderate, /\(allow file-read\* file-write\* process-exec[^\n]*\n\s+\(require-all\n\s+\(subpath "\/private\/tmp"\)|\(subpath "\/private\/tmp"\)/);
  });

  it('the workspace is writable, its .git, .vscode, .sandbox and the hooks folder are carved out of the write grant (exact and any case)', () => {
    const grant = moderate.slice(moderate.indexOf(`(subpath "${WS}")`) - 80);
    for (const p of ['.git', '.vscode', '.sandbox', '.husky']) {
      assert.ok(moderate.includes(`(require-not (subpath "${WS}/${p}"))`), p);
    }
    assert.ok(grant.includes('(require-not (regex "^/[Uu][Ss][Ee][Rr][Ss]/[Uu]/[Pp][Rr][Oo][Jj]/\\\\.[Gg][Ii][Tt](/.*)?$"))'), 'case-folded .git');
    assert.match(moderate, /\(deny file-write-unlink[^\n]*\n(\s+\(literal [^\n]+\n)*\s+\(literal "\/Users\/u\/proj"\)/, 'the workspace folder itself cannot be renamed away from its .git');
  });

  it('secrets are carved out of the read grants: ~/.ssh, ~/.aws, macOS Keychains; denyRead in the workspace', () => {
    for (const s of ['/Users/u/.ssh', '/Users/u/.aws', '/Users/u/Library/Keychains']) assert.ok(moderate.includes(`(require-not (subpath "${s}"))`), s);
    assert.ok(moderate.includes(`(require-not (subpath "${WS}/secrets"))`));
    // Strict reads no home at all: no read grant covers /Users/u except the workspace and the script's folder.
    assert.doesNotMatch(strict, /\(subpath "\/Users\/u"\)/);
    assert.doesNotMatch(strict, /\(subpath "\/"\)/);
  });

  it('network: none has no outbound rule; an allow list opens only the proxy port on localhost', () => {
    assert.doesNotMatch(strict, /network-outbound/);
    assert.doesNotMatch(odd, /network-outbound/);
    const net = moderate.split('\n').filter((l) => l.includes('network'));
    assert.deepEqual(net.filter((l) => l.startsWith('(allow')), ['(allow network-outbound (remote ip "localhost:41234"))']);
    assert.doesNotMatch(permissive, /network-outbound/, 'no proxy given: refused, never "*:*"');
    assert.doesNotMatch(moderate + permissive, /\*:\*/);
  });

  it('escapes odd workspace names: quotes and backslashes in strings, regex metacharacters escaped, unicode kept', () => {
    assert.ok(odd.includes('(subpath "/Users/u/my \\"proj\\" (copy)\\\\ünïcode")'), 'string escapes');
    // The regex of .git below it: ( ) escaped, the backslash doubled for the regex and again for the string.
    assert.ok(odd.includes('\\\\([Cc][Oo][Pp][Yy]\\\\)\\\\\\\\'), 'regex escapes');
    assert.ok(odd.includes('[Üü]') === false, 'non-ASCII letters are not case-folded');
    assert.ok(odd.includes('[Uu]\u0308[Nn][Ii]\u0308'), 'the NFD form of the name is carved out too');
  });

  it('hard links only inside the write grants: allowed there, denied everywhere else (last)', () => {
    for (const t of [moderate, permissive]) {
      const allow = t.indexOf('(allow file-link');
      const deny = t.indexOf('(deny file-link');
      assert.ok(allow > 0 && deny > allow, 'both rules, deny after allow');
      assert.match(t.slice(deny), /^\(deny file-link \(with message "script-sandbox:run-1"\)\n {2}\(require-not\n {4}\(require-any/);
    }
    assert.ok(strict.includes('(allow file-link'));
  });

  it('permissive writes outside system paths but never /System, /Library, /Applications or ~/Library/LaunchAgents', () => {
    const at = permissive.search(/\(allow [^\n]*file-write\*\n {2}\(require-all\n {4}\(subpath "\/"\)/);
    assert.ok(at > 0, 'a write grant on /');
    const grant = permissive.slice(at);
    const first = grant.slice(0, grant.indexOf('\n)\n'));
    for (const p of ['/System', '/Library', '/Applications', '/usr', '/private/etc', '/Users/u/Library/LaunchAgents', '/Users/u/.zshrc', '/Users/u/.ssh']) {
      assert.ok(first.includes(`(require-not (subpath "${p}"))`), p);
    }
  });

  it('refuses a path with a control character instead of guessing its spelling', () => {
    const policy = resolvePolicy({ user: {} }, { workspace: '/Users/u/a\nb', home: HOME }).policy;
    assert.throws(() => seatbeltProfile(policy, req('/Users/u/a\nb')), /control character/);
  });

  it('compile: enforce carries the profile and Darwin rlimits; warn and disabled carry no profile', () => {
    const base = { runId: 'r', file: '/usr/bin/python3', argv: ['python3'], env: {}, cwd: WS, tmpDir: '/tmp/r', toolRoots: [], proxyPort: null };
    const enforce = resolvePolicy({ user: { limits: { cpuSeconds: 2, maxProcesses: 10, memoryMiB: 100 } } }, { workspace: WS, home: HOME }).policy;
    const plan = compileDarwinPlan(enforce, base, fixture(WS));
    assert.equal(plan.platform, 'darwin');
    assert.match(plan.seatbelt ?? '', /^\(version 1\)/);
    const resources = plan.rlimits.map((r) => r.resource);
    assert.ok(resources.includes('core') && resources.includes('cpu'));
    assert.ok(!resources.includes('nproc') && !resources.includes('as'), 'no nproc (per user) and no as (EINVAL): the watchdog holds those');
    for (const mode of ['warn', 'disabled'] as const) {
      const p = resolvePolicy({ user: { mode } }, { workspace: WS, home: HOME }).policy;
      assert.equal(compileDarwinPlan(p, base, fixture(WS)).seatbelt, null);
    }
  });
});
