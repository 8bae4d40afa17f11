// The built CLI (node dist/cli.js) as a user meets it: --version, --help for every subcommand with value
// names, exit 2 for usage mistakes with nothing created, colour only on a terminal without NO_COLOR.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const VERSION = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;

function cli(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: usage (node dist/cli.js)', function () {
  this.timeout(120_000);
  let ws: string;
  beforeEach(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-cli-usage-'));
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));
  const untouched = () => assert.deepEqual(fs.readdirSync(ws), [], 'nothing created in the workspace');

  it('--version prints the package version', () => {
    for (const flag of ['--version', '-V']) {
      const r = cli([flag], ws);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `script-sandbox ${VERSION}\n`);
    }
  });

  const HELP: Record<string, string[]> = {
    run: ['Usage: script-sandbox run [options] [--] COMMAND [ARGS...]', '--workspace DIR', '--policy FILE', '--timeout SECONDS', '--memory MiB', '--allow-host HOST'],
    explain: ['Usage: script-sandbox explain [options]', '--profile PROFILE'],
    check: ['Usage: script-sandbox check [options]', '--json'],
    demo: ['Usage: script-sandbox demo'],
    bench: ['Usage: script-sandbox bench [options]', '--iterations N', '--json-file FILE'],
    'git-run': ['Usage: script-sandbox git-run [options] [-- ARGS...]', '--repo URL', '--ref REF', '--script PATH', '--name NAME', '--cache DIR'],
    'git-cache': ['Usage: script-sandbox git-cache [options] clean', '--cache DIR'],
    'audit tail': ['Usage: script-sandbox audit tail [options]', '-n, --lines N', '-f, --follow', '--file FILE'],
    'audit stats': ['Usage: script-sandbox audit stats [options]', '--since DURATION'],
    'audit verify': ['Usage: script-sandbox audit verify [options] [FILE]', '--workspace DIR'],
  };
  for (const [sub, lines] of Object.entries(HELP)) {
    it(`${sub} --help: exit 0, usage with value names, nothing created`, () => {
      const r = cli([...sub.split(' '), '--help'], ws);
      assert.equal(r.code, 0, r.stderr);
      for (const l of lines) assert.ok(r.stdout.includes(l), `"${l}" in:\n${r.stdout}`);
      assert.ok(!/\x1b\[/.test(r.stdout), 'no colour into a pipe');
      untouched();
    });
  }

  it('help RUN is run --help', () => {
    assert.equal(cli(['help', 'run'], ws).stdout, cli(['run', '--help'], ws).stdout);
  });

  const MISTAKES: Array<[string[], RegExp]> = [
    [['run', '--mode', 'wrn', '--', '/bin/true'], /^script-sandbox: --mode takes disabled, warn or enforce, got "wrn" \(did you mean warn\?\)$/m],
    [['run', '--mod', 'warn', '/bin/true'], /unknown flag --mod for script-sandbox run \(did you mean --mode\?\)/],
    [['run', '--cpu', '0', '/bin/true'], /--cpu takes a positive whole number/],
    [['run', '--policy', 'missing.json', '/bin/true'], /--policy missing\.json: no such file/],
    [['run', '--deny-read', '~nobody/x', '/bin/true'], /run flags: filesystem\.denyRead\[0\]/],
    [['run', '--mode', 'warn'], /run needs a command/],
    [['chek'], /unknown command "chek" \(did you mean check\?\)/],
    [['audit', 'tail', '--lines', 'x'], /--lines takes a whole number/],
    [['bench', '--iterations', 'many'], /--iterations takes a positive whole number/],
    [['git-cache', 'clean', '--bogus'], /unknown flag --bogus/],
    [['check', 'extra'], /check takes no operand/],
  ];
  for (const [args, re] of MISTAKES) {
    it(`${args.join(' ')}: exit 2 before anything is created`, () => {
      const r = cli(args, ws);
      assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re);
      untouched();
    });
  }

  it('a run with valid flags still works, and the command keeps its own flags', () => {
    const r = cli(['run', '--mode', 'disabled', '/bin/echo', '-n', 'plain'], ws);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'plain');
  });

  it('approve: a loosening workspace policy is refused naming the command, approved with --yes for exactly that text', () => {
    const cfg = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-cli-cfg-'));
    try {
      const env = { XDG_CONFIG_HOME: cfg };
      fs.mkdirSync(path.join(ws, '.vscode'));
      const file = path.join(ws, '.vscode', 'sandbox.json');
      fs.writeFileSync(file, '{ "profile": "permissive" }\n');
      const refused = cli(['explain', '--workspace', ws], ws, env);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /POLICY_LOOSENING: workspace policy would loosen your policy: .*To approve it from a terminal: script-sandbox approve --workspace /);
      const noTty = cli(['approve', '--workspace', ws], ws, env);
      assert.equal(noTty.code, 3, noTty.stderr);
      assert.match(noTty.stderr, /not approved \(no terminal to ask on: pass --yes to approve\)/);
      assert.ok(!fs.existsSync(path.join(cfg, 'script-sandbox', 'loosening-approvals.json')), 'nothing recorded');
      const yes = cli(['approve', '--workspace', ws, '--yes'], ws, env);
      assert.equal(yes.code, 0, yes.stderr);
      assert.equal((fs.statSync(path.join(cfg, 'script-sandbox', 'loosening-approvals.json')).mode & 0o777).toString(8), '600');
      const explained = cli(['explain', '--workspace', ws], ws, env);
      assert.equal(explained.code, 0, explained.stderr);
      assert.equal(JSON.parse(explained.stdout).policy.profile, 'permissive');
      // Another user (another config dir) has approved nothing; an edit needs a new approval.
      assert.equal(cli(['explain', '--workspace', ws], ws, { XDG_CONFIG_HOME: path.join(cfg, 'other') }).code, 2);
      fs.writeFileSync(file, '{ "profile": "permissive", "mode": "warn" }\n');
      assert.equal(cli(['explain', '--workspace', ws], ws, env).code, 2);
    } finally {
      fs.rmSync(cfg, { recursive: true, force: true });
    }
  });

  it('a broken workspace policy: one FILE:LINE:COLUMN line per problem, with did-you-mean', () => {
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, '.vscode', 'sandbox.json'), '{\n  "mode": "block",\n  "netwrok": {}\n}\n');
    const r = cli(['explain', '--workspace', ws], ws);
    assert.equal(r.code, 2);
    const file = path.join(ws, '.vscode', 'sandbox.json');
    assert.ok(r.stderr.includes(`${file}:2:3: mode: `), r.stderr);
    assert.ok(r.stderr.includes(`${file}:3:3: unknown key "netwrok" (did you mean "network"?)`), r.stderr);
  });

  describe('colour', () => {
    // util-linux script(1) gives the CLI a terminal for stdout.
    const onTty = (args: string[], env: Record<string, string>) => {
      const cmd = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
      return spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: ws, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), TERM: 'xterm', ...env }, timeout: 60_000 });
    };
    before(function () {
      if (spawnSync('script', ['--version']).status !== 0) this.skip(); // no util-linux script(1) to make a terminal
    });
    it('on a terminal: coloured; with NO_COLOR: plain', () => {
      const coloured = onTty(['run', '--help'], {});
      assert.equal(coloured.status, 0);
      assert.match(coloured.stdout, /\x1b\[1mUsage:\x1b\[22m/);
      const plain = onTty(['run', '--help'], { NO_COLOR: '1' });
      assert.equal(plain.status, 0);
      assert.ok(plain.stdout.includes('Usage:'));
      assert.ok(!/\x1b\[/.test(plain.stdout), 'no escape sequences with NO_COLOR');
    });
  });
});
