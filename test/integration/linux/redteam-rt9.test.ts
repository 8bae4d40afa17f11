// Red team rt9, on 4d62fbe. In a deny glob's folders the supervisor makes symlinks for the script (a name the
// glob matches refused; "a link's target is text, and everything opened through it is decided on what it
// resolves to"). So below the prefix of a `**` glob the script planted `data/sub -> ../stage` (`sec/sub ->
// ../stage2`), or made a missing prefix itself a link (`keys -> stage3` for keys/*.key). A process outside the
// run that then writes a name the glob matches (data/sub/new.key, sec/sub/x.pem, keys/k.key) wrote into the
// script's own folder, where the script wrote (read) it by its other path, stage/new.key: no rename, no race,
// deterministic, both tiers. A link whose name is on a glob's way is refused now (linkOnGlobWay), hard links
// too (`ln -P` of a symlink makes another). A subtree glob's prefix (`sec/**`) never had the hole: Landlock
// makes no name there.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe('red team rt9: a symlink the script plants on a deny glob\'s way (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`data/sub -> ../stage, sec/sub -> ../stage2, keys -> stage3: what the host then writes at data/**/*.key, sec/**/*.pem, keys/*.key stays out of the script's reach (${tier})`, async function () {
      this.timeout(120_000);
      for (const x of ['data', 'sec']) fs.mkdirSync(path.join(sb.workspace, x), { recursive: true });
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(
        sb.workspace,
        'sl.sh',
        '#!/bin/sh\nmkdir stage && ln -s ../stage data/sub && echo "linked data/sub"\nmkdir stage2 && ln -s ../stage2 sec/sub && echo "linked sec/sub"\n' +
          'mkdir stage3 && ln -s stage3 keys && echo "linked keys"\n' +
          // A hard link to a symlink (no AT_SYMLINK_FOLLOW) is another symlink: the same plant by linkat.
          'mkdir stage4 && ln -s stage4 lnk && ln -P lnk keys2 && echo "linked keys2"\n' +
          // Or made elsewhere and moved there.
          'mkdir stage5 && ln -s stage5 lnk5 && mv lnk5 keys3 && echo "moved keys3"\n: > ready\n' + WAIT_GO + 'echo PWNED >> stage/new.key\necho PWNED >> stage3/k.key\necho PWNED >> stage4/k.key\necho PWNED >> stage5/k.key\ncat stage2/x.pem\n',
      );
      const host = hostWhenReady(sb.workspace, () => {
        // A tool outside the run writing keys where the policy says the script may not touch them.
        for (const [p, text] of [['data/sub/new.key', 'HOSTKEY\n'], ['keys/k.key', 'HOSTKEY\n'], ['keys2/k.key', 'HOSTKEY\n'], ['keys3/k.key', 'HOSTKEY\n'], ['sec/sub/x.pem', 'TOPSECRET\n']] as const) {
          const f = path.join(sb.workspace, p);
          if (fs.existsSync(path.dirname(f))) fs.writeFileSync(f, text);
        }
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/**/*.key', '--deny-read', 'sec/**/*.pem', '--deny-write', 'keys/*.key', '--deny-write', 'keys2/*.key', '--deny-write', 'keys3/*.key'], ['./sl.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
      for (const p of ['data/sub/new.key', 'keys/k.key', 'keys2/k.key', 'keys3/k.key']) {
        const f = path.join(sb.workspace, p);
        if (fs.existsSync(f)) assert.equal(fs.readFileSync(f, 'utf8'), 'HOSTKEY\n', `${p} was written by the script through its symlinked folder: ${r.stdout}`);
      }
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `sec/sub/x.pem was read by the script through its symlinked folder: ${r.stdout}`);
    });
  }
});
