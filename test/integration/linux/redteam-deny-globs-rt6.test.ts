// Red team rt6, on the fix for folders in a deny glob's folder (f9a7ff7, 42ff504): a start-time folder there
// (data/sub) keeps a Landlock rule without the rights the glob denies, and the supervisor performs the calls
// below it. These tests show ways the script prepares, before a process outside the run renames data/sub to
// data/x.key (secrets/sub to secrets/x.pem) or data/draft.txt to data/new.key, a second way in that the check on
// "the name it has now" never sees: a hard link (another name of the inode) or a folder carrying its own rule.
// (In this file rather than redteam-deny-globs.test.ts, which would pass the 400-line limit.)
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO, WRITE_RACE_PY } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe('red team rt6: a start-time folder renamed onto a deny glob, prepared by the script (real kernel)', function () {
  const sb = useSandbox();

  // Since 42ff504 the supervisor performs `ln data/sub/in.txt src/w` for the script (Landlock refuses it: data/sub
  // lost its refer right). After the rename, src/w is a second name, under src/'s own rule, of what is now
  // data/x.key/in.txt: a plain `echo >> src/w` writes a match's content, with no race and nothing reported;
  // likewise `cat src/r` reads what the host then writes into secrets/x.pem/in.txt. Deterministic.
  for (const [tier, env] of TIERS) {
    it(`a hard link made out of data/sub (secrets/sub) before the host renames it onto the glob neither writes nor reads the match (${tier})`, async function () {
      this.timeout(120_000);
      const [data, secrets, src] = ['data', 'secrets', 'src'].map((d) => path.join(sb.workspace, d)) as [string, string, string];
      for (const d of [path.join(data, 'sub'), path.join(secrets, 'sub'), src]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(data, 'sub', 'in.txt'), 'in\n');
      fs.writeFileSync(path.join(secrets, 'sub', 'in.txt'), 'draft\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'hl.sh', '#!/bin/sh\nln data/sub/in.txt src/w && ln secrets/sub/in.txt src/r && echo "links made"\n: > ready\n' + WAIT_GO + 'echo PWNED >> src/w && echo "wrote through src/w"\ncat src/r\n');
      const host = hostWhenReady(sb.workspace, () => {
        fs.renameSync(path.join(data, 'sub'), path.join(data, 'x.key'));
        fs.renameSync(path.join(secrets, 'sub'), path.join(secrets, 'x.pem'));
        fs.writeFileSync(path.join(secrets, 'x.pem', 'in.txt'), 'TOPSECRET\n'); // in place: the same inode
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key', '--deny-read', 'secrets/*.pem'], ['./hl.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never renamed: ${r.stdout}${r.stderr}`);
      assert.equal(fs.readFileSync(path.join(data, 'x.key', 'in.txt'), 'utf8'), 'in\n', `data/x.key/in.txt was written through src/w: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `secrets/x.pem/in.txt was read through src/r: ${r.stdout}`);
    });
  }

  // The same without any folder: `ln data/draft.txt data/l` is performed by the supervisor in the carved folder
  // data/ (so before this branch too). When the host then renames data/draft.txt to data/new.key (the file case
  // the fix for files in a glob's folder covers), data/l is the match's other name, decided as "data/l": written
  // with a plain `echo >>`; likewise secrets/l reads what the host writes into secrets/new.pem. No race.
  for (const [tier, env] of TIERS) {
    it(`a hard link made in data/ (secrets/) before the host renames the file onto the glob neither writes nor reads the match (${tier})`, async function () {
      this.timeout(120_000);
      const [data, secrets] = ['data', 'secrets'].map((d) => path.join(sb.workspace, d)) as [string, string];
      for (const d of [data, secrets]) fs.mkdirSync(d);
      fs.writeFileSync(path.join(data, 'draft.txt'), 'draft\n');
      fs.writeFileSync(path.join(secrets, 'draft.txt'), 'draft\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'hl.sh', '#!/bin/sh\nln data/draft.txt data/l && ln secrets/draft.txt secrets/l && echo "links made"\n: > ready\n' + WAIT_GO + 'echo PWNED >> data/l && echo "wrote through data/l"\ncat secrets/l\n');
      const host = hostWhenReady(sb.workspace, () => {
        fs.renameSync(path.join(data, 'draft.txt'), path.join(data, 'new.key'));
        fs.renameSync(path.join(secrets, 'draft.txt'), path.join(secrets, 'new.pem'));
        fs.writeFileSync(path.join(secrets, 'new.pem'), 'TOPSECRET\n'); // in place: the same inode
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key', '--deny-read', 'secrets/*.pem'], ['./hl.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never renamed: ${r.stdout}${r.stderr}`);
      assert.equal(fs.readFileSync(path.join(data, 'new.key'), 'utf8'), 'draft\n', `data/new.key was written through data/l: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `secrets/new.pem was read through secrets/l: ${r.stdout}`);
    });
  }

  // The README's "still open" case needs a process outside the run to move an entry with its own rule (src/)
  // onto the glob. The script can do that part itself: `mv src data/sub/src` is performed by the supervisor
  // (the workspace root and data/sub are supervised; neither name is on the glob's way). Then the very rename
  // f9a7ff7 closed (data/sub to data/x.key) leaves data/x.key/src under src/'s full rule, and a thread flipping
  // the path buffer against an allowed name of the same length (answered "continue") writes it.
  for (const [tier, env] of TIERS) {
    it(`src/ moved into data/sub by the script, data/sub renamed to data/x.key by the host: data/x.key/src/in.txt not written by a racing thread (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      for (const d of [path.join(data, 'sub'), path.join(sb.workspace, 'src'), path.join(sb.workspace, 'other')]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(sb.workspace, 'src', 'in.txt'), 'in\n');
      fs.writeFileSync(path.join(sb.workspace, 'other', 'xxxxxxxxxxx.txt'), 'o\n'); // as long as data/x.key/src/in.txt
      writeScript(sb.workspace, 'race.py', WRITE_RACE_PY, 0o644);
      writeScript(sb.workspace, 'st.sh', '#!/bin/sh\nif mv src data/sub/src; then echo "staged"; else echo "staging refused"; fi\n: > ready\n' + WAIT_GO + 'python3 race.py "$PWD/data/x.key/src/in.txt" "$PWD/other/xxxxxxxxxxx.txt"\n');
      const host = hostWhenReady(sb.workspace, () => fs.renameSync(path.join(data, 'sub'), path.join(data, 'x.key')));
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./st.sh'], env);
      clearInterval(host);
      assert.match(r.stdout, /race: /, r.stdout + r.stderr);
      // Closed at the staging: a folder from outside the glob's reach may carry a rule of its own, so the
      // supervisor refuses to move it in (deny-glob-reach). Were it moved, the race must still hold.
      if (/staging refused/.test(r.stdout)) {
        assert.match(r.stderr, /Blocked renameat2? of src to data\/sub\/src/, r.stderr);
        assert.equal(fs.readFileSync(path.join(sb.workspace, 'src', 'in.txt'), 'utf8'), 'in\n');
      } else {
        assert.match(r.stdout, /staged/, r.stdout + r.stderr);
        assert.equal(fs.readFileSync(path.join(data, 'x.key', 'src', 'in.txt'), 'utf8'), 'in\n', `data/x.key/src/in.txt was written: ${r.stdout}`);
      }
    });
  }
});
