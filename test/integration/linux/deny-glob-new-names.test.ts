// A deny glob holds for names created during the run, in both tiers. The kernel knows no wildcards: it gets
// the entries a glob matches at start, and the directories where a new match could appear are carved (no
// Landlock right to create, or to read, a new name there), so such calls are performed by the supervisor from
// its own copy of the arguments. Before, a new name met only the supervisor's check followed by "continue":
// a second thread flipping the path buffer between that check and the kernel's own read wrote data/new.key,
// and a host-made secrets/new.pem was readable (reads of new names were not looked at).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

// Two threads: one opens (creating) the path in `buf`, the other flips `buf` between an allowed name and the
// target, both the same length so a torn read is one or the other mixed (still a name in data/). ctypes drops
// the GIL around each foreign call, so the flipper runs while open() waits for the supervisor.
const RACE_PY = `import ctypes, os, sys, threading, time
sys.setswitchinterval(1e-5)
libc = ctypes.CDLL(None, use_errno=True)
target, allowed, seconds = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
assert len(target) == len(allowed)
buf = ctypes.create_string_buffer(target, 256)
stop = False
def flip():
    while not stop:
        ctypes.memmove(buf, allowed, len(allowed))
        ctypes.memmove(buf, target, len(target))
t = threading.Thread(target=flip, daemon=True)
t.start()
end = time.time() + seconds
won = None
tries = 0
while time.time() < end and won is None:
    tries += 1
    fd = libc.open(buf, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    if fd < 0:
        continue
    name = os.readlink('/proc/self/fd/%d' % fd)
    if name.endswith('.key'):
        os.write(fd, b'PWNED\\n')
        won = name
    os.close(fd)
stop = True
print('race: %s after %d tries' % ('WROTE ' + won if won else 'held', tries))
`;

const attempt = (label: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${label}: ALLOWED"; else echo "${label}: denied"; fi\n`;

const keyFiles = (dir: string): string[] => {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.key')) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
};

describe('deny globs hold for names created during the run (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    for (const existing of [false, true]) {
      it(`--deny-write data/*.key: a racing thread cannot create data/new.key (${existing ? 'with' : 'without'} an existing match, ${tier})`, async function () {
        const data = path.join(sb.workspace, 'data');
        fs.mkdirSync(data);
        if (existing) fs.writeFileSync(path.join(data, 'old.key'), 'old\n');
        writeScript(sb.workspace, 'race.py', RACE_PY, 0o644);
        writeScript(sb.workspace, 'race.sh', `#!/bin/sh\npython3 race.py "$PWD/data/new.key" "$PWD/data/ok1.txt" 6\n`);
        const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./race.sh'], env);
        assert.match(r.stdout, /race: /, r.stdout + r.stderr);
        assert.deepEqual(keyFiles(data), existing ? ['old.key'] : [], `a .key file was created: ${r.stdout}`);
        if (existing) assert.equal(fs.readFileSync(path.join(data, 'old.key'), 'utf8'), 'old\n');
        // The allowed name was created (by the supervisor, for the script): the race did run.
        assert.ok(fs.existsSync(path.join(data, 'ok1.txt')), r.stdout + r.stderr);
      });
    }

    it(`--deny-write data/**/*.key: new and nested names refused, ordinary work goes on (${tier})`, async () => {
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(path.join(data, 'old'), { recursive: true });
      fs.writeFileSync(path.join(data, 'existing.txt'), 'e\n');
      writeScript(
        sb.workspace,
        'w.sh',
        '#!/bin/sh\n' +
          attempt('new-key', "sh -c 'echo x > data/new.key'") +
          attempt('nested-new-dir', "sh -c 'mkdir data/sub && echo x > data/sub/x.key'") +
          attempt('nested-old-dir', "sh -c 'echo x > data/old/y.key'") +
          attempt('rename-to-key', "sh -c 'echo x > data/r.txt && mv data/r.txt data/r.key'") +
          attempt('ok', "sh -c 'echo ok > data/ok.txt'") +
          attempt('existing', "sh -c 'echo more >> data/existing.txt'") +
          attempt('rename', "sh -c 'mv data/ok.txt data/moved.txt'") +
          attempt('readback', "grep -q ok data/moved.txt") +
          attempt('subfile', "sh -c 'echo s > data/sub/plain.txt'"),
      );
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/**/*.key'], ['./w.sh'], env);
      for (const l of ['new-key', 'nested-new-dir', 'nested-old-dir', 'rename-to-key']) assert.match(r.stdout, new RegExp(`${l}: denied`), r.stdout + r.stderr);
      for (const l of ['ok', 'existing', 'rename', 'readback', 'subfile']) assert.match(r.stdout, new RegExp(`${l}: ALLOWED`), r.stdout + r.stderr);
      assert.deepEqual(keyFiles(data), []);
      assert.equal(fs.readFileSync(path.join(data, 'existing.txt'), 'utf8'), 'e\nmore\n');
    });

    it(`--deny-write data/*.key: a folder cannot be moved onto a glob's way (fresh/ with a .key inside), nor data off it (${tier})`, async () => {
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(data);
      fs.writeFileSync(path.join(data, 'old.key'), 'old\n');
      fs.mkdirSync(path.join(sb.outside, 'staged'));
      fs.writeFileSync(path.join(sb.outside, 'staged', 'in.key'), 'staged\n');
      writeScript(
        sb.workspace,
        'mv.sh',
        '#!/bin/sh\n' +
          attempt('move-out', 'mv data d2') +
          attempt('remove-moved', 'rm -f d2/old.key') +
          attempt('stage', "sh -c 'mkdir x && echo x > x/new.key'") +
          attempt('move-in', 'mv x fresh') +
          attempt('move-in-outside', `mv ${sb.outside}/staged fresh`) +
          attempt('move-in-deeper', 'mv x data/x') +
          attempt('rename-file', "sh -c 'echo a > data/a.txt && mv data/a.txt data/b.txt'"),
      );
      // fresh/ does not exist: a folder moved there would bring fresh/new.key along.
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key', '--deny-write', 'fresh/*.key', '--allow-write', sb.outside], ['./mv.sh'], env);
      for (const l of ['move-out', 'move-in', 'move-in-outside']) assert.match(r.stdout, new RegExp(`${l}: denied`), r.stdout + r.stderr);
      // data/x/new.key is no match of data/*.key, but x/ comes from outside the glob's reach: it could carry a
      // rule or a second name past a later rename onto the glob (red teams rt6, rt7), so it stays out.
      assert.match(r.stdout, /move-in-deeper: denied/, r.stdout + r.stderr);
      for (const l of ['stage', 'rename-file']) assert.match(r.stdout, new RegExp(`${l}: ALLOWED`), r.stdout + r.stderr);
      assert.equal(fs.existsSync(path.join(sb.workspace, 'fresh')), false);
      assert.deepEqual(keyFiles(data), ['old.key']);
      assert.equal(fs.readFileSync(path.join(data, 'old.key'), 'utf8'), 'old\n');
    });

    it(`--deny-read secrets/*.pem: a file the host makes during the run is not readable; other new files are (${tier})`, async () => {
      const secrets = path.join(sb.workspace, 'secrets');
      fs.mkdirSync(secrets);
      fs.writeFileSync(path.join(secrets, 'old.pem'), 'OLD-SECRET\n');
      writeScript(
        sb.workspace,
        'r.sh',
        '#!/bin/sh\ntouch started\ni=0\nwhile [ ! -e secrets/ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n' +
          attempt('new-pem', 'cat secrets/new.pem') +
          attempt('old-pem', 'cat secrets/old.pem') +
          attempt('new-txt', 'cat secrets/new.txt'),
      );
      // The host's side: once the script runs, a secret and a plain file appear in secrets/.
      const planter = setInterval(() => {
        if (!fs.existsSync(path.join(sb.workspace, 'started')) || fs.existsSync(path.join(secrets, 'ready'))) return;
        fs.writeFileSync(path.join(secrets, 'new.pem'), 'NEW-SECRET\n');
        fs.writeFileSync(path.join(secrets, 'new.txt'), 'plain\n');
        fs.writeFileSync(path.join(secrets, 'ready'), '');
      }, 50);
      let r;
      try {
        r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'secrets/*.pem'], ['./r.sh'], env);
      } finally {
        clearInterval(planter);
      }
      assert.doesNotMatch(r.stdout, /SECRET/, r.stdout + r.stderr);
      assert.match(r.stdout, /new-pem: denied/, r.stdout + r.stderr);
      assert.match(r.stdout, /old-pem: denied/, r.stdout + r.stderr);
      assert.match(r.stdout, /plain\nnew-txt: ALLOWED/, r.stdout + r.stderr);
    });
  }
});
