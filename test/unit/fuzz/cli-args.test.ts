// Bad input, property-based: `script-sandbox run|explain` flags through the CLI's pure parser and then the
// policy validation the CLI applies to them. Every argv ends in parsed args or a UsageError/SandboxError with
// a readable message that names the flag or field; valid flags are never rejected. (Real `node dist/cli.js`
// processes get the same treatment, fewer of them, in test/integration/linux/fuzz-cli.test.ts.)
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRunArgs, UsageError, RUN_FLAGS_HELP } from '../../../src/cli/args';
import { validateLayer } from '../../../src/policy';
import { SandboxError } from '../../../src/errors';
import { assertReadable, params, validGlob } from './fuzz-support';

const VALUE_FLAGS = ['--workspace', '--policy', '--events', '--audit'];
const word = fc.oneof(
  fc.constantFrom(...RUN_FLAGS_HELP, ...VALUE_FLAGS, '--json', '--', '-', '--=', '--mode=', '--cpu=0', '--timeout=-1', '--memory=1e3', '--unknown', '-x', '', 'enforce', 'warn', 'strict', 'none', 'NaN', 'Infinity', '0x10', '1.5', '/bin/true', '\u0000'),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.constantFrom(...RUN_FLAGS_HELP).chain((f) => fc.string({ maxLength: 8 }).map((v) => `${f}=${v}`)),
);

/** Parses like cmdRun/cmdExplain; returns what happened. */
function parseLikeCli(argv: string[]): 'ok' | 'usage' | 'policy' {
  let layer;
  try {
    layer = parseRunArgs(argv, '/ws').layer;
  } catch (e) {
    if (!(e instanceof UsageError)) throw new Error(`untyped ${(e as Error)?.name}: ${(e as Error)?.message} for ${JSON.stringify(argv)}`);
    assertReadable(e.message, argv, 'usage error');
    assert.match(e.message, /--|command/, 'a usage error names the flag');
    return 'usage';
  }
  try {
    validateLayer(layer, 'run flags');
    return 'ok';
  } catch (e) {
    if (!(e instanceof SandboxError)) throw new Error(`untyped ${(e as Error)?.name}: ${(e as Error)?.message} for ${JSON.stringify(argv)}`);
    assertReadable(e.message, argv, 'flag policy error');
    assert.match(e.message, /^run flags: /);
    return 'policy';
  }
}

describe('fuzz: CLI arguments (pure parser)', function () {
  this.timeout(120_000);
  const tally = { ok: 0, usage: 0, policy: 0 };
  after(() => process.stdout.write(`      [fuzz] CLI args: ${tally.ok} accepted, ${tally.usage} usage errors, ${tally.policy} policy errors\n`));

  it('random argv ends in parsed args or a typed, readable error', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 10 }), (argv) => void tally[parseLikeCli(argv)]++),
      params(5000, 'random CLI argv'),
    );
  });

  const validFlag = fc.oneof(
    fc.constantFrom('disabled', 'warn', 'enforce').map((v) => ['--mode', v]),
    fc.constantFrom('strict', 'moderate', 'permissive').map((v) => [`--profile=${v}`]),
    fc.constantFrom('none', 'strict', 'api-only', 'default').map((v) => ['--net', v]),
    fc.double({ min: 0.01, max: 2_000_000, noNaN: true }).map((v) => ['--timeout', String(v)]),
    fc.tuple(fc.constantFrom('--cpu', '--max-procs', '--open-files', '--memory', '--max-file-size'), fc.integer({ min: 1, max: 1_000_000 })).map(([f, v]) => [f, String(v)]),
    fc.tuple(fc.constantFrom('--allow-read', '--deny-read', '--allow-write', '--deny-write'), validGlob).map(([f, g]) => [`${f}=${g}`]),
    fc.constantFrom(['--read-only'], ['--report-reads'], ['--json'], ['--env-allow', 'LC_*'], ['--allow-host', '*.example.com'], ['--deny-host', 'evil.example'], ['--allow-address', '127.0.0.1/32:8080']),
  );

  it('valid flags are never rejected, and the command after them is kept whole', () => {
    fc.assert(
      fc.property(fc.array(validFlag, { maxLength: 8 }), fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 4 }), (flags, command) => {
        const argv = [...flags.flat(), '--', ...command];
        const args = parseRunArgs(argv, '/ws');
        assert.deepEqual(args.command, command);
        validateLayer(args.layer, 'run flags');
        tally.ok++;
      }),
      params(3000, 'valid CLI flags'),
    );
  });
});
