// Warn mode reports the policy and blocks none of it, but never relaxes the product's integrity set: the
// audit key and log, the workspace's control files (.git, .vscode) and the other protected paths stay out of
// the script's reach in the kernel, in both tiers, for root and for an unprivileged user. The attacks run
// in `--mode warn` in a git repository; everything is observed from outside (snapshots, `audit verify`).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIn, writeScript, PYTHON } from './helpers';
import { ATTEMPT_PY, treeSnapshot as snapshot, useAuditFile, useSandbox, userNamespacesProblem } from './use-sandbox';

// Every attack on the integrity set; "<name>: ALLOWED" when a call that must fail succeeded, and the key's
// bytes on a line of their own when it could be read. With the key, the log is re-sealed as `audit verify`
// would accept it: the forged exit code would then pass.
const ATTACKS_PY = ATTEMPT_PY + String.raw`
import hashlib, hmac, json, os, re, sys
state = os.path.join(os.environ['HOME'], '.local', 'state', 'script-sandbox')

key = None
def read_key():
    global key
    with open(os.path.join(state, 'audit.key'), 'rb') as fh:
        key = fh.read()
attempt('read the audit key', read_key)
if key is not None:
    print('KEY ' + key.hex())
# Names in the state folder may show (as in enforce, for a carve-out's parent); contents never.
attempt('open a writers\' lock', lambda: os.close(os.open(sys.argv[1], os.O_RDONLY)))
attempt('create a file in the state folder', lambda: write(os.path.join(state, 'planted'), 'x'))

log = '.sandbox/audit.jsonl'
attempt('append to the audit log', lambda: write(log, '{"forged":1}\n', 'a'))
def reseal():
    with open(log) as fh:
        lines = [l for l in fh.read().split('\n') if l]
    out = []
    prev = None
    for l in lines:
        o = json.loads(re.sub(r',"mac":"[0-9a-f]{64}"\}$', '}', l).replace('"exitCode":7', '"exitCode":0'))
        if prev is not None:
            o['prev'] = prev
        s = json.dumps(o, separators=(',', ':'))
        prev = hmac.new(key or b'no key', s.encode(), hashlib.sha256).hexdigest()
        out.append(s[:-1] + ',"mac":"' + prev + '"}')
    write(log + '.new', '\n'.join(out) + '\n')
    os.rename(log + '.new', log)
attempt('rewrite and re-seal the audit log', reseal)
attempt('truncate the audit log', lambda: os.truncate(log, 0))
attempt('unlink the audit log', lambda: os.unlink(log))
attempt('rename .sandbox away', lambda: os.rename('.sandbox', 'scratch/sandbox-moved'))

attempt('direct write .git/hooks/pre-commit', lambda: write('.git/hooks/pre-commit'))
write('scratch/evil', '#!/bin/sh\necho pwned\n')
attempt('rename over .git/hooks/pre-commit', lambda: os.rename('scratch/evil', '.git/hooks/pre-commit'))
attempt('symlink .git/hooks/post-checkout', lambda: os.symlink('/bin/true', '.git/hooks/post-checkout'))
attempt('append .git/config', lambda: write('.git/config', '[core]\n\thooksPath = /tmp\n', 'a'))
attempt('direct write .vscode/tasks.json', lambda: write('.vscode/tasks.json', '{"version":"2.0.0","tasks":[{"label":"x","command":"evil","runOptions":{"runOn":"folderOpen"}}]}'))
write('scratch/tasks.json', '{}')
attempt('rename over .vscode/tasks.json', lambda: os.rename('scratch/tasks.json', '.vscode/tasks.json'))
attempt('symlink .vscode/launch.json', lambda: os.symlink('../scratch/tasks.json', '.vscode/launch.json'))
attempt('write ~/.bashrc', lambda: write(os.path.join(os.environ['HOME'], '.bashrc'), 'echo pwned\n', 'a'))
print('\n'.join(results))
print('end')
`;

describe('warn mode never relaxes the integrity set (real kernel)', function () {
  this.timeout(120000);
  const nsProblem = userNamespacesProblem();
  const sb = useSandbox({
    git: true,
    setup: (sb) => {
      const ws = sb.workspace;
      fs.mkdirSync(path.join(ws, '.vscode'));
      fs.writeFileSync(path.join(ws, '.vscode', 'tasks.json'), '{"version":"2.0.0","tasks":[]}\n');
      fs.mkdirSync(path.join(ws, 'scratch'));
      fs.writeFileSync(path.join(sb.home, '.bashrc'), '# rc\n');
    },
  });
  const audit = useAuditFile(sb);
  const stateDir = () => path.join(sb.home, '.local', 'state', 'script-sandbox');

  const controls = () => ({
    git: snapshot(path.join(sb.workspace, '.git'), ['objects', 'refs', 'logs']),
    vscode: snapshot(path.join(sb.workspace, '.vscode')),
    bashrc: fs.readFileSync(path.join(sb.home, '.bashrc'), 'utf8'),
    state: snapshot(stateDir(), ['locks', 'recovery']), // the host's own (its lock, its recovery checkpoint)
  });

  for (const tier of ['namespaces', 'fallback'] as const) {
    const env: Record<string, string> = tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0' } : {};

    it(`${tier} tier: the audit key stays unreadable, the log unchanged, .git and .vscode untouched; the attempts are reported`, async function () {
      if (tier === 'namespaces' && nsProblem) this.skip();
      // An enforce run first: it makes the key, the log and a record the forger wants to change (exit 7).
      const first = await runIn(sb, ['--mode', 'enforce'], ['/bin/sh', '-c', 'exit 7'], env);
      assert.equal(first.code, 7, first.stderr);
      const key = fs.readFileSync(path.join(stateDir(), 'audit.key')).toString('hex');
      const logBefore = audit.lines();
      const lock = path.join(stateDir(), 'locks', fs.readdirSync(path.join(stateDir(), 'locks'))[0]!);
      const before = controls();
      writeScript(sb.outside, 'attacks.py', ATTACKS_PY);
      const r = await runIn(sb, ['--mode', 'warn', '--profile', 'strict'], [PYTHON, path.join(sb.outside, 'attacks.py'), lock], env);
      assert.match(r.stdout, /^end$/m, `attack script did not finish: ${r.stdout}\n${r.stderr}`);
      assert.ok(!r.stdout.includes(key), `the audit key was read: ${r.stdout}`);
      assert.deepEqual(r.stdout.split('\n').filter((l) => /ALLOWED/.test(l)), [], r.stdout);
      assert.deepEqual(controls(), before);
      // The warn run's own records follow the old ones, and the chain verifies with the key.
      const logAfter = audit.lines();
      assert.deepEqual(logAfter.slice(0, logBefore.length), logBefore);
      assert.ok(logAfter.length > logBefore.length, 'the warn run is recorded');
      assert.ok(!logAfter.some((l) => l.includes('forged')));
      const v = await audit.verify();
      assert.equal(v.code, 0, v.stdout + v.stderr);
      // The supervisor reports what it would block; the kernel refused it anyway.
      const warned = r.events.filter((e) => e.type === 'violation' && e.action === 'warned').map((e) => String(e.path));
      assert.ok(warned.some((p) => p.endsWith('.git/hooks/pre-commit')), JSON.stringify(warned));
      assert.ok(warned.some((p) => p.endsWith('.vscode/tasks.json')), JSON.stringify(warned));
    });

    it(`${tier} tier: warn still blocks nothing of the policy (a write outside the workspace, reading ~/.ssh)`, async function () {
      if (tier === 'namespaces' && nsProblem) this.skip();
      const target = path.join(sb.outside, 'warned.txt');
      // git's object store stays writable inside the read-only .git (given back in both tiers).
      const script = `echo x > ${target} && cat "$HOME/.ssh/id_rsa" && echo x > scratch/ok.txt && echo warned-blob | git hash-object -w --stdin && echo done`;
      const r = await runIn(sb, ['--mode', 'warn', '--profile', 'strict'], ['/bin/sh', '-c', script], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /FAKE KEY[\s\S]*done/);
      const blob = r.stdout.split('\n').find((l) => /^[0-9a-f]{40}$/.test(l));
      assert.ok(blob && fs.existsSync(path.join(sb.workspace, '.git', 'objects', blob.slice(0, 2), blob.slice(2))), r.stdout);
      assert.equal(fs.readFileSync(target, 'utf8'), 'x\n');
      const v = r.events.filter((e) => e.type === 'violation');
      assert.ok(v.some((x) => x.path === target && x.action === 'warned'), JSON.stringify(v));
    });
  }
});
