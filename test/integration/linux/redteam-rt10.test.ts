// Red team rt10, on a336a43 (the rt9 fix 54dbdd3). linkOnGlobWay refuses a link made on a deny glob's way,
// and movedOntoGlobWay a move onto the way, but only from outside every glob's way and reach: "moves within
// the way and the reach are left to the other checks", and those let a non-directory through. A symlink may
// still be made where a name is in a glob's reach but on no way (an entry of a single-level glob's folder:
// `a/b/lnk` for a/*/*.key, `sec/b/l` for sec/*/*.pem, `data/lnk` for data/*.key), then moved onto a way: of
// the same glob (`a/c`, `sec/c`) or of another (`keys` for keys/*.key, `sub/x` for sub/**/*.key). What a
// process outside the run then writes at a matching name (a/c/k.key, keys/k.key, sub/x/k.key, sec/c/x.pem)
// lands in the script's own folder, where it writes (reads) it by its other path. Deterministic, both tiers.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe("red team rt10: a symlink made in a deny glob's reach and moved onto its way (real kernel)", function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`a/b/lnk -> a/c, data/lnk -> keys, data/lnk3 -> sub/x, sec/b/l -> sec/c: what the host then writes at a/*/*.key, keys/*.key, sub/**/*.key, sec/*/*.pem stays out of the script's reach (${tier})`, async function () {
      this.timeout(120_000);
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(
        sb.workspace,
        'mv.sh',
        '#!/bin/sh\nmkdir stage stage2 stage3 stage4 data sub\n' +
          // One glob: a/b/lnk is an entry of a/b (reach, not way); a/c is on a/*/*.key's way.
          'mkdir -p a/b && ln -s "$PWD/stage" a/b/lnk && mv a/b/lnk a/c && echo "moved a/c"\n' +
          // Two globs: data/lnk is in data/*.key\'s reach; keys is keys/*.key\'s missing prefix.
          'ln -s stage2 data/lnk && mv data/lnk keys && echo "moved keys"\n' +
          'ln -s ../stage3 data/lnk3 && mv data/lnk3 sub/x && echo "moved sub/x"\n' +
          // Deny-read: the script reads what the host writes.
          'mkdir -p sec/b && ln -s "$PWD/stage4" sec/b/l && mv sec/b/l sec/c && echo "moved sec/c"\n' +
          ': > ready\n' +
          WAIT_GO +
          'echo PWNED >> stage/k.key\necho PWNED >> stage2/k.key\necho PWNED >> stage3/k.key\ncat stage4/x.pem\n',
      );
      const host = hostWhenReady(sb.workspace, () => {
        // A tool outside the run writing keys where the policy says the script may not touch them.
        for (const [p, text] of [['a/c/k.key', 'HOSTKEY\n'], ['keys/k.key', 'HOSTKEY\n'], ['sub/x/k.key', 'HOSTKEY\n'], ['sec/c/x.pem', 'TOPSECRET\n']] as const) {
          const f = path.join(sb.workspace, p);
          if (fs.existsSync(path.dirname(f))) fs.writeFileSync(f, text);
        }
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'a/*/*.key', '--deny-write', 'data/*.key', '--deny-write', 'keys/*.key', '--deny-write', 'sub/**/*.key', '--deny-read', 'sec/*/*.pem'], ['./mv.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
      const breaches: string[] = [];
      for (const p of ['a/c/k.key', 'keys/k.key', 'sub/x/k.key']) {
        const f = path.join(sb.workspace, p);
        if (fs.existsSync(f) && fs.readFileSync(f, 'utf8') !== 'HOSTKEY\n') breaches.push(`${p} written`);
      }
      if (/TOPSECRET/.test(r.stdout)) breaches.push('sec/c/x.pem read');
      assert.deepEqual(breaches, [], `the script reached these matches through a link it moved onto the glob's way: ${r.stdout}`);
    });
  }
});
