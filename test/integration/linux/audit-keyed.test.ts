// The audit log against a script that wants it to lie, with the real CLI and host: a `.sandbox` link planted
// before a run, a lock held on the old lock path next to the log, the key read or the lock taken from inside
// the sandbox, and a log rewritten and re-hashed outside. Observed from outside: exit codes, files untouched.
import { strict as assert } from 'node:assert';
import { spawn, fork, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, REPO } from './helpers';
import { useAuditFile, useSandbox } from './use-sandbox';

const HOST = path.join(REPO, 'dist', 'host.js');
const MAC = /,"mac":"[0-9a-f]{64}"\}$/;

describe('audit log out of the script\'s reach', function () {
  this.timeout(120000);
  const sb = useSandbox();
  const audit = useAuditFile(sb);

  const run = (cmd: string[], flags: string[] = []) => runCli(['run', '--workspace', sb.workspace, '--profile', 'strict', ...flags, '--', ...cmd], { cwd: sb.workspace, home: sb.home });
  const verify = () => audit.verify();

  it('a log edited outside and re-hashed without the key fails verify, naming the first bad line; the good log verifies', async () => {
    for (let i = 0; i < 2; i++) await run(['/bin/sh', '-c', `exit ${i}`]);
    const good = await verify();
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /chain intact/);
    const ls = audit.lines();
    const at = ls.findIndex((l) => l.includes('"exitCode":1'));
    assert.ok(at > 0);
    // The attacker changes the exit code and re-seals from that line on with a key of its own.
    const fake = crypto.randomBytes(32);
    let prev = JSON.parse(ls[at - 1]!).mac as string;
    const forged = ls.map((l, i) => {
      if (i < at) return l;
      const o = JSON.parse(l.replace(MAC, '}').replace('"exitCode":1', '"exitCode":0'));
      o.prev = prev;
      const json = JSON.stringify(o);
      prev = crypto.createHmac('sha256', fake).update(json).digest('hex');
      return `${json.slice(0, -1)},"mac":"${prev}"}`;
    });
    fs.writeFileSync(audit.path, forged.join('\n') + '\n');
    const r = await verify();
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, new RegExp(`^line ${at + 1} of .*audit\\.jsonl: its keyed mac does not match`));
    // Re-hashed whole in the older unkeyed format (no key needed): reported as unkeyed, exit 3, never ok.
    let h = '0'.repeat(64);
    const unkeyed = ls.map((l) => {
      const o = JSON.parse(l.replace(MAC, '}').replace('"exitCode":1', '"exitCode":0'));
      Object.assign(o, { v: 1, prev: h });
      const s = JSON.stringify(o);
      h = crypto.createHash('sha256').update(s).digest('hex');
      return s;
    });
    fs.writeFileSync(audit.path, unkeyed.join('\n') + '\n');
    const u = await verify();
    assert.equal(u.code, 3, u.stdout);
    assert.match(u.stdout, /^unkeyed \(older format\)/);
  });

  it('a .sandbox symlink planted before a CLI run is refused, its target untouched, and nothing runs', async () => {
    const target = path.join(sb.outside, 'trap');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'keep\n');
    fs.symlinkSync(target, path.join(sb.workspace, '.sandbox'));
    const marker = path.join(sb.workspace, 'ran.txt');
    const r = await run(['/bin/sh', '-c', `echo yes > ${marker}`]);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /AUDIT_UNSAFE_PATH: .*\.sandbox is a symbolic link/);
    assert.ok(!fs.existsSync(marker), 'the script must not run unrecorded');
    assert.deepEqual(fs.readdirSync(target), ['keep.txt']);
    assert.equal(fs.readFileSync(path.join(target, 'keep.txt'), 'utf8'), 'keep\n');
    assert.ok(fs.lstatSync(path.join(sb.workspace, '.sandbox')).isSymbolicLink(), 'the link is left for the user to see');
  });

  it('an audit path under /proc or /sys fails at once with a typed IO_FAILED, and nothing runs', async () => {
    // Was a hang: fs.mkdirSync('/proc/nope', { recursive: true }) never returns, so the CLI sat there forever.
    const marker = path.join(sb.workspace, 'ran.txt');
    for (const [file, errno] of [['/proc/nope/a.jsonl', 'ENOENT'], ['/proc/nope/deeper/a.jsonl', 'ENOENT'], ['/sys/nope/a.jsonl', 'EPERM|EACCES|EROFS']] as const) {
      const started = Date.now();
      const r = await runCli(['run', '--workspace', sb.workspace, '--profile', 'strict', '--audit', file, '--', '/bin/sh', '-c', `echo yes > ${marker}`], { cwd: sb.workspace, home: sb.home, timeoutMs: 20000 });
      assert.equal(r.signal, null, `${file}: the CLI hung and was killed after ${Date.now() - started} ms`);
      assert.equal(r.code, 125, `${file}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`IO_FAILED: mkdir /(proc|sys)/nope: (${errno})`));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!fs.existsSync(marker), 'the script must not run unrecorded');
    }
  });

  it('a lock held by another process on the old lock path (.sandbox/audit.jsonl.lock) no longer blocks recording', async () => {
    fs.mkdirSync(path.dirname(audit.path), { mode: 0o700 });
    const holder = spawn('/usr/bin/flock', ['-x', `${audit.path}.lock`, '-c', 'echo held; exec sleep 120'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('error', reject);
      });
      // Before, the writer waited 10 s for that lock, then failed with AUDIT_LOCKED and nothing ran.
      const r = await run(['/bin/sh', '-c', 'echo recorded']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /AUDIT_LOCKED/);
      assert.ok(audit.lines().some((l) => l.includes('"type":"run_finished"')));
      assert.equal((await verify()).code, 0);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('from inside the sandbox the key cannot be read and the writers\' lock cannot be opened', async () => {
    await run(['/bin/true']); // creates the key and the lock
    const state = path.join(sb.home, '.local', 'state', 'script-sandbox');
    const lock = path.join(state, 'locks', fs.readdirSync(path.join(state, 'locks'))[0]!);
    assert.equal(fs.statSync(path.join(state, 'audit.key')).mode & 0o777, 0o600);
    const out = path.join(sb.workspace, 'out.txt');
    for (const profile of ['strict', 'moderate', 'permissive']) {
      const r = await runCli(
        ['run', '--workspace', sb.workspace, '--profile', profile, '--', '/bin/sh', '-c', `(od -An -tx1 ${state}/audit.key > ${out} 2>&1 && echo KEY-READ) ; (exec 9<${lock} && echo LOCK-OPENED) ; true`],
        { cwd: sb.workspace, home: sb.home },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!/KEY-READ/.test(r.stdout), `${profile}: key read: ${fs.readFileSync(out, 'utf8')}`);
      assert.ok(!/LOCK-OPENED/.test(r.stdout), `${profile}: lock opened`);
    }
  });

  it('the host refuses an enforce run whose .sandbox is a planted link (nothing runs unrecorded); in warn mode it runs and says so', async function () {
    const target = path.join(sb.outside, 'trap');
    fs.mkdirSync(target);
    fs.symlinkSync(target, path.join(sb.workspace, '.sandbox'));
    const marker = path.join(sb.workspace, 'ran.txt');
    const host: ChildProcess = fork(HOST, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sb.home }, serialization: 'json' });
    try {
      const reply = (requestId: string) =>
        new Promise<Record<string, unknown>>((resolve) => {
          const on = (m: Record<string, unknown>) => {
            if (m.requestId === requestId) {
              host.off('message', on);
              resolve(m);
            }
          };
          host.on('message', on);
        });
      const ask = (requestId: string, mode: 'enforce' | 'warn') => {
        const p = reply(requestId);
        host.send({ type: 'run', requestId, command: ['/bin/sh', '-c', `echo ${mode} >> ${marker}`], cwd: sb.workspace, workspace: sb.workspace, env: { PATH: '/usr/bin:/bin' }, layers: { run: { mode, profile: 'strict' } }, auditPath: audit.path });
        return p;
      };
      const refused = await ask('r-enforce', 'enforce');
      assert.equal(refused.type, 'rejected', JSON.stringify(refused));
      assert.equal((refused.error as { code: string }).code, 'AUDIT_UNSAFE_PATH');
      assert.match((refused.error as { message: string }).message, /\.sandbox is a symbolic link/);
      const warned = await ask('r-warn', 'warn');
      assert.equal(warned.type, 'accepted', JSON.stringify(warned));
      assert.ok((warned.notes as string[]).some((n) => /could not be opened, this run is not recorded/.test(n)));
      const deadline = Date.now() + 30000;
      while (!fs.existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(fs.readFileSync(marker, 'utf8'), 'warn\n', 'only the warn run ran');
      assert.deepEqual(fs.readdirSync(target), [], 'the link target is untouched');
    } finally {
      host.kill('SIGKILL');
    }
  });
});
