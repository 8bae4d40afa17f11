// A full disk and a read-only workspace: the CLI ends with a clear error (one "script-sandbox:" line, no
// stack trace), and the audit log never holds a corrupt line (verify passes, before and after space returns).
// The workspace is a small tmpfs (1 MiB); mounting needs root and a mount namespace we may use: otherwise
// the tests skip and say why.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../integration/linux/helpers';
import { auditVerify } from './fault-support';

function mount(args: string[]): string | null {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.error?.message || `exit ${r.status}`).trim();
}

function readable(stderr: string): void {
  assert.ok(!/\n\s+at \S+ \(|internal error/.test(stderr), `stack trace or internal error: ${stderr}`);
  assert.ok(!/undefined/.test(stderr), `"undefined" in: ${stderr}`);
}

describe('fault: full disk and read-only workspace', function () {
  this.timeout(300_000);
  let root: string;
  let ws: string;
  let mounted = false;
  let why = '';

  before(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-fault-disk-'));
    ws = path.join(root, 'ws');
    fs.mkdirSync(ws);
    if (process.getuid?.() !== 0) why = 'not root: cannot mount a tmpfs';
    else {
      const err = mount(['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'ss-fault-tmpfs', ws]);
      if (err) why = `mount -t tmpfs refused: ${err}`;
      else mounted = true;
    }
    if (!mounted) {
      process.stdout.write(`      [fault] disk tests skipped: ${why}\n`);
      this.skip();
    }
  });
  after(() => {
    if (mounted) spawnSync('umount', ['-l', ws]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('a script filling the disk: the run ends, the audit log stays whole, and recovers when space returns', async () => {
    const audit = path.join(ws, '.sandbox', 'audit.jsonl');
    const first = await runCli(['run', '--workspace', ws, '--', '/bin/echo', 'first'], { cwd: ws, home: root });
    assert.equal(first.code, 0, first.stderr);
    // Fill the disk from inside the sandbox, then keep writing audit records (violations) while it is full.
    const fill = await runCli(['run', '--workspace', ws, '--', '/bin/sh', '-c', 'dd if=/dev/zero of=big bs=64k count=64 2>&1; (echo x > "$HOME/.bashrc") 2>/dev/null; (echo x > "$HOME/.profile") 2>/dev/null; echo after-fill'], { cwd: ws, home: root });
    readable(fill.stderr);
    assert.match(fill.stdout, /No space left on device/);
    assert.ok([0, 125].includes(fill.code!), `exit ${fill.code}: ${fill.stderr}`);
    if (fill.code === 125) assert.match(fill.stderr, /^script-sandbox: .*(audit|space|ENOSPC)/im);
    const full = auditVerify(audit, root);
    assert.ok(full.ok, `audit log corrupt on a full disk: ${full.output}`);
    // The disk still full: a new run says so clearly (or runs); never a stack trace.
    const whileFull = await runCli(['run', '--workspace', ws, '--', '/bin/true'], { cwd: ws, home: root });
    readable(whileFull.stderr);
    assert.ok(auditVerify(audit, root).ok);
    process.stdout.write(`      [fault] full disk: fill run exit ${fill.code} (${fill.stderr.trim().split('\n').filter((l) => /^script-sandbox: [A-Z_]+:/.test(l)).join(' | ') || 'no sandbox error'}); run while full exit ${whileFull.code} (${whileFull.stderr.trim().split('\n').pop() ?? ''})\n`);
    fs.rmSync(path.join(ws, 'big'));
    const again = await runCli(['run', '--workspace', ws, '--', '/bin/echo', 'again'], { cwd: ws, home: root });
    assert.equal(again.code, 0, again.stderr);
    const v = auditVerify(audit, root);
    assert.ok(v.ok, v.output);
  });

  it('a read-only workspace: a clear error for the log, and with the log elsewhere, writes fail cleanly', async () => {
    fs.writeFileSync(path.join(ws, 'data.txt'), 'kept\n');
    const err = mount(['-o', 'remount,ro', ws]);
    if (err) return assert.fail(`remount ro failed: ${err}`);
    try {
      const r = await runCli(['run', '--workspace', ws, '--', '/bin/true'], { cwd: ws, home: root });
      readable(r.stderr);
      if (r.code !== 0) assert.match(r.stderr, /^script-sandbox: .*(read-only|EROFS|audit)/im);
      const auditElsewhere = path.join(root, 'audit.jsonl');
      const w = await runCli(['run', '--workspace', ws, '--audit', auditElsewhere, '--', '/bin/sh', '-c', 'echo x > data.txt; echo status $?'], { cwd: ws, home: root });
      readable(w.stderr);
      assert.equal(w.code, 0, w.stderr);
      assert.match(w.stdout, /status [1-9]/);
      assert.equal(fs.readFileSync(path.join(ws, 'data.txt'), 'utf8'), 'kept\n');
      const v = auditVerify(auditElsewhere, root);
      assert.ok(v.ok, v.output);
      process.stdout.write(`      [fault] read-only workspace: run exit ${r.code} (${r.stderr.trim().split('\n').pop() ?? ''})\n`);
    } finally {
      mount(['-o', 'remount,rw', ws]);
    }
  });
});
