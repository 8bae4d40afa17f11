// Red team rt11, on 21bf672 (the rt10 fix). movedOntoGlobWay lets a move onto a deny glob's way through when
// its source is on a glob's way already ("only a link that was on a way before the run moves along it"). But a
// move carries a RELATIVE symlink to a new folder, and there it names another folder. Links that were on
// sub/**/*.key's way before the run, naming folders inside the glob's reach (`sub/cur -> v1`, a common "current
// version" link; `sub/a/b/cur -> ../../v1`), are moved onto another glob's way (`keys` for keys/*.key, `sec` for
// deny-read sec/*.pem) or one level up the same way (`sub/a/cur`), where they name ws/v1, a folder the script
// makes. What a process outside the run then writes at keys/k.key, sub/a/cur/s.key (denied writes) or
// sec/x.pem (denied read) lands in the script's own folder, where it writes or reads it. Deterministic, both
// tiers. (Held on 21bf672: RENAME_EXCHANGE of a way name with a name off every way, in both directions; moving
// a folder that holds a link onto a way or exchanging it with a way folder; links, files and moves at or out
// of deny-read matches.)
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe("red team rt11: a symlink comes to stand on a deny glob's way (a pre-run relative link moved along the way; a link in a folder the host renames onto it) (real kernel)", function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`sub/cur -> v1 moved to keys, sub/cur2 -> v1 to sec, sub/a/b/cur -> ../../v1 to sub/a/cur: what the host then writes at keys/*.key, sec/*.pem, sub/**/*.key stays out of the script's reach (${tier})`, async function () {
      this.timeout(120_000);
      fs.chmodSync(sb.workspace, 0o755);
      // Before the run: the user's tree has a relative link on sub/**/*.key's way.
      fs.mkdirSync(path.join(sb.workspace, 'sub/v1'), { recursive: true });
      fs.symlinkSync('v1', path.join(sb.workspace, 'sub/cur'));
      fs.symlinkSync('v1', path.join(sb.workspace, 'sub/cur2'));
      // And one that reaches up: sub/a/b/cur names sub/v1 before the run.
      fs.mkdirSync(path.join(sb.workspace, 'sub/a/b'), { recursive: true });
      fs.symlinkSync('../../v1', path.join(sb.workspace, 'sub/a/b/cur'));
      writeScript(
        sb.workspace,
        'mv.sh',
        '#!/bin/sh\nmkdir v1\n' +
          // From sub/**/*.key's way onto keys/*.key's: movedOntoGlobWay lets it through; keys -> v1 is now ws/v1.
          'mv sub/cur keys && echo "moved keys"\n' +
          // Onto a deny-read glob's way: sec -> v1, the host's secret sec/x.pem lands in ws/v1.
          'mv sub/cur2 sec && echo "moved sec"\n' +
          // Along the same glob's way, one level up: sub/a/cur -> ../../v1 names ws/v1 now.
          'mv sub/a/b/cur sub/a/cur && echo "moved sub/a/cur"\n' +
          ': > ready\n' +
          WAIT_GO +
          'echo PWNED >> v1/k.key; cat v1/x.pem; echo PWNED >> v1/s.key\n',
      );
      const host = hostWhenReady(sb.workspace, () => {
        // A tool outside the run writing a key where the policy says the script may not touch it.
        for (const [p, text] of [['keys/k.key', 'HOSTKEY\n'], ['sec/x.pem', 'TOPSECRET\n'], ['sub/a/cur/s.key', 'HOSTKEY\n']] as const) {
          const f = path.join(sb.workspace, p);
          if (fs.existsSync(path.dirname(f))) fs.writeFileSync(f, text);
        }
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'keys/*.key', '--deny-write', 'sub/**/*.key', '--deny-read', 'sec/*.pem'], ['./mv.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
      const breaches: string[] = [];
      for (const p of ['keys/k.key', 'sub/a/cur/s.key']) {
        const f = path.join(sb.workspace, p);
        if (fs.existsSync(f) && fs.readFileSync(f, 'utf8') !== 'HOSTKEY\n') breaches.push(`${p} written`);
      }
      if (/TOPSECRET/.test(r.stdout)) breaches.push('sec/x.pem read');
      assert.deepEqual(breaches, [], `the script reached these matches through a pre-run relative link it moved along a glob's way: ${r.stdout}${r.stderr}`);
    });
    // Needs a process outside the run to rename a folder the script made (a build tool's `mv out build`): the
    // symlink analog of the hard link README lists as still open from rt9. out/keys is on no way when made.
    it(`out/keys -> ../v1, then the host renames out to build: what it then writes at build/keys/*.key stays out of the script's reach (${tier})`, async function () {
      this.timeout(120_000);
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'mv.sh', '#!/bin/sh\nmkdir v1 out\nln -s ../v1 out/keys && echo "made out/keys"\n: > ready\n' + WAIT_GO + 'echo PWNED >> v1/k.key\n');
      const host = hostWhenReady(sb.workspace, () => {
        fs.renameSync(path.join(sb.workspace, 'out'), path.join(sb.workspace, 'build'));
        fs.writeFileSync(path.join(sb.workspace, 'build/keys/k.key'), 'HOSTKEY\n');
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'build/keys/*.key'], ['./mv.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
      const f = path.join(sb.workspace, 'build/keys/k.key');
      const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : 'HOSTKEY\n';
      assert.equal(text, 'HOSTKEY\n', `the script wrote build/keys/k.key through a link in a folder the host renamed onto the glob's way: ${r.stdout}${r.stderr}`);
    });
    // Not only relative links: an absolute pre-run link on sub/**/*.key's way to a folder off every glob
    // (sub/ln -> ws/stage) moved onto deny-read sec/*.pem's missing prefix; the host's secret lands in stage.
    it(`sub/ln -> ws/stage (absolute, pre-run) moved to sec: what the host then writes at sec/*.pem stays unread (${tier})`, async function () {
      this.timeout(120_000);
      fs.chmodSync(sb.workspace, 0o755);
      fs.mkdirSync(path.join(sb.workspace, 'sub'));
      fs.mkdirSync(path.join(sb.workspace, 'stage'));
      fs.symlinkSync(path.join(sb.workspace, 'stage'), path.join(sb.workspace, 'sub/ln'));
      writeScript(sb.workspace, 'mv.sh', '#!/bin/sh\nmv sub/ln sec && echo "moved sec"\n: > ready\n' + WAIT_GO + 'cat stage/x.pem\n');
      const host = hostWhenReady(sb.workspace, () => {
        const f = path.join(sb.workspace, 'sec/x.pem');
        if (fs.existsSync(path.dirname(f))) fs.writeFileSync(f, 'TOPSECRET\n');
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'sec/*.pem', '--deny-write', 'sub/**/*.key'], ['./mv.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/x.pem through a pre-run link it moved onto the glob's way: ${r.stdout}${r.stderr}`);
    });
  }
});
