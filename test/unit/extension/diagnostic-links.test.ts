// What a violation diagnostic links to: the README section of its rule (every family's heading exists, so
// no link is dead), its record in the audit log, and which quick fix is the preferred one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Violation } from '../../../src/policy/violation';
import { auditLinesFor } from '../../../src/extension/audit-lines';
import { fixesFor, preferredFix } from '../../../src/extension/fixes';
import { headingLine, RULE_HEADINGS, ruleAnchor, ruleFamily, slugOf } from '../../../src/extension/rule-docs';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const v = (o: Partial<Violation>): Violation => ({ runId: 'r1', time: '2026-01-01T00:00:00.000Z', kind: 'file', action: 'blocked', severity: 'error', rule: 'x', message: 'm', ...o });

describe('extension: violation diagnostics link to their rule and their audit record', () => {
  it('every rule family has its section in the README (the link target exists)', () => {
    for (const [family, heading] of Object.entries(RULE_HEADINGS)) {
      const line = headingLine(readme, slugOf(heading));
      assert.ok(line !== undefined, `README has a heading "${heading}" (#${slugOf(heading)}) for ${family}`);
      assert.match(readme.split('\n')[line]!, /^####\s/);
    }
  });

  it('maps the rules the host and the evaluator produce to their family', () => {
    const cases: Array<[Partial<Violation>, string]> = [
      [{ rule: 'protected:~/.ssh' }, 'protected'],
      [{ rule: 'filesystem.nestedRepository' }, 'protected'],
      [{ rule: 'denyWrite:build/**' }, 'filesystem'],
      [{ rule: 'profile:strict(no-write-outside)' }, 'filesystem'],
      [{ rule: 'outside-granted-paths' }, 'filesystem'],
      [{ kind: 'network', rule: 'cloud-metadata:169.254.169.254/32' }, 'metadata'],
      [{ kind: 'network', rule: 'private:10.0.0.0/8' }, 'network'],
      [{ kind: 'network', rule: 'blocked-port:22' }, 'network'],
      [{ kind: 'network', rule: 'preset:strict(not-allowed)' }, 'network'],
      [{ kind: 'network', rule: 'unix-socket-outside-workspace' }, 'unixSockets'],
      [{ kind: 'syscall', rule: 'seccomp:deny ptrace' }, 'syscalls'],
      [{ kind: 'resource', rule: 'limit:memory' }, 'limits'],
      [{ kind: 'network', rule: 'something-new' }, 'network'],
      [{ kind: 'env', rule: 'env:SECRET' }, 'other'],
    ];
    for (const [o, family] of cases) assert.equal(ruleFamily(v(o)), family, o.rule);
    assert.equal(ruleAnchor(v({ rule: 'protected:~/.ssh' })), 'rule-protected-paths');
  });

  it('finds each violation\'s own record in the audit log, else its run\'s start, never another run\'s', () => {
    const a = v({ rule: 'protected:~/.bashrc' });
    const b = v({ time: '2026-01-01T00:00:01.000Z', kind: 'network', rule: 'cloud-metadata:169.254.169.254/32' });
    const other = v({ runId: 'r2' });
    const log = [
      JSON.stringify({ type: 'host_started', seq: 1 }),
      JSON.stringify({ type: 'run_started', seq: 2, runId: 'r2' }),
      JSON.stringify({ type: 'run_started', seq: 3, runId: 'r1' }),
      JSON.stringify({ type: 'violation', seq: 4, runId: 'r2', violation: other }),
      JSON.stringify({ type: 'violation', seq: 5, runId: 'r1', violation: a }),
      JSON.stringify({ type: 'violation', seq: 6, runId: 'r1', violation: a }),
      JSON.stringify({ type: 'run_finished', seq: 7, runId: 'r1' }),
      '{"type":"violation","runId":"r1","viol', // torn last line
    ].join('\n');
    // Two identical violations take their records in order; one with no record points at the run's start.
    assert.deepEqual(auditLinesFor(log, [a, a, b]), [4, 5, 2]);
    assert.deepEqual(auditLinesFor(log, [other]), [3]);
    assert.deepEqual(auditLinesFor(log, [v({ runId: 'r9' })]), [undefined]);
  });

  it('prefers exactly one obvious fix: allowing this path or host, never for protected paths, metadata or critical', () => {
    const write = v({ path: '/ws/out/x', syscall: 'openat', rule: 'profile:strict(no-write-outside)', message: 'Blocked write of /ws/out/x' });
    assert.equal(preferredFix(write, fixesFor(write, '/ws')), 0);
    const host = v({ kind: 'network', host: 'api.example.com', rule: 'preset:strict(not-allowed)' });
    assert.equal(preferredFix(host, fixesFor(host, '/ws')), 0);
    const ssh = v({ path: '/home/u/.ssh/id_rsa', rule: 'protected:~/.ssh' });
    assert.equal(preferredFix(ssh, fixesFor(ssh, '/ws')), undefined);
    const meta = v({ kind: 'network', address: '169.254.169.254', port: 80, rule: 'cloud-metadata:169.254.169.254/32' });
    assert.equal(preferredFix(meta, fixesFor(meta, '/ws')), undefined);
    const critical = v({ ...write, severity: 'critical' });
    assert.equal(preferredFix(critical, fixesFor(critical, '/ws')), undefined);
    // Only "switch to warn mode" left (a syscall): no preferred fix.
    const ptrace = v({ kind: 'syscall', syscall: 'ptrace', rule: 'seccomp:deny ptrace' });
    assert.equal(preferredFix(ptrace, fixesFor(ptrace, '/ws')), undefined);
  });
});
