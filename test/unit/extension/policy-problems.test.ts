// Problems for an invalid .vscode/sandbox.json (policy-problems.ts): one error per problem at its key, its
// code the CLI's error code, linked to the README section on the file's format (which exists).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzePolicyText } from '../../../src/extension/policy-text';
import { POLICY_FILE_ANCHOR, policyDiagnostics } from '../../../src/extension/policy-problems';
import { headingLine } from '../../../src/extension/rule-docs';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const problemsOf = (text: string) => {
  const a = analyzePolicyText(text);
  assert.equal(a.ok, false, 'the text is invalid');
  return a.ok ? [] : a.problems;
};

describe('extension: diagnostics of the policy file itself', () => {
  it('the README section they link to exists, as a level-4 heading under the policy file\'s section', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const line = headingLine(readme, POLICY_FILE_ANCHOR);
    assert.ok(line !== undefined, `README has a heading #${POLICY_FILE_ANCHOR}`);
    const lines = readme.split('\n');
    assert.match(lines[line]!, /^####\s/);
    const parent = lines.slice(0, line).reverse().find((l) => /^###\s/.test(l));
    assert.equal(parent, '### The workspace policy file and Workspace Trust');
  });

  it('the e2e file: three errors, three diagnostics, each an error on its key with a linked code', () => {
    const text = '{\n  "mode": "block",\n  "netwrok": {},\n  "limits": { "cpuSeconds": 1.5 }\n}\n';
    const d = policyDiagnostics(text, problemsOf(text), true);
    assert.equal(d.length, 3, JSON.stringify(d));
    assert.deepEqual(d.map((x) => x.start.line).sort(), [1, 2, 3]);
    for (const x of d) {
      assert.equal(x.severity, 'error');
      assert.equal(x.source, 'sandbox');
      assert.deepEqual(x.code, { value: 'POLICY_INVALID', anchor: POLICY_FILE_ANCHOR });
    }
    const key = d.find((x) => x.message.includes('netwrok'))!;
    assert.deepEqual([key.start, key.end], [{ line: 2, character: 2 }, { line: 2, character: 11 }], 'on the key "netwrok", quotes included');
    assert.match(key.message, /did you mean "network"/);
  });

  it('an unknown profile carries PROFILE_UNKNOWN, the code the CLI uses for it', () => {
    const text = '{ "profile": "paranoid" }';
    const d = policyDiagnostics(text, problemsOf(text), false);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.code.value, 'PROFILE_UNKNOWN');
  });

  it('a syntax error: one diagnostic from a file on disk, none in an open JSON editor (VS Code reports it)', () => {
    const text = '{\n  "mode": "warn",\n  "mode": "enforce"\n}';
    const problems = problemsOf(text);
    assert.equal(policyDiagnostics(text, problems, false).length, 1);
    assert.equal(policyDiagnostics(text, problems, true).length, 0);
  });

  it('the same problem reached twice is one row', () => {
    const text = '{ "mode": "x" }';
    const p = problemsOf(text);
    const d = policyDiagnostics(text, [...p, ...p.map((x) => ({ ...x }))], false);
    assert.equal(d.length, p.length);
  });
});
