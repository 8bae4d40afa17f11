// Red team rt11, on 21bf672 (the rt10 fix). movedOntoGlobWay lets a move onto a deny glob's way through when
// its source is on a glob's way already ("only a link that was on a way before the run moves along it"). But a
// move carries a RELATIVE symlink to a new folder, and there it names another folder: a link that was on one
// glob's way before the run (`sub/cur -> v1`, a common "current version" link, below sub/**/*.key where it names
// sub/v1, inside the glob's reach) is moved onto another glob's way (`keys`, keys/*.key's missing prefix), where
// `v1` now names ws/v1, a folder the script makes. What a process outside the run then writes at keys/k.key
// lands in the script's own folder, where it writes it (keys/k.key is denied). Deterministic, both tiers.
// (Exchanges of a way name with a name off every way, moving folders that hold a link onto a way, links and
// files at deny-read matches, moving a deny-read match out: all refused on 21bf672.)
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe("red team rt11: a relative symlink that was on a deny glob's way before the run, moved onto another glob's way (real kernel)", function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`sub/cur -> v1 moved to keys: what the host then writes at keys/*.key stays out of the script's reach (${tier})`, async function () {
      this.timeout(120_000);
      fs.chmodSync(sb.workspace, 0o755);
      // Before the run: the user's tree has a relative link on sub/**/*.key's way.
      fs.mkdirSync(path.join(sb.workspace, 'sub/v1'), { recursive: true });
      fs.symlinkSync('v1', path.join(sb.workspace, 'sub/cur'));
      writeScript(
        sb.workspace,
        'mv.sh',
        '#!/bin/sh\nmkdir v1\n' +
          // From sub/**/*.key's way onto keys/*.key's: movedOntoGlobWay lets it through; keys -> v1 is now ws/v1.
          'mv sub/cur keys && echo "moved keys"\n' +
          ': > ready\n' +
          WAIT_GO +
          'echo PWNED >> v1/k.key\n',
      );
      const host = hostWhenReady(sb.workspace, () => {
        // A tool outside the run writing a key where the policy says the script may not touch it.
        const f = path.join(sb.workspace, 'keys/k.key');
        if (fs.existsSync(path.dirname(f))) fs.writeFileSync(f, 'HOSTKEY\n');
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'keys/*.key', '--deny-write', 'sub/**/*.key'], ['./mv.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
      const f = path.join(sb.workspace, 'keys/k.key');
      const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : 'HOSTKEY\n';
      assert.equal(text, 'HOSTKEY\n', `the script wrote keys/k.key through a pre-run relative link it moved onto the glob's way: ${r.stdout}${r.stderr}`);
    });
  }
});
