// Red team rt14, on ea73418 (rt12/rt13 fixes: deny globs followed through the links on their ways, read before
// the run by src/host/deny-glob-links.ts). Ways the alias the walk adds is not where the kernel goes during
// the run:
// - '..' after a FOLDER the script may replace (`sec -> stage/../real`, stage a real folder in the workspace):
//   the walk resolves stage/.. to ws and adds ws/real/*.pem; only a LINK passed on the way is checked for being
//   replaceable, and `stage` is on no glob's way (the alias is normalized), so the script renames stage away and
//   puts `stage -> mine/a` there. The kernel now resolves sec to mine/a/../real = mine/real: what a process
//   outside the run writes at sec/x.pem lands in mine/real/x.pem, which the script reads.
// - a link on the way to a target in a folder the script may write but the walk does not count as replaceable:
//   the 'replaceable' roots are the workspace, allowWrite, os.tmpdir() OF THE CLI and /dev/shm, while the
//   script may write /tmp (moderate, the shared temp dir) and anywhere outside system paths (permissive). With
//   the CLI's TMPDIR elsewhere (an editor's own), sec -> /tmp/../l2/stage with l2 -> d1 is resolved, the alias
//   lands at d1/stage/*.pem, and the script swaps l2 (rt13's attack, through /tmp); in permissive the same
//   through /var/tmp with the default TMPDIR.
// Both tiers, root. Since the fix each is refused in enforce, naming the folder or link the script may
// replace (writability is the policy's own evaluation, decidePath, plus every temp folder whatever TMPDIR
// says), and the script never runs.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
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
      assert.equal(r.code, 125, `not refused: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /it goes up \('\.\.'\) from \S+\/stage, which the script may replace/);
    });

    it(`deny-read sec/*.pem with sec -> /tmp/…/l2/stage, l2 -> d1, the CLI's TMPDIR not /tmp: the script swaps l2 in the shared /tmp, and reads what the host then writes at sec/x.pem (${tier})`, async function () {
      this.timeout(120_000);
      const ws = sb.workspace;
      fs.chmodSync(ws, 0o755);
      // sb.outside is in /tmp, which moderate lets the script write; the CLI's own temp folder is elsewhere.
      const out = sb.outside;
      const cliTmp = path.join(sb.root, 'clitmp');
      fs.mkdirSync(cliTmp);
      for (const d of ['d1/stage', 'mine/stage']) fs.mkdirSync(path.join(out, d), { recursive: true });
      fs.symlinkSync(path.join(out, 'd1'), path.join(out, 'l2'));
      fs.symlinkSync(path.join(out, 'l2', 'stage'), path.join(ws, 'sec'));
      writeScript(ws, 'sw.sh', `#!/bin/sh\nrm ${out}/l2 && ln -s ${out}/mine ${out}/l2 && echo swapped\n: > ready\n` + WAIT_GO + `cat ${out}/mine/stage/x.pem\n`);
      const host = hostWhenReady(ws, () => {
        fs.writeFileSync(path.join(ws, 'sec', 'x.pem'), 'TOPSECRET\n');
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'sec/*.pem'], ['./sw.sh'], { ...env, TMPDIR: cliTmp });
      clearInterval(host);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/x.pem (as ${out}/mine/stage/x.pem) after swapping the link l2 in /tmp: ${r.stdout}${r.stderr}`);
      assert.equal(r.code, 125, `not refused: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /goes through the link \S+\/l2, which the script may replace/);
    });

    it(`permissive: deny-read sec/*.pem with sec -> /var/tmp/…/l2/stage, l2 -> d1: the script swaps l2 (writable outside system paths), and reads what the host then writes at sec/x.pem (${tier})`, async function () {
      this.timeout(120_000);
      const ws = sb.workspace;
      fs.chmodSync(ws, 0o755);
      const out = fs.mkdtempSync(path.join('/var/tmp', 'rt14-'));
      try {
        fs.chmodSync(out, 0o755);
        for (const d of ['d1/stage', 'mine/stage']) fs.mkdirSync(path.join(out, d), { recursive: true });
        fs.symlinkSync(path.join(out, 'd1'), path.join(out, 'l2'));
        fs.symlinkSync(path.join(out, 'l2', 'stage'), path.join(ws, 'sec'));
        writeScript(ws, 'sw.sh', `#!/bin/sh\nrm ${out}/l2 && ln -s ${out}/mine ${out}/l2 && echo swapped\n: > ready\n` + WAIT_GO + `cat ${out}/mine/stage/x.pem\n`);
        const host = hostWhenReady(ws, () => {
          fs.writeFileSync(path.join(ws, 'sec', 'x.pem'), 'TOPSECRET\n');
        });
        const r = await runIn(sb, ['--profile', 'permissive', '--mode', 'enforce', '--deny-read', 'sec/*.pem'], ['./sw.sh'], { ...env, TMPDIR: os.tmpdir() });
        clearInterval(host);
        assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/x.pem (as ${out}/mine/stage/x.pem) after swapping the link l2 in /var/tmp: ${r.stdout}${r.stderr}`);
        assert.equal(r.code, 125, `not refused: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /goes through the link \S+\/l2, which the script may replace/);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
