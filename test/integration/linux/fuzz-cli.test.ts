// Bad input, property-based, against real CLI processes: a bounded number of `node dist/cli.js …` with
// generated arguments (the pure parser gets thousands in test/unit/fuzz/cli-args.test.ts). Every process
// ends on its own (no hang), with a documented exit status, and any error is one readable line starting
// "script-sandbox:" — never a stack trace, "internal error" or "undefined". Valid runs succeed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { fuzzSeed, runs } from '../../unit/fuzz/fuzz-support';
import { runCli } from './helpers';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-fuzz-cli-'));
const WS = path.join(ROOT, 'ws');
fs.mkdirSync(path.join(WS, '.vscode'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bad-policy.json'), '{ "profile": "strict", "limits": { "memoryMiB": -1 } }');
fs.writeFileSync(path.join(ROOT, 'syntax.json'), '{ "profile": "strict" ');
fs.writeFileSync(path.join(ROOT, 'ok-policy.json'), '// fine\n{ "profile": "strict", }');

const value = fc.oneof(
  fc.constantFrom(WS, path.join(ROOT, 'bad-policy.json'), path.join(ROOT, 'syntax.json'), path.join(ROOT, 'ok-policy.json'), path.join(ROOT, 'missing.json'), path.join(ROOT, 'ev.jsonl'), 'enforce', 'warn', 'disabled', 'strict', 'bogus', '0', '-1', '1.5', '5', 'NaN', '1e999', '', ' ', '~nobody/x', 'a\tb', '127.0.0.1/32:8080', 'not-an-address', '*.example.com', '..', '--'),
  fc.string({ maxLength: 10 }).filter((s) => !s.includes('\0')),
);
const flag = fc.constantFrom('--workspace', '--policy', '--events', '--mode', '--profile', '--timeout', '--cpu', '--memory', '--max-procs', '--max-file-size', '--open-files', '--allow-read', '--deny-read', '--allow-write', '--deny-write', '--read-only', '--report-reads', '--env-allow', '--net', '--allow-host', '--deny-host', '--allow-address', '--json', '--bogus', '-h', '--since', '--file', '--lines');
const tokens = fc.array(fc.oneof(flag, value, fc.tuple(flag, value).map(([f, v]) => `${f}=${v}`)), { maxLength: 6 });
const command = fc.constantFrom(['--', '/bin/true'], ['--', '/bin/echo', 'ok'], ['--', 'no-such-command-xyz'], ['--', WS], ['/bin/true'], [], ['--']);
const argv = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(tokens, command).map(([t, c]) => ['run', '--workspace', WS, '--timeout', '20', ...t, ...c]) },
  { weight: 2, arbitrary: tokens.map((t) => ['explain', ...t]) },
  { weight: 1, arbitrary: tokens.map((t) => ['audit', ...t]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('audit', 'git-cache', 'git-run', 'bogus', '', 'help', 'check'), tokens).map(([s, t]) => [s, ...t.filter((x) => !x.startsWith('--workspace') && !x.startsWith('--file'))]) },
);

// The exit statuses the CLI documents: the script's (0 for /bin/true and echo), 1 (check/verify), 2 usage,
// 125 setup/policy error, 126 not executable, 127 not found.
const DOCUMENTED = new Set([0, 1, 2, 125, 126, 127]);

describe('fuzz: CLI processes (node dist/cli.js)', function () {
  this.timeout(600_000);
  after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

  it('every generated command line ends on its own with a documented status and a readable message', async () => {
    const seed = fuzzSeed();
    const n = runs(80);
    const cases = fc.sample(argv, { seed, numRuns: n });
    process.stdout.write(`      [fuzz] CLI processes: ${n} command lines, seed ${seed} (replay: SS_FUZZ_SEED=${seed}), 4 at a time\n`);
    const tally: Record<string, number> = {};
    const problems: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const args = cases[next++]!;
        const r = await runCli(args, { cwd: WS, timeoutMs: 60_000 });
        tally[String(r.code ?? r.signal)] = (tally[String(r.code ?? r.signal)] ?? 0) + 1;
        const inputText = JSON.stringify(args);
        const err = r.stderr;
        const say = (what: string) => problems.push(`${what}: ${JSON.stringify(args)} → exit ${r.code ?? r.signal}; stderr ${JSON.stringify(err.slice(0, 300))}`);
        if (r.signal) say('killed (hung past 60 s)');
        else if (!DOCUMENTED.has(r.code!)) say('undocumented exit status');
        if (/\n\s+at \S+ \(|internal error/.test(err)) say('stack trace or internal error');
        if (/undefined|\[object Object\]/.test(err) && !/undefined|\[object Object\]/.test(inputText)) say('"undefined" in the message');
        if (r.code === 2 || r.code === 125) {
          if (!/^script-sandbox: \S/m.test(err) && !/^script-sandbox — /m.test(r.stdout + err) && !/^usage|^script-sandbox audit/im.test(r.stdout + err)) say('error without a "script-sandbox:" line');
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    process.stdout.write(`      [fuzz] CLI processes: exit statuses ${JSON.stringify(tally)}\n`);
    assert.deepEqual(problems, []);
  });

  it('a mistyped --workspace is a usage error and creates nothing', async () => {
    const typo = path.join(ROOT, 'no-such-ws');
    const r = await runCli(['run', '--workspace', typo, '--', '/bin/true'], { cwd: WS });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^script-sandbox: --workspace .*no-such-ws: not a directory$/m);
    assert.ok(!fs.existsSync(typo), 'the run created the mistyped workspace');
  });

  it('a valid run through the real CLI succeeds with its output', async () => {
    const r = await runCli(['run', '--workspace', WS, '--policy', path.join(ROOT, 'ok-policy.json'), '--timeout', '20', '--', '/bin/echo', 'valid'], { cwd: WS });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'valid\n');
  });
});
