// Red team rt17, on 1054e53 (a replaceable link on the way to a literal or subtree deny refuses enforce).
// Also (second part, reporting only): warn mode reports nothing for a read of a literal deny whose way link rt16 made unknown.
// A link whose target goes through a second link, both on a carving glob's own way: `--deny-read 'a/*/x.pem'`
// with `a/M -> ../real` and `a/L -> M/sub` (real/sub a folder). The walk follows L through M (M stands on the
// glob's way, so it counts as kept by the way rules) and adds the glob at ws/real/sub/x.pem. But the way rules
// keep no link *as a link*: they refuse making a link on a way and moving one along it, not removing it and
// making a folder in its place (mkdir there works, and a folder on the way is what the glob expects). So the
// script runs `rm a/M; mkdir -p a/M/sub`: a/M is now its own folder, a/M/sub is off the glob's way (a/*/x.pem
// names a/M/x.pem, not a/M/sub/x.pem), and L, still `M/sub`, leads into it. What a process outside the run
// then writes at a/L/x.pem (a name the glob denies) the script reads as a/M/sub/x.pem; with --deny-write
// 'a/*/conf', a/L/conf reads the script's EVIL after the run. Fails both tiers, root. The workspace is made
// outside every temp folder (those count as replaceable whatever the policy says).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO, workspaceOutsideTemp } from './redteam-support';
import { runCli, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

/** real/sub, a/M -> ../real, a/L -> M/sub: L's target goes through M, both on the way of a/*\/<name>. */
function makeChain(w: string): void {
  fs.chmodSync(w, 0o755);
  fs.mkdirSync(path.join(w, 'real', 'sub'), { recursive: true });
  fs.mkdirSync(path.join(w, 'a'));
  fs.symlinkSync('../real', path.join(w, 'a', 'M'));
  fs.symlinkSync('M/sub', path.join(w, 'a', 'L'));
}

describe('red team rt17: deny globs through links, a way link replaced by a folder; warn reports (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`deny-read a/*/x.pem, a/L -> M/sub, a/M -> ../real: the script makes a/M a folder and reads what the host then writes at a/L/x.pem (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt17');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        makeChain(w);
        writeScript(w, 'sw.sh', '#!/bin/sh\nrm a/M && mkdir -p a/M/sub && echo swapped\n: > ready\n' + WAIT_GO + 'cat a/M/sub/x.pem\n');
        const host = hostWhenReady(w, () => {
          // A tool outside the run writing a secret at a name the policy denies to the script.
          try {
            fs.writeFileSync(path.join(w, 'a', 'L', 'x.pem'), 'TOPSECRET\n');
          } catch {
            // L leads nowhere: the secret has nowhere to land
          }
        });
        const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-read', 'a/*/x.pem', '--', './sw.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } }).finally(() => clearInterval(host));
        assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read a/L/x.pem (as a/M/sub/x.pem) after replacing the way link a/M with a folder: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }

  for (const [tier, env] of TIERS) {
    it(`deny-write a/*/conf, a/L -> M/sub, a/M -> ../real: the script makes a/M a folder, and a/L/conf reads its text after the run (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt17');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        makeChain(w);
        fs.writeFileSync(path.join(w, 'real', 'sub', 'conf'), 'GOOD\n');
        writeScript(w, 'sw.sh', '#!/bin/sh\nrm a/M && mkdir -p a/M/sub && echo EVIL > a/M/sub/conf && echo swapped\n');
        const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-write', 'a/*/conf', '--', './sw.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
        const at = path.join(w, 'a', 'L', 'conf');
        const now = fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : null;
        assert.notEqual(now, 'EVIL\n', `the deny-write path a/L/conf reads the script's text after the run: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }

  // Warn mode, on rt16's refusal: with `L -> real`, `--deny-read L/stage` is unknown in enforce (the script may
  // replace L), so the walk adds no alias at real/stage at all. A warn run then reports nothing when the script
  // reads the very path the user denied, L/stage/x.pem (the kernel resolves it to real/stage/x.pem, which no
  // glob names); before rt16 it was reported through the alias. Warn promises to report every would-be block;
  // the start note only says enforce would refuse. Reporting, not confinement (warn blocks nothing).
  for (const [tier, env] of TIERS) {
    it(`warn, deny-read L/stage, L -> real: reading L/stage/x.pem is reported as a would-be block (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt17');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        fs.chmodSync(w, 0o755);
        fs.mkdirSync(path.join(w, 'real', 'stage'), { recursive: true });
        fs.writeFileSync(path.join(w, 'real', 'stage', 'x.pem'), 'S\n');
        fs.symlinkSync('real', path.join(w, 'L'));
        writeScript(w, 'rd.sh', '#!/bin/sh\ncat L/stage/x.pem\n');
        const args = ['run', '--workspace', w, '--mode', 'warn', '--deny-read', 'L/stage', '--', './rd.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
        assert.match(r.stderr, /would block read of L\/stage\/x\.pem/, `warn did not report the read of the denied L/stage/x.pem: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }
});
