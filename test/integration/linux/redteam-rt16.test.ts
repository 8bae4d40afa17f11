// Red team rt16, on ea2ab56 (the way rules hold for every deny glob, subtree globs and literal paths too).
// A literal or subtree deny whose way goes through a link made before the run: `--deny-read L/stage` (or
// `L/stage/**`, or the file `L/stage/x.pem`) with `L -> real` in the workspace. The walk adds the deny again
// at ws/real/stage and records L as a way link; the way rules (no link made on a way, a pre-run link not moved
// along it) are the supervisor's, and the supervisor sees only calls in carved folders. In the namespace tier a
// literal or subtree deny carves nothing (its mounts sit on real/stage, not on L, a link), so `rm L; ln -s mine L`
// goes straight to the kernel and Landlock allows it in the workspace: what a process outside the run then
// writes at L/stage/x.pem lands in mine/stage/x.pem, which the script reads. The walk does not count L itself
// as replaceable (resolveTarget checks the links and folders on the way to the target, not the starting link).
// Integrity side: `--deny-write L/stage` (real/stage/conf = GOOD); the script writes mine/stage/conf = EVIL
// and swaps L: after the run the path the policy kept read-only, L/stage/conf, reads EVIL for everyone.
// The fallback tier holds (the workspace root is carved there: `ln -s mine L` is refused by linkOnGlobWay);
// `sec/*.pem` (a carving glob) holds in both; `sec` / `sec/**` with sec itself the link hold (the link is the
// denied path: rm refused). The workspace is made outside every temp folder. Both tiers, root.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO, workspaceOutsideTemp } from './redteam-support';
import { runCli, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe('red team rt16: a pre-run link on the way of a literal or subtree deny (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    for (const glob of ['L/stage', 'L/stage/**', 'L/stage/x.pem']) {
      it(`deny-read ${glob}, L -> real: the script replaces the link L with L -> mine and reads what the host then writes at L/stage/x.pem (${tier})`, async function () {
        this.timeout(120_000);
        const ws = workspaceOutsideTemp('rt16');
        if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
        const w = ws as string;
        try {
          fs.chmodSync(w, 0o755);
          for (const d of ['real/stage', 'mine/stage']) fs.mkdirSync(path.join(w, d), { recursive: true });
          fs.symlinkSync('real', path.join(w, 'L'));
          writeScript(w, 'sw.sh', '#!/bin/sh\nrm L && ln -s mine L && echo swapped\n: > ready\n' + WAIT_GO + 'cat mine/stage/x.pem\n');
          const host = hostWhenReady(w, () => {
            // A tool outside the run writing a secret where the policy says the script may not read it (no L
            // left when the script's rm went through and its ln was refused: nothing to write then).
            try {
              fs.writeFileSync(path.join(w, 'L', 'stage', 'x.pem'), 'TOPSECRET\n');
            } catch {
              // L/stage is gone: the secret has nowhere to land
            }
          });
          const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-read', glob, '--', './sw.sh'];
          const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } }).finally(() => clearInterval(host));
          assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read L/stage/x.pem (as mine/stage/x.pem) after replacing the way link L: ${r.stdout}${r.stderr}`);
        } finally {
          fs.rmSync(w, { recursive: true, force: true });
        }
      });
    }
  }

  for (const [tier, env] of TIERS) {
    it(`deny-write L/stage, L -> real: the script replaces the link L with L -> mine, and L/stage/conf reads its text after the run (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt16');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        fs.chmodSync(w, 0o755);
        fs.mkdirSync(path.join(w, 'real', 'stage'), { recursive: true });
        fs.writeFileSync(path.join(w, 'real', 'stage', 'conf'), 'GOOD\n');
        fs.symlinkSync('real', path.join(w, 'L'));
        writeScript(w, 'sw.sh', '#!/bin/sh\nmkdir -p mine/stage; echo EVIL > mine/stage/conf; rm L && ln -s mine L && echo swapped\n');
        const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-write', 'L/stage', '--', './sw.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
        // The fallback tier lets the script unlink L (a link is no folder: no way rule refuses it) and refuses the
        // new link: L/stage/conf is then gone, not EVIL; what this test proves is that it never reads EVIL.
        const now = fs.existsSync(path.join(w, 'L', 'stage', 'conf')) ? fs.readFileSync(path.join(w, 'L', 'stage', 'conf'), 'utf8') : null;
        assert.notEqual(now, 'EVIL\n', `the deny-write path L/stage/conf reads the script's text after the run: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }
});
