// The extension's pure parts, without VS Code: where a violation belongs in a script, how a policy file's
// problems are placed on their keys, and which quick fixes a violation gets.
import * as assert from 'node:assert/strict';
import type { Violation } from '../../../src/policy/violation';
import { candidatesFor, findMention } from '../../../src/extension/locate';
import { analyzePolicyText } from '../../../src/extension/policy-text';
import { fixesFor } from '../../../src/extension/fixes';
import { SCRIPTS, VIOLATION_LINES } from '../../e2e/fixtures';

const base: Violation = { runId: 'r', time: '2026-01-01T00:00:00.000Z', kind: 'file', action: 'blocked', severity: 'critical', rule: 'protected:~/.bashrc', message: 'Blocked write of /home/u/.bashrc' };

describe('extension: locating a violation in the script', () => {
  it('finds $HOME/… for a path under home, on the line that writes it', () => {
    const v = { ...base, path: '/home/u/.bashrc', resolvedPath: '/home/u/.bashrc' };
    const m = findMention(SCRIPTS['deploy.sh']!, candidatesFor(v, '/ws', '/home/u'));
    assert.equal(m.line + 1, VIOLATION_LINES['deploy.sh']);
    assert.equal(SCRIPTS['deploy.sh']!.split('\n')[m.line]!.slice(m.start, m.end), '$HOME/.bashrc');
  });

  it('finds the address of a network violation', () => {
    const v: Violation = { ...base, kind: 'network', address: '169.254.169.254', port: 80, rule: 'metadata', message: 'Blocked connect' };
    const m = findMention(SCRIPTS['metadata.py']!, candidatesFor(v, '/ws', '/home/u'));
    assert.equal(m.line + 1, VIOLATION_LINES['metadata.py']);
  });

  it('prefers the most specific text, and workspace-relative paths', () => {
    const text = 'echo .env\ncat config/.env\n';
    const v = { ...base, path: '/ws/config/.env' };
    assert.equal(findMention(text, candidatesFor(v, '/ws', '/home/u')).line, 1);
  });

  it('falls back to the first line of code, not the shebang', () => {
    const v: Violation = { ...base, kind: 'syscall', syscall: 'ptrace', rule: 'seccomp:deny ptrace', message: 'Blocked ptrace' };
    assert.deepEqual(findMention('#!/bin/sh\n\nstrace ls\n', candidatesFor(v, '/ws', '/home/u')), { line: 2, start: 0, end: 9 });
  });
});

describe('extension: workspace policy text', () => {
  const at = (text: string, offset: number) => text.slice(offset);

  it('accepts a valid file with comments and trailing commas', () => {
    const r = analyzePolicyText('{\n  // tighter for CI\n  "mode": "enforce",\n  "limits": { "cpuSeconds": 10, },\n}\n');
    assert.ok(r.ok);
    assert.deepEqual(r.layer, { mode: 'enforce', limits: { cpuSeconds: 10 } });
  });

  it('puts a bad value on its key, and each unknown key on itself', () => {
    const text = '{\n  "mode": "block",\n  "netwrok": {},\n  "limits": { "cpuSeconds": -1, "ram": 5 }\n}';
    const r = analyzePolicyText(text);
    assert.ok(!r.ok);
    const byText = r.problems.map((p) => [text.slice(p.offset, p.offset + p.length), p.message]);
    assert.ok(byText.some(([k, m]) => k === '"mode"' && /^mode: /.test(m!)), JSON.stringify(byText));
    assert.ok(byText.some(([k, m]) => k === '"netwrok"' && /unknown key "netwrok"/.test(m!)));
    assert.ok(byText.some(([k, m]) => k === '"cpuSeconds"' && /^limits\.cpuSeconds: /.test(m!)));
    assert.ok(byText.some(([k, m]) => k === '"ram"' && /^limits: unknown key "ram"/.test(m!)));
  });

  it('reports JSON syntax errors where they are', () => {
    const text = '{ "mode": "warn" "profile": "strict" }';
    const r = analyzePolicyText(text);
    assert.ok(!r.ok);
    assert.match(r.problems[0]!.message, /^expected ',' or '}' after the value of "mode" but found '"'$/);
    assert.equal(r.problems[0]!.syntax, true);
    assert.match(at(text, r.problems[0]!.offset), /^"profile"/);
  });
});

describe('extension: quick fixes for a violation', () => {
  it('allows writing the blocked path (absolute outside the workspace, relative inside), or switches to warn', () => {
    const out = fixesFor({ ...base, path: '/home/u/.bashrc', syscall: 'openat', message: 'Blocked write of /home/u/.bashrc' }, '/ws');
    assert.deepEqual(out.map(([t]) => t), ['Allow writing to /home/u/.bashrc in this workspace', 'Switch this workspace to warn mode']);
    assert.deepEqual(out[0]![1], { kind: 'append', path: ['filesystem', 'allowWrite'], value: '/home/u/.bashrc' });
    const inside = fixesFor({ ...base, path: '/ws/build/out.txt', message: 'Blocked write of /ws/build/out.txt' }, '/ws');
    assert.deepEqual(inside[0]![1], { kind: 'append', path: ['filesystem', 'allowWrite'], value: 'build/out.txt' });
  });

  it('allows a host by name, else its address', () => {
    const net = { ...base, kind: 'network' as const, message: 'Blocked connect' };
    assert.deepEqual(fixesFor({ ...net, host: 'api.example.com' }, '/ws')[0]![1], { kind: 'append', path: ['network', 'allowHosts'], value: 'api.example.com' });
    assert.deepEqual(fixesFor({ ...net, address: '10.0.0.5', port: 5432 }, '/ws')[0]![1], { kind: 'append', path: ['network', 'allowAddresses'], value: '10.0.0.5/32:5432' });
  });

  it('offers nothing for what warn mode already let through', () => {
    assert.deepEqual(fixesFor({ ...base, action: 'warned', path: '/home/u/.bashrc' }, '/ws'), []);
  });
});
