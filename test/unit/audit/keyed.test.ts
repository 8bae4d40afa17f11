// The attacks on the audit log that the key, the state folder and the link-refusing open answer: a log
// rewritten and re-hashed by someone without the key, a planted `.sandbox` link, a lock held on the old
// lock path next to the log. Each test plays the attacker with plain file operations, then checks what
// verify, the writer and the CLI make of it.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog, defaultStateDir, readAuditKey, readAuditRecords, verifyAuditFile } from '../../../src/audit';
import { runAuditCommand } from '../../../src/cli/audit';
import { GENESIS_HASH } from '../../../src/protocol/audit';
import { SandboxError } from '../../../src/errors';
import { openFileLock } from '../../../native/linux/file-lock';
import { lines, tempDir, violation, writeLines, useTempHome } from './fixtures';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const MAC = /,"mac":"[0-9a-f]{64}"\}$/;

/** Re-seals lines with `key` the way the writer does (what an attacker does with a guessed key). */
function resealWith(key: Buffer, ls: string[]): string[] {
  let prev = GENESIS_HASH;
  return ls.map((l) => {
    const o = JSON.parse(l.replace(MAC, '}'));
    o.prev = o.seq === 1 ? GENESIS_HASH : prev;
    const json = JSON.stringify(o);
    const mac = crypto.createHmac('sha256', key).update(json).digest('hex');
    prev = mac;
    return `${json.slice(0, -1)},"mac":"${mac}"}`;
  });
}

/** Rewrites lines into the older unkeyed format (v 1, SHA-256 chain, no mac): no key needed. */
function rehashUnkeyed(ls: string[]): string[] {
  let prev = GENESIS_HASH;
  return ls.map((l) => {
    const o = JSON.parse(l.replace(MAC, '}'));
    o.v = 1;
    o.prev = prev;
    const out = JSON.stringify(o);
    prev = sha(out);
    return out;
  });
}

function cli(cwd: string) {
  const out: string[] = [];
  return { out, io: { cwd, stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s) } };
}

async function fill(log: AuditLog, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await log.append({ type: 'violation', runId: 'r', violation: violation({ runId: 'r' }) });
}

describe('audit log: keyed chain against a writer without the key', function () {
  const home = useTempHome();
  let t: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(async () => {
    t = tempDir();
    file = path.join(t.dir, '.sandbox', 'audit.jsonl');
    const log = await AuditLog.open(file, { workspace: t.dir });
    await fill(log, 6);
    await log.close();
  });
  afterEach(() => t.cleanup());

  it('a good log verifies as keyed (verify and the CLI)', async function () {
    const v = verifyAuditFile(file);
    assert.deepEqual([v.ok, v.lines, v.unkeyedLines, v.unkeyed], [true, 6, 0, undefined]);
    const c = cli(t.dir);
    assert.equal(await runAuditCommand(['verify', file], c.io), 0);
    assert.match(c.out.join(''), /^ok: 6 lines in 1 file, seq 1\.\.6, chain intact\n$/);
  });

  it('an edited line re-sealed with a guessed key fails at the first line, naming it', async function () {
    const ls = lines(file);
    ls[2] = ls[2]!.replace('"action":"blocked"', '"action":"warned"');
    writeLines(file, resealWith(crypto.randomBytes(32), ls));
    const v = verifyAuditFile(file);
    assert.equal(v.ok, false);
    // Every line is re-sealed with the wrong key, so the very first one already fails its keyed check.
    assert.deepEqual([v.firstBroken!.file, v.firstBroken!.line], [file, 1]);
    assert.match(v.firstBroken!.reason, /keyed mac does not match/);
    const c = cli(t.dir);
    assert.equal(await runAuditCommand(['verify', file], c.io), 1);
    assert.match(c.out.join(''), new RegExp(`^line 1 of ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its keyed mac does not match`));
  });

  it('an edit whose mac is left alone or stripped fails at that line', async function () {
    const ls = lines(file);
    const edited = [...ls];
    edited[3] = edited[3]!.replace('"action":"blocked"', '"action":"warned"');
    writeLines(file, edited);
    assert.deepEqual([verifyAuditFile(file).firstBroken!.line, verifyAuditFile(file).firstBroken!.reason.includes('changed after it was written')], [4, true]);
    const stripped = [...ls];
    stripped[3] = stripped[3]!.replace(MAC, '}');
    writeLines(file, stripped);
    const v = verifyAuditFile(file);
    assert.equal(v.firstBroken!.line, 4);
    assert.match(v.firstBroken!.reason, /no keyed mac/);
  });

  it('a log rewritten whole in the older unkeyed format is reported "unkeyed (older format)", never as valid (exit 3)', async function () {
    const forged = rehashUnkeyed(lines(file).map((l) => l.replace('"action":"blocked"', '"action":"warned"')));
    writeLines(file, forged);
    const v = verifyAuditFile(file);
    assert.deepEqual([v.ok, v.unkeyed, v.lines, v.unkeyedLines], [false, true, 6, 6]);
    const c = cli(t.dir);
    assert.equal(await runAuditCommand(['verify', file], c.io), 3);
    assert.match(c.out.join(''), /^unkeyed \(older format\): 6 lines in 1 file, seq 1\.\.6; .*cannot show that the lines are unchanged/);
  });

  it('an unkeyed line appended after keyed lines breaks the chain at that line', async function () {
    const ls = lines(file);
    const last = JSON.parse(ls.at(-1)!);
    const extra = JSON.stringify({ ...JSON.parse(ls.at(-1)!.replace(MAC, '}')), v: 1, seq: last.seq + 1, prev: last.mac });
    writeLines(file, [...ls, extra]);
    const v = verifyAuditFile(file);
    assert.deepEqual([v.ok, v.firstBroken!.line], [false, 7]);
    assert.match(v.firstBroken!.reason, /unkeyed line \(older format\) after keyed lines/);
  });

  it('the writer refuses to extend a last line whose seal does not hold, and leaves the file as it is', async function () {
    const ls = lines(file);
    ls[5] = ls[5]!.replace('"action":"blocked"', '"action":"warned"');
    writeLines(file, ls);
    const size = fs.statSync(file).size;
    const log = await AuditLog.open(file, { workspace: t.dir, recover: false });
    await assert.rejects(fill(log, 1), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_BROKEN' && /fails its keyed check/.test(e.message));
    await log.close();
    assert.equal(fs.statSync(file).size, size);
  });

  it('an old unkeyed log is continued in the keyed format: verify accepts it and says which part is unkeyed', async function () {
    writeLines(file, rehashUnkeyed(lines(file)));
    const log = await AuditLog.open(file, { workspace: t.dir });
    await fill(log, 2);
    await log.close();
    const recs = readAuditRecords(file);
    assert.deepEqual(recs.map((r) => r.v), [1, 1, 1, 1, 1, 1, 2, 2]);
    assert.equal(recs[6]!.prev, sha(lines(file)[5]!), 'the first keyed line pins the unkeyed part');
    const v = verifyAuditFile(file);
    assert.deepEqual([v.ok, v.unkeyedLines, v.lines], [true, 6, 8]);
    const c = cli(t.dir);
    assert.equal(await runAuditCommand(['verify', file], c.io), 0);
    assert.match(c.out.join(''), /note: the first 6 lines are in the older unkeyed format/);
    // Changing the unkeyed part now breaks the chain: its hash is sealed in line 7.
    const ls = lines(file);
    ls[5] = ls[5]!.replace('"action":"blocked"', '"action":"warned"');
    writeLines(file, ls);
    assert.equal(verifyAuditFile(file).firstBroken!.line, 6);
  });

  it('verify without the key says it cannot check, naming the key path', function () {
    const v = verifyAuditFile(file, { stateDir: path.join(t.dir, 'no-state') });
    assert.equal(v.ok, false);
    assert.equal(v.firstBroken!.line, 1);
    assert.match(v.firstBroken!.reason, /no audit key at .*no-state\/audit\.key/);
  });

  it('the key is 32 bytes, mode 0600, in a 0700 state folder under ~/.local/state/script-sandbox, created once', async function () {
    const state = defaultStateDir();
    assert.equal(state, path.join(home.home, '.local', 'state', 'script-sandbox'));
    const keyFile = path.join(state, 'audit.key');
    const st = fs.statSync(keyFile);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.size, 32);
    assert.equal(fs.statSync(state).mode & 0o777, 0o700);
    const key = readAuditKey(state)!;
    const log = await AuditLog.open(path.join(t.dir, 'other.jsonl'));
    await fill(log, 1);
    await log.close();
    const again = fs.statSync(keyFile);
    assert.deepEqual([again.ino, again.mtimeMs], [st.ino, st.mtimeMs], 'not created again');
    assert.deepEqual(readAuditKey(state), key);
    // The writers' locks and the recovery checkpoints (recover-checkpoint.ts) live beside the key, as private.
    assert.deepEqual(fs.readdirSync(state).sort(), ['audit.key', 'locks', 'recovery'], 'no temporary key file left');
    assert.equal(fs.statSync(path.join(state, 'recovery')).mode & 0o777, 0o700);
    for (const f of fs.readdirSync(path.join(state, 'recovery'))) {
      assert.match(f, /^[0-9a-f]{64}\.json$/, 'no temporary checkpoint left');
      assert.equal(fs.statSync(path.join(state, 'recovery', f)).mode & 0o777, 0o600);
    }
  });

  it('several processes creating the key at once agree on one key', async function () {
    const fresh = fs.mkdtempSync(path.join(t.dir, 'home-'));
    const mod = require.resolve('../../../src/audit');
    const shared = path.join(t.dir, 'shared.jsonl');
    const script = `const { AuditLog } = require(${JSON.stringify(mod)}); (async () => { const l = await AuditLog.open(${JSON.stringify(shared)}); await l.append({ type: 'host_started', component: 'p' + process.pid }); await l.close(); })().catch((e) => { console.error(e); process.exit(1); });`;
    const codes = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<number | null>((resolve) => spawn(process.execPath, ['-e', script], { env: { ...process.env, HOME: fresh }, stdio: 'inherit' }).on('close', resolve))),
    );
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const v = verifyAuditFile(shared, { stateDir: path.join(fresh, '.local', 'state', 'script-sandbox') });
    assert.deepEqual([v.ok, v.lines], [true, 4], JSON.stringify(v.firstBroken));
  });
});

describe('audit log: the folder and the lock out of a script\'s reach', function () {
  useTempHome();
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('a .sandbox symbolic link planted in the workspace is refused (AUDIT_UNSAFE_PATH, naming it) and its target untouched', async function () {
    const ws = path.join(t.dir, 'ws');
    const target = path.join(t.dir, 'elsewhere');
    fs.mkdirSync(ws);
    fs.mkdirSync(target);
    fs.symlinkSync(target, path.join(ws, '.sandbox'));
    const file = path.join(ws, '.sandbox', 'audit.jsonl');
    await assert.rejects(AuditLog.open(file, { workspace: ws }), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_UNSAFE_PATH' && e.message.includes(path.join(ws, '.sandbox')) && /symbolic link/.test(e.message));
    assert.deepEqual(fs.readdirSync(target), []);
    // A dangling link (pointing where the host would create a file) is refused the same way.
    fs.rmSync(path.join(ws, '.sandbox'));
    fs.symlinkSync(path.join(t.dir, 'nowhere'), path.join(ws, '.sandbox'));
    await assert.rejects(AuditLog.open(file, { workspace: ws }), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_UNSAFE_PATH');
    assert.ok(!fs.existsSync(path.join(t.dir, 'nowhere')));
  });

  it('the log file itself as a link, a hard link, or a group-writable .sandbox is refused', async function () {
    const ws = t.dir;
    const dir = path.join(ws, '.sandbox');
    const file = path.join(dir, 'audit.jsonl');
    const victim = path.join(ws, 'victim.txt');
    fs.writeFileSync(victim, 'precious\n');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.symlinkSync(victim, file);
    await assert.rejects(AuditLog.open(file, { workspace: ws }), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_UNSAFE_PATH' && /symbolic link/.test(e.message));
    fs.rmSync(file);
    fs.linkSync(victim, file);
    await assert.rejects(AuditLog.open(file, { workspace: ws }), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_UNSAFE_PATH' && /hard links/.test(e.message));
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
    fs.rmSync(file);
    fs.chmodSync(dir, 0o777);
    await assert.rejects(AuditLog.open(file, { workspace: ws }), (e: unknown) => e instanceof SandboxError && e.code === 'AUDIT_UNSAFE_PATH' && /writable by group or others/.test(e.message));
    fs.chmodSync(dir, 0o700);
    const log = await AuditLog.open(file, { workspace: ws });
    await log.close();
  });

  it('a lock held on the old lock path next to the log does not block recording; the lock lives in the state folder', async function () {
    const file = path.join(t.dir, '.sandbox', 'audit.jsonl');
    fs.mkdirSync(path.dirname(file), { mode: 0o700 });
    const old = openFileLock(`${file}.lock`);
    assert.equal(old.tryAcquire(), true);
    try {
      const log = await AuditLog.open(file, { workspace: t.dir, lockTimeoutMs: 300 });
      assert.ok(log.lockFile.startsWith(path.join(defaultStateDir(), 'locks') + path.sep), log.lockFile);
      assert.equal(path.basename(log.lockFile), `${sha(fs.realpathSync(file))}.lock`);
      await fill(log, 3);
      await log.close();
    } finally {
      old.close();
    }
    assert.deepEqual([verifyAuditFile(file).ok, lines(file).length], [true, 3]);
  });
});
