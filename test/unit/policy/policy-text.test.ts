// One parser for .vscode/sandbox.json (src/policy/policy-text.ts over jsonc-parser): the editor's problems and
// the CLI's lines are the same text at the same line and column; BOM, duplicate keys and unknown keys the same
// way in both.
import * as assert from 'node:assert/strict';
import { analyzePolicyText } from '../../../src/policy/policy-text';
import { parseWorkspaceFile } from '../../../src/policy/policy-text';
import { SandboxError } from '../../../src/errors';
import { STARTER_POLICY } from '../../../src/extension/policy-starter';

function cliLines(text: string): string[] {
  try {
    parseWorkspaceFile(text, 'ws/.vscode/sandbox.json');
  } catch (e) {
    assert.ok(e instanceof SandboxError);
    return e.message.split('\n');
  }
  return [];
}

function problems(text: string) {
  const a = analyzePolicyText(text);
  assert.ok(!a.ok, 'problems expected');
  return a.problems;
}

describe('policy: one policy-file parser for the CLI and the editor', () => {
  it('the CLI prints FILE:LINE:COLUMN: and exactly the message the editor shows, one line per problem', () => {
    const text = '{\n  // typos\n  "mode": "block",\n  "netwrok": {},\n  "limits": { "cpuSeconds": -5 }\n}\n';
    const ps = problems(text);
    assert.equal(ps.length, 3, JSON.stringify(ps));
    assert.deepEqual(
      cliLines(text),
      ps.map((p) => `ws/.vscode/sandbox.json:${p.line}:${p.column}: ${p.message}`),
    );
    assert.ok(ps.some((p) => p.line === 3 && p.column === 3 && /^mode: /.test(p.message)));
    assert.ok(ps.some((p) => p.line === 4 && p.column === 3 && p.message === 'unknown key "netwrok" (did you mean "network"?)'));
    assert.ok(ps.some((p) => p.line === 5 && p.column === 15 && /^limits\.cpuSeconds: /.test(p.message)));
  });

  it('"did you mean" in nested objects, known keys when nothing is close', () => {
    assert.equal(problems('{ "filesystem": { "alowWrite": [] } }')[0]!.message, 'filesystem: unknown key "alowWrite" (did you mean "allowWrite"?)');
    assert.match(problems('{ "zzzzzzzzzz": 1 }')[0]!.message, /^unknown key "zzzzzzzzzz" \(known keys: mode, profile, /);
  });

  it('a duplicate key is an error at the second key, in the editor and the CLI alike', () => {
    const text = '{\n  "mode": "warn",\n  "mode": "enforce"\n}';
    const [p] = problems(text);
    assert.equal(p!.message, 'duplicate key "mode"');
    assert.deepEqual([p!.line, p!.column], [3, 3]);
    assert.deepEqual(cliLines(text), ['ws/.vscode/sandbox.json:3:3: duplicate key "mode"']);
  });

  it('a byte-order mark is skipped by both, and positions still count from the file start', () => {
    const ok = analyzePolicyText('\uFEFF{ "mode": "warn" }');
    assert.ok(ok.ok);
    assert.deepEqual(ok.layer, { mode: 'warn' });
    assert.deepEqual(parseWorkspaceFile('\uFEFF{ "mode": "warn" }', 'f').layer, { mode: 'warn' });
    const [p] = problems('\uFEFF{\n "mode": 1 }');
    assert.equal(p!.line, 2);
  });

  it('checks beyond the schema land on their key too (globs, addresses, hosts)', () => {
    const text = '{\n  "network": {\n    "allowAddresses": ["not-an-address"]\n  }\n}';
    const [p] = problems(text);
    assert.match(p!.message, /^network\.allowAddresses\[0\]: "not-an-address" is not CIDR\[:PORT\]/);
    assert.equal(p!.line, 3);
    assert.deepEqual(cliLines(text), [`ws/.vscode/sandbox.json:${p!.line}:${p!.column}: ${p!.message}`]);
  });

  it('an unknown profile keeps its own error code for the CLI', () => {
    const [p] = problems('{ "profile": "yolo" }');
    assert.equal(p!.code, 'PROFILE_UNKNOWN');
    assert.throws(() => parseWorkspaceFile('{ "profile": "yolo" }', 'f'), (e: unknown) => e instanceof SandboxError && e.code === 'PROFILE_UNKNOWN' && /unknown profile "yolo"/.test(e.message));
  });

  it('syntax problems are marked, so the editor can leave them to VS Code\'s JSON support', () => {
    const [p] = problems('{ "mode": "warn" "profile": "strict" }');
    assert.equal(p!.syntax, true);
  });
});

describe('policy: the starter policy file', () => {
  it('parses, is commented, and changes nothing until the user uncomments a line', () => {
    const a = analyzePolicyText(STARTER_POLICY);
    assert.ok(a.ok, JSON.stringify(!a.ok && a.problems));
    assert.deepEqual(a.layer, {});
    assert.match(STARTER_POLICY, /^\/\/ Script Sandbox/);
    // Every commented example is itself valid once uncommented.
    const uncommented = STARTER_POLICY.replace(/^(\s+)\/\/ ([^\n]*)$/gm, '$1$2');
    const b = analyzePolicyText(uncommented);
    assert.ok(b.ok, `${uncommented}\n${JSON.stringify(!b.ok && b.problems)}`);
    assert.equal(b.layer.mode, 'enforce');
  });
});
