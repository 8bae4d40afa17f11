// Red team rt14, on ea73418 (rt12/rt13 fixes: deny globs followed through the links on their ways, read before
// the run by src/host/deny-glob-links.ts). Ways the alias the walk adds is not where the kernel goes during
// the run:
// - '..' after a FOLDER the script may replace (`sec -> stage/../real`, stage a real folder in the workspace):
//   the walk resolves stage/.. to ws and adds ws/real/*.pem; only a LINK passed on the way is checked for being
//   replaceable, and `stage` is on no glob's way (the alias is normalized), so the script renames stage away and
//   puts `stage -> mine/a` there. The kernel now resolves sec to mine/a/../real = mine/real: what a process
//   outside the run writes at sec/x.pem lands in mine/real/x.pem, which the script reads.
// Both tiers, root. Fixed when enforce refuses (a '..' after a folder the script may replace) or the alias
// keeps it, and the script never reads the secret.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe('red team rt14: deny-glob link targets the script can move during the run (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`deny-read sec/*.pem with sec -> stage/../real: the script swaps the folder stage for a link, and reads what the host then writes at sec/x.pem (${tier})`, async function () {
      this.timeout(120_000);
      const ws = sb.workspace;
      fs.chmodSync(ws, 0o755);
      for (const d of ['stage', 'real', 'mine/a', 'mine/real']) fs.mkdirSync(path.join(ws, d), { recursive: true });
      fs.symlinkSync('stage/../real', path.join(ws, 'sec'));
      writeScript(ws, 'sw.sh', '#!/bin/sh\nmv stage stage_old && ln -s mine/a stage && echo swapped\n: > ready\n' + WAIT_GO + 'cat mine/real/x.pem\n');
      const host = hostWhenReady(ws, () => {
        // A tool outside the run writing a secret where the policy says the script may not read it.
        fs.writeFileSync(path.join(ws, 'sec', 'x.pem'), 'TOPSECRET\n');
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'sec/*.pem'], ['./sw.sh'], env);
      clearInterval(host);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/x.pem (as mine/real/x.pem) after swapping the folder stage on sec's target for a link: ${r.stdout}${r.stderr}`);
    });
  }
});
