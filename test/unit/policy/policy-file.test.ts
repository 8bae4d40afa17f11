// parsePolicyFile: JSON with comments and trailing commas; errors name the file, line and column.
import * as assert from 'node:assert/strict';
import { parsePolicyFile, parseJsonc } from '../../../src/policy';
import { SandboxError } from '../../../src/errors';

function fails(text: string, file = '/ws/.vscode/sandbox.json'): SandboxError {
  try {
    parsePolicyFile(text, file);
  } catch (e) {
    assert.ok(e instanceof SandboxError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

describe('policy/parsePolicyFile', () => {
  it('accepts // and /* */ comments and trailing commas', () => {
    const text = `// the team's policy
{
  /* tighten a bit */
  "profile": "strict", // no network
  "limits": { "memoryMiB": 512, },
  "filesystem": {
    "denyWrite": ["dist/**", "build",],   /* generated */
  },
}
`;
    assert.deepEqual(parsePolicyFile(text, 'sandbox.json'), { profile: 'strict', limits: { memoryMiB: 512 }, filesystem: { denyWrite: ['dist/**', 'build'] } });
  });

  it('keeps // and /* inside strings', () => {
    const p = parsePolicyFile('{ "network": { "allowHosts": ["a.com"] }, "env": { "set": { "URL": "https://x.com/a//b", "C": "/* not a comment */", "Q": "say \\"hi\\" // ok" } } }', 'f.json');
    assert.deepEqual(p.env?.set, { URL: 'https://x.com/a//b', C: '/* not a comment */', Q: 'say "hi" // ok' });
  });

  it('a comma inside a string before } is no trailing comma', () => {
    assert.deepEqual(parseJsonc('{"a": ",}", "b": [",]"]}'), { a: ',}', b: [',]'] });
  });

  it('handles a BOM, escapes and an empty object', () => {
    assert.deepEqual(parsePolicyFile('\uFEFF{}', 'f.json'), {});
    assert.deepEqual(parseJsonc('{"s": "\\u00e9\\n\\t"}'), { s: 'é\n\t' });
  });

  it('a syntax error names the file, line and column', () => {
    const e = fails('{\n  "profile": "strict"\n  "mode": "warn"\n}');
    assert.equal(e.code, 'POLICY_INVALID');
    assert.match(e.message, /^\/ws\/\.vscode\/sandbox\.json:3:3: expected ',' or '}'/);
  });

  it('more syntax errors with their positions', () => {
    assert.match(fails('{ "a": }', 'p.json').message, /^p\.json:1:8: expected a value but found '}'/);
    assert.match(fails('{ "a": 1 /* open', 'p.json').message, /^p\.json:1:10: unterminated \/\* comment/);
    assert.match(fails('{\n "a": "abc\n}', 'p.json').message, /^p\.json:2:\d+: unterminated string/);
    assert.match(fails("{ 'a': 1 }", 'p.json').message, /^p\.json:1:3: expected a property name/);
    assert.match(fails('', 'p.json').message, /^p\.json:1:1: the file is empty/);
    assert.match(fails('{} {}', 'p.json').message, /^p\.json:1:4: unexpected '{' after the end/);
    assert.match(fails('{ "mode": "warn", "mode": "enforce" }', 'p.json').message, /^p\.json:1:19: duplicate key "mode"/);
    assert.match(fails('[1,,2]', 'p.json').message, /^p\.json:1:4: expected a value/);
    assert.match(fails('{"a": 01}', 'p.json').message, /^p\.json:1:7: invalid number/);
  });

  it('a schema error names the file and the field', () => {
    const e = fails('{ "limits": { "memoryMiB": -5 } }', '/tmp/bad.json');
    assert.equal(e.code, 'POLICY_INVALID');
    assert.equal(e.message, '/tmp/bad.json: limits.memoryMiB: Too small: expected number to be >0');
  });

  it('an unknown profile in a file is PROFILE_UNKNOWN', () => {
    const e = fails('{ "profile": "yolo" }', 'p.json');
    assert.equal(e.code, 'PROFILE_UNKNOWN');
    assert.match(e.message, /strict, moderate, permissive/);
  });

  it('__proto__ stays a plain key and is rejected by the schema', () => {
    const e = fails('{ "__proto__": { "mode": "disabled" } }', 'p.json');
    assert.match(e.message, /Unrecognized key/);
    assert.equal(({} as Record<string, unknown>).mode, undefined);
  });
});
