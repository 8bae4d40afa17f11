// Red team rt11, on 21bf672 (the rt10 fix). movedOntoGlobWay let a move onto a deny glob's way through when
// its source was on ANY glob's way. Links that were on sub/**/*.key's way before the run (`sub/cur -> v1`, a
// common "current version" link; `sub/ln -> ws/stage`, absolute) were moved onto another glob's way (`keys` for
// keys/*.key, `sec` for deny-read sec/*.pem), where they name a folder the script makes. What a process outside
// the run then wrote at keys/k.key or sec/x.pem landed in the script's own folder, where it wrote or read it.
// Deterministic, both tiers. A move onto a glob's way now needs its source on that same glob's way.
// Still open (README): a relative link moved along one `**` glob's way to another depth (sub/a/b/cur ->
// ../../v1 moved to sub/a/cur) names another folder, and a link in a folder that a process outside the run
// renames onto a glob's way (out/keys -> ../v1, then mv out build under build/keys/*.key) stands there.
// (Held on 21bf672: RENAME_EXCHANGE of a way name with a name off every way, in both directions; moving a
// folder that holds a link onto a way or exchanging it with a way folder; links, files and moves at or out of
// deny-read matches.)
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe("red team rt11: a symlink comes to stand on a deny glob's way (a pre-run relative link moved along the way; a link in a folder the host renames onto it) (real kernel)", function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`sub/cur -> v1 moved to keys, sub/cur2 -> v1 to sec: what the host then writes at keys/*.key, sec/*.pem stays out of the script's reach (${tier})`, async function () {
      this.timeout(120_000);
      fs.chmodSync(sb.workspace, 0o755);
      // Before the run: the user's tree has a relative link on sub/**/*.key's way.
      fs.mkdirSync(path.join(sb.workspace, 'sub/v1'), { recursive: true });
      fs.symlinkSync('v1', path.join(sb.workspace, 'sub/cur'));
      fs.symlinkSync('v1', path.join(sb.workspace, 'sub/cur2'));
      writeScript(
        sb.workspace,
        'mv.sh',
        '#!/bin/sh\nmkdir v1\n' +
          // From sub/**/*.key's way onto keys/*.key's: movedOntoGlobWay lets it through; keys -> v1 is now ws/v1.
          'mv sub/cur keys && echo "moved keys"\n' +
          // Onto a deny-read glob's way: sec -> v1, the host's secret sec/x.pem lands in ws/v1.
          'mv sub/cur2 sec && echo "moved sec"\n' +
          ': > ready\n' +
          WAIT_GO +
          'echo PWNED >> v1/k.key; cat v1/x.pem\n',
      );
      const host = hostWhenReady(sb.workspace, () => {
        // A tool outside the run writing a key where the policy says the script may not touch it.
        for (const [p, text] of [['keys/k.key', 'HOSTKEY\n'], ['sec/x.pem', 'TOPSECRET\n']] as const) {
          const f = path.join(sb.workspace, p);
          if (fs.existsSync(path.dirname(f))) fs.writeFileSync(f, text);
        }
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'keys/*.key', '--deny-write', 'sub/**/*.key', '--deny-read', 'sec/*.pem'], ['./mv.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
      const breaches: string[] = [];
      for (const p of ['keys/k.key']) {
        const f = path.join(sb.workspace, p);
        if (fs.existsSync(f) && fs.readFileSync(f, 'utf8') !== 'HOSTKEY\n') breaches.push(`${p} written`);
      }
      if (/TOPSECRET/.test(r.stdout)) breaches.push('sec/x.pem read');
      assert.deepEqual(breaches, [], `the script reached these matches through a pre-run relative link it moved along a glob's way: ${r.stdout}${r.stderr}`);
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
