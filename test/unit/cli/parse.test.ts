// The CLI's one argument parser (src/cli/parse.ts over node:util parseArgs): where a command starts, choices,
// "did you mean", help with value names, colour only for a terminal without NO_COLOR.
import * as assert from 'node:assert/strict';
import { parseRunArgs, RUN_SPEC, EXPLAIN_SPEC } from '../../../src/cli/args';
import { colours, editDistance, HelpRequest, helpText, parseCommand, UsageError, type CommandSpec } from '../../../src/cli/parse';

const usage = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof UsageError, `a UsageError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match(e.message, re);
    return true;
  });

describe('cli: the shared argument parser', () => {
  it('the first operand starts the command; its own flags are not ours', () => {
    const a = parseRunArgs(['--mode', 'warn', 'ls', '-la', '--mode', 'x'], '/ws');
    assert.deepEqual(a.command, ['ls', '-la', '--mode', 'x']);
    assert.equal(a.layer.mode, 'warn');
    assert.deepEqual(parseRunArgs(['--timeout=5', '--', '-weird', 'arg'], '/ws').command, ['-weird', 'arg']);
  });

  it('repeatable flags keep their order; value flags take values that look like operands', () => {
    const a = parseRunArgs(['--allow-read', 'a', '--allow-read=b', '--workspace', 'ws', '--read-only', 'cmd'], '/cwd');
    assert.deepEqual(a.layer.filesystem?.allowRead, ['a', 'b']);
    assert.equal(a.layer.filesystem?.readOnly, true);
    assert.equal(a.workspace, 'ws');
    assert.deepEqual(a.command, ['cmd']);
  });

  it('a value outside the choices is a usage error with a suggestion', () => {
    usage(() => parseRunArgs(['--mode', 'wrn', '--', 'true'], '/ws'), /^--mode takes disabled, warn or enforce, got "wrn" \(did you mean warn\?\)$/);
    usage(() => parseRunArgs(['--net', 'nope', 'true'], '/ws'), /^--net takes none, strict, api-only or default/);
  });

  it('an unknown flag names itself and the closest known one', () => {
    usage(() => parseRunArgs(['--mod', 'warn', 'true'], '/ws'), /unknown flag --mod .*did you mean --mode\?/);
    usage(() => parseRunArgs(['--allow-wirte', 'x', 'true'], '/ws'), /did you mean --allow-write\?/);
    usage(() => parseRunArgs(['--zzzzzz', 'true'], '/ws'), /^unknown flag --zzzzzz for script-sandbox run; see script-sandbox run --help$/);
  });

  it('missing values, values for switches, numbers', () => {
    usage(() => parseRunArgs(['--mode'], '/ws'), /--mode needs a value \(MODE\)/);
    usage(() => parseRunArgs(['--read-only=yes', 'true'], '/ws'), /--read-only takes no value/);
    usage(() => parseRunArgs(['--timeout', '-1', 'true'], '/ws'), /--timeout needs a value; for one that starts with a dash write --timeout=VALUE/);
    usage(() => parseRunArgs(['--cpu', '1.5', 'true'], '/ws'), /--cpu takes a positive whole number, got "1.5"/);
  });

  it('explain takes no operand', () => {
    usage(() => parseRunArgs(['--mode', 'warn', 'ls'], '/ws', EXPLAIN_SPEC), /explain takes no operand \(got "ls"\)/);
  });

  it('--help and -h anywhere before the command are help, with value names and choices', () => {
    for (const argv of [['--help'], ['--mode', 'warn', '-h'], ['--bogus', '--help']]) {
      assert.throws(() => parseRunArgs(argv, '/ws'), (e: unknown) => e instanceof HelpRequest && /^Usage: script-sandbox run \[options\] \[--\] COMMAND/.test(e.text));
    }
    // After the command, --help is the command's.
    assert.deepEqual(parseRunArgs(['true', '--help'], '/ws').command, ['true', '--help']);
    const text = helpText(RUN_SPEC);
    for (const line of ['--workspace DIR', '--memory MiB', '--allow-address CIDR[:PORT]', '--mode MODE', 'one of disabled, warn, enforce', '-h, --help']) assert.ok(text.includes(line), `help has "${line}"`);
  });

  it('short options and no-operand commands', () => {
    const spec: CommandSpec = { name: 't', summary: '', options: { lines: { type: 'string', short: 'n', help: '' } }, positionals: 'none' };
    assert.equal(parseCommand(spec, ['-n', '5']).values.lines, '5');
    usage(() => parseCommand(spec, ['x']), /takes no operand/);
  });

  it('colour only for a terminal and without NO_COLOR', () => {
    assert.equal(colours({ isTTY: true }, {}).bold('x'), '\x1b[1mx\x1b[22m');
    assert.equal(colours({ isTTY: true }, { NO_COLOR: '1' }).bold('x'), 'x');
    assert.equal(colours({ isTTY: false }, {}).red('x'), 'x');
    assert.equal(colours({ isTTY: true }, { TERM: 'dumb' }).red('x'), 'x');
  });

  it('edit distance', () => {
    assert.equal(editDistance('wrn', 'warn'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });
});
