// A folder that exists at the start directly in a deny glob's folder (`data/sub` for `data/*.key`) keeps a
// Landlock rule only without the rights the glob denies: the rule follows the folder's inode through a rename
// made outside the run onto the glob (red team rt5, redteam-deny-globs.test.ts). Below such a folder those
// calls are performed by the supervisor, which decides on every component of the name the folder has now.
// These tests say that ordinary work below such a folder still works (reads and exec stay the kernel's under
// a denyWrite glob) and that what the glob matches stays refused, also below a folder renamed onto it by the
// host during the run (plain calls, no race: the race is the red team's).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

const attempt = (label: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${label}: ALLOWED"; else echo "${label}: denied"; fi\n`;

// The script waits for the host's rename (done by the test once `started` exists, then `ready`).
const WAIT_FOR_HOST = '#!/bin/sh\ntouch started\ni=0\nwhile [ ! -e ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n';

/** Renames `from` to `to` (both in the workspace) once the script has started; then says `ready`. */
function hostRenames(ws: string, from: string, to: string): () => void {
  const t = setInterval(() => {
    if (!fs.existsSync(path.join(ws, 'started')) || fs.existsSync(path.join(ws, 'ready'))) return;
    fs.renameSync(path.join(ws, from), path.join(ws, to));
    fs.writeFileSync(path.join(ws, 'ready'), '');
  }, 50);
  return () => clearInterval(t);
}

const expectAll = (out: string, labels: string[], verdict: 'ALLOWED' | 'denied', ctx: string) => {
  for (const l of labels) assert.match(out, new RegExp(`${l}: ${verdict}\\n`), ctx);
};

describe('deny globs: folders that exist at the start in a glob\'s folder (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`--deny-write data/*.key: ordinary work below data/sub goes on, below data/mv renamed to data/y.key by the host it is refused (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      fs.mkdirSync(path.join(data, 'sub', 'deep'), { recursive: true });
      fs.mkdirSync(path.join(data, 'mv'));
      fs.mkdirSync(path.join(sb.workspace, 'other')); // has a rule of its own: not carved
      fs.writeFileSync(path.join(data, 'sub', 'in.txt'), 'in\n');
      fs.writeFileSync(path.join(data, 'sub', 'deep', 'd.txt'), 'deep\n');
      fs.writeFileSync(path.join(data, 'sub', 'gone.txt'), 'gone\n');
      fs.writeFileSync(path.join(data, 'mv', 'm.txt'), 'm\n');
      writeScript(data, 'sub/run.sh', '#!/bin/sh\necho ran-below\n');
      writeScript(
        sb.workspace,
        'w.sh',
        WAIT_FOR_HOST +
          attempt('read', 'grep -q in data/sub/in.txt') +
          attempt('read-deep', 'grep -q deep data/sub/deep/d.txt') +
          attempt('list', 'ls data/sub >/dev/null') +
          attempt('exec', './data/sub/run.sh') +
          attempt('append', "sh -c 'echo more >> data/sub/in.txt'") +
          attempt('append-deep', "sh -c 'echo more >> data/sub/deep/d.txt'") +
          attempt('create', "sh -c 'echo new > data/sub/new.txt'") +
          attempt('mkdir-p', "sh -c 'mkdir -p data/sub/a/b/c && echo z > data/sub/a/b/c/z.txt && echo y > data/sub/deep/y.txt'") +
          attempt('rm-rf', 'rm -rf data/sub/a') +
          attempt('rm', 'rm data/sub/gone.txt') +
          attempt('write-rename', "sh -c 'echo v2 > data/sub/.e.tmp && mv data/sub/.e.tmp data/sub/edited.txt'") +
          attempt('truncate', `python3 -c "import os; os.truncate('data/sub/new.txt', 2)"`) +
          attempt('symlink', 'ln -s in.txt data/sub/link') +
          // A second name for a file in the glob's reach would outlive a rename onto the glob (red team rt6);
          // moving a folder of the workspace (with a rule of its own) into that reach likewise.
          attempt('hardlink-out', 'ln data/sub/deep/d.txt other/hard.txt') +
          attempt('mv-rule-in', 'mv other data/sub/other') +
          // The glob's matches: a new one, a folder moved onto it, and below the folder the host renamed.
          attempt('new-key', "sh -c 'echo x > data/new.key'") +
          attempt('mv-onto-key', 'mv data/sub/deep data/deep.key') +
          attempt('below-key-write', "sh -c 'echo x >> data/y.key/m.txt'") +
          attempt('below-key-create', "sh -c 'echo x > data/y.key/n.txt'") +
          attempt('below-key-mkdir', 'mkdir data/y.key/d') +
          attempt('below-key-rm', 'rm data/y.key/m.txt') +
          attempt('below-key-read', 'grep -q m data/y.key/m.txt'),
      );
      const stop = hostRenames(sb.workspace, 'data/mv', 'data/y.key');
      let r;
      try {
        r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./w.sh'], env);
      } finally {
        stop();
      }
      const ctx = r.stdout + r.stderr;
      assert.match(r.stdout, /ran-below\nexec: ALLOWED/, ctx);
      expectAll(r.stdout, ['read', 'read-deep', 'list', 'append', 'append-deep', 'create', 'mkdir-p', 'rm-rf', 'rm', 'write-rename', 'truncate', 'symlink', 'below-key-read'], 'ALLOWED', ctx);
      expectAll(r.stdout, ['hardlink-out', 'mv-rule-in', 'new-key', 'mv-onto-key', 'below-key-write', 'below-key-create', 'below-key-mkdir', 'below-key-rm'], 'denied', ctx);
      // Observed from outside.
      const sub = path.join(data, 'sub');
      assert.equal(fs.readFileSync(path.join(sub, 'in.txt'), 'utf8'), 'in\nmore\n');
      assert.equal(fs.readFileSync(path.join(sub, 'deep', 'd.txt'), 'utf8'), 'deep\nmore\n');
      assert.equal(fs.readFileSync(path.join(sub, 'deep', 'y.txt'), 'utf8'), 'y\n');
      assert.equal(fs.readFileSync(path.join(sub, 'new.txt'), 'utf8'), 'ne');
      assert.equal(fs.readFileSync(path.join(sub, 'edited.txt'), 'utf8'), 'v2\n');
      assert.equal(fs.readlinkSync(path.join(sub, 'link')), 'in.txt');
      assert.equal(fs.existsSync(path.join(sb.workspace, 'other', 'hard.txt')), false);
      assert.equal(fs.existsSync(path.join(sb.workspace, 'other')), true);
      assert.equal(fs.existsSync(path.join(sub, 'a')), false);
      assert.equal(fs.existsSync(path.join(sub, 'gone.txt')), false);
      assert.equal(fs.existsSync(path.join(data, 'new.key')), false);
      assert.equal(fs.existsSync(path.join(data, 'deep.key')), false);
      assert.deepEqual(fs.readdirSync(path.join(data, 'y.key')), ['m.txt']);
      assert.equal(fs.readFileSync(path.join(data, 'y.key', 'm.txt'), 'utf8'), 'm\n');
    });

    it(`--deny-read secrets/*.pem: reading and writing below secrets/sub goes on through the supervisor, below secrets/mv renamed to secrets/y.pem by the host it is refused (${tier})`, async function () {
      this.timeout(120_000);
      const secrets = path.join(sb.workspace, 'secrets');
      fs.mkdirSync(path.join(secrets, 'sub', 'deep'), { recursive: true });
      fs.mkdirSync(path.join(secrets, 'mv', 'inner'), { recursive: true });
      fs.writeFileSync(path.join(secrets, 'sub', 'in.txt'), 'plain-in\n');
      fs.writeFileSync(path.join(secrets, 'sub', 'deep', 'd.txt'), 'plain-deep\n');
      fs.writeFileSync(path.join(secrets, 'sub', 'run.sh'), 'echo ran-by-sh\n');
      fs.writeFileSync(path.join(secrets, 'mv', 'm.txt'), 'TOPSECRET-M\n');
      fs.writeFileSync(path.join(secrets, 'mv', 'inner', 'i.txt'), 'TOPSECRET-I\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(
        sb.workspace,
        'r.sh',
        WAIT_FOR_HOST +
          attempt('read', 'cat secrets/sub/in.txt') +
          attempt('read-deep', 'cat secrets/sub/deep/d.txt') +
          attempt('list', 'ls secrets/sub') +
          attempt('sh-script', 'sh secrets/sub/run.sh') +
          attempt('create-read', "sh -c 'echo made-new > secrets/sub/new.txt && cat secrets/sub/new.txt'") +
          attempt('append', "sh -c 'echo more >> secrets/sub/in.txt'") +
          attempt('mkdir-rm', "sh -c 'mkdir -p secrets/sub/a/b && echo z > secrets/sub/a/b/z.txt && rm -rf secrets/sub/a'") +
          attempt('below-pem-read', 'cat secrets/y.pem/m.txt') +
          attempt('below-pem-read-deep', 'cat secrets/y.pem/inner/i.txt') +
          attempt('below-pem-list', 'ls secrets/y.pem') +
          attempt('below-pem-write', "sh -c 'echo x >> secrets/y.pem/m.txt'"),
      );
      const stop = hostRenames(sb.workspace, 'secrets/mv', 'secrets/y.pem');
      let r;
      try {
        r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'secrets/*.pem'], ['./r.sh'], env);
      } finally {
        stop();
      }
      const ctx = r.stdout + r.stderr;
      assert.doesNotMatch(r.stdout, /TOPSECRET|m\.txt|inner/, ctx);
      assert.match(r.stdout, /plain-in\nread: ALLOWED/, ctx);
      assert.match(r.stdout, /plain-deep\nread-deep: ALLOWED/, ctx);
      assert.match(r.stdout, /in\.txt\n(.*\n)*list: ALLOWED/, ctx);
      assert.match(r.stdout, /ran-by-sh\nsh-script: ALLOWED/, ctx);
      assert.match(r.stdout, /made-new\ncreate-read: ALLOWED/, ctx);
      expectAll(r.stdout, ['append', 'mkdir-rm'], 'ALLOWED', ctx);
      expectAll(r.stdout, ['below-pem-read', 'below-pem-read-deep', 'below-pem-list', 'below-pem-write'], 'denied', ctx);
      assert.equal(fs.readFileSync(path.join(secrets, 'sub', 'in.txt'), 'utf8'), 'plain-in\nmore\n');
      assert.equal(fs.existsSync(path.join(secrets, 'sub', 'a')), false);
      assert.equal(fs.readFileSync(path.join(secrets, 'y.pem', 'm.txt'), 'utf8'), 'TOPSECRET-M\n');
    });
  }
});
