// Bad input, property-based: the text of a workspace policy file (.vscode/sandbox.json, and a git-script's
// .script-sandbox.json) through the parsers the CLI and the host use. Every input ends in a parsed layer or a
// SandboxError (POLICY_INVALID / PROFILE_UNKNOWN) whose message names the file; valid files are never rejected.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePolicyFile, parseWorkspaceFile, resolvePolicy } from '../../../src/policy';
import { SandboxError } from '../../../src/errors';
import { anyJsonish, missingFieldWording, plain, applyEdits, assertReadable, jsoncStyle, jsoncText, params, replaceAt, textEdit, validPolicyInput } from './fuzz-support';

const SOURCE = '/ws/.vscode/sandbox.json';
const CTX = { workspace: '/ws', home: '/home/u' };

/** Parses as the CLI does; returns the error (typed, readable) or null when the text was accepted. */
function tryParse(text: string, parse: (t: string, s: string) => unknown = parseWorkspaceFile): SandboxError | null {
  try {
    parse(text, SOURCE);
    return null;
  } catch (e) {
    if (!(e instanceof SandboxError)) throw new Error(`untyped ${(e as Error)?.name}: ${(e as Error)?.message} for input ${JSON.stringify(text.slice(0, 200))}`);
    assert.ok(['POLICY_INVALID', 'PROFILE_UNKNOWN'].includes(e.code), `code ${e.code}`);
    assertReadable(e.message, text, 'policy file error');
    assert.ok(e.message.startsWith(SOURCE), `message does not name the file: ${e.message.slice(0, 200)}`);
    return e;
  }
}

describe('fuzz: workspace policy file text', function () {
  this.timeout(120_000);
  let rejected = 0;
  let accepted = 0;
  after(() => process.stdout.write(`      [fuzz] policy file: ${accepted} accepted, ${rejected} rejected with a typed error; ${missingFieldWording.count} said "received undefined" for a missing field\n`));

  it('valid layers, written as people write them, parse back to themselves and resolve', () => {
    fc.assert(
      fc.property(validPolicyInput, jsoncStyle, (generated, style) => {
        const layer = plain(generated);
        const text = jsoncText(layer, style);
        const got = parseWorkspaceFile(text, SOURCE);
        assert.deepEqual(got.layer, layer);
        assert.deepEqual(got.gitScripts, []);
        assert.deepEqual(parsePolicyFile(text, SOURCE), layer);
        // As the user's own layer it resolves; as a workspace layer it resolves or is refused as a loosening.
        resolvePolicy({ user: layer }, CTX);
        try {
          resolvePolicy({ workspace: layer }, CTX);
        } catch (e) {
          assert.ok(e instanceof SandboxError && e.code === 'POLICY_LOOSENING', String(e));
          assertReadable(e.message, layer, 'loosening');
        }
        accepted++;
      }),
      params(1000, 'valid policy files'),
    );
  });

  it('near-valid text (edits of a valid file) is accepted or refused with a typed error naming the file', () => {
    fc.assert(
      fc.property(validPolicyInput, jsoncStyle, fc.array(textEdit, { minLength: 1, maxLength: 3 }), (layer, style, edits) => {
        if (tryParse(applyEdits(jsoncText(layer, style), edits))) rejected++;
        else accepted++;
      }),
      params(3000, 'edited policy files'),
    );
  });

  it('valid files with one value replaced by another type are refused with a typed error', () => {
    fc.assert(
      fc.property(validPolicyInput, fc.nat(), anyJsonish, (layer, pick, value) => {
        const text = JSON.stringify(replaceAt(layer, pick, value));
        if (tryParse(text)) rejected++;
        else accepted++;
        tryParse(text, parsePolicyFile);
      }),
      params(3000, 'policy files with a wrong value'),
    );
  });

  it('garbage text and arbitrary JSON end in a typed error or a valid layer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.json({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ gitScripts: [v] }))), (text) => {
        if (tryParse(text)) rejected++;
        else accepted++;
      }),
      params(3000, 'garbage policy files'),
    );
  });

  it('a deeply nested document is a typed error, not a stack overflow', function () {
    // Was a reported bug: the recursive-descent JSONC parser overflowed the stack and the CLI printed
    // "internal error" with a stack trace. src/policy/jsonc.ts now bounds the depth (MAX_JSONC_DEPTH).
    for (const text of ['['.repeat(20_000), '{"a":'.repeat(20_000), `{"env":{"set":${'['.repeat(50_000)}`, `{\n  "a":\n${'['.repeat(65)}`]) {
      for (const parse of [parseWorkspaceFile, parsePolicyFile] as const) {
        const e = tryParse(text, parse);
        assert.ok(e, `accepted ${JSON.stringify(text.slice(0, 40))}…`);
        assert.equal(e.code, 'POLICY_INVALID');
        assert.match(e.message, /^\/ws\/\.vscode\/sandbox\.json:\d+:\d+: objects and lists nest more than 64 levels deep$/);
      }
    }
    // Line and column point at the first bracket too deep.
    assert.match(tryParse(`{\n  "a":\n${'['.repeat(65)}`)!.message, /sandbox\.json:3:64: /);
    // Exactly 64 levels (three objects, 61 lists) still parse; the schema then judges the content.
    const ok = `{"env":{"set":{"A":${'['.repeat(61)}${']'.repeat(61)}}}}`;
    const e = tryParse(ok);
    assert.ok(!e || !/nest more than/.test(e.message), e?.message);
  });
});
