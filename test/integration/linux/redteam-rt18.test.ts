// Red team rt18, on f8edad9 (rt17: a link passed on the way to a target counts as replaceable).
// A deny whose denied name is itself a pre-run link with an absolute target: `--deny-read d/L` with
// `d/L -> <ws>/real`. The walk keeps the match (the denied name is kept by the deny) and adds the deny at
// <ws>/real. In the namespace tier the deny's mount follows the link and lands on <ws>/real, so nothing pins
// the folder d on the way to the denied name: `rm d/L` and `ln -s … d/L` are refused (the supervisor watches
// d/L), but `mv d d.old` goes through, and `mv d2 d` with a folder d2 holding `L -> ../mine` puts a new link at
// the denied name. What a process outside the run then writes at d/L/x.pem lands in the script's mine/x.pem.
// With `--deny-write d/L/stage --deny-write d/L` (so the walk counts d/L as one the script cannot replace and
// follows it), d/L/stage/conf reads the script's EVIL after the run; one `--deny-write 'd/L/**'` alone does the same
// (d/L/conf). Fails in the namespace tier; the fallback
// tier refuses both renames (the way rules). Root. The workspace is made outside every temp folder (those count
// as replaceable whatever the policy says).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO, workspaceOutsideTemp } from './redteam-support';
import { runCli, runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

/** The script's move: d away, a folder of its own with L -> ../mine in its place. */
const SWAP = 'mv d d.old && mkdir -p d2 mine/stage && ln -s ../mine d2/L && mv d2 d && echo swapped\n';

describe('red team rt18: a denied link moved away with its folder (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`deny-read d/L, d/L -> <ws>/real: the script moves d away, puts its own d/L -> ../mine, and reads what the host then writes at d/L/x.pem (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt18');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        fs.chmodSync(w, 0o755);
        fs.mkdirSync(path.join(w, 'real'));
        fs.mkdirSync(path.join(w, 'd'));
        fs.symlinkSync(path.join(w, 'real'), path.join(w, 'd', 'L'));
        writeScript(w, 'sw.sh', '#!/bin/sh\n' + SWAP + ': > ready\n' + WAIT_GO + 'cat mine/x.pem\n');
        const host = hostWhenReady(w, () => {
          // A tool outside the run writing a secret at a name the policy denies to the script.
          try {
            fs.writeFileSync(path.join(w, 'd', 'L', 'x.pem'), 'TOPSECRET\n');
          } catch {
            // d/L leads nowhere: the secret has nowhere to land
          }
        });
        const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-read', 'd/L', '--', './sw.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } }).finally(() => clearInterval(host));
        assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read d/L/x.pem (as mine/x.pem) after moving d away and putting its own link at d/L: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }

  for (const [tier, env] of TIERS) {
    it(`deny-write d/L/stage and d/L, d/L -> <ws>/real: the script moves d away, and d/L/stage/conf reads its text after the run (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt18');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        fs.chmodSync(w, 0o755);
        fs.mkdirSync(path.join(w, 'real', 'stage'), { recursive: true });
        fs.writeFileSync(path.join(w, 'real', 'stage', 'conf'), 'GOOD\n');
        fs.mkdirSync(path.join(w, 'd'));
        fs.symlinkSync(path.join(w, 'real'), path.join(w, 'd', 'L'));
        writeScript(w, 'sw.sh', '#!/bin/sh\nmkdir -p mine/stage && echo EVIL > mine/stage/conf\n' + SWAP);
        const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-write', 'd/L/stage', '--deny-write', 'd/L', '--', './sw.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
        const at = path.join(w, 'd', 'L', 'stage', 'conf');
        const now = fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : null;
        assert.notEqual(now, 'EVIL\n', `the deny-write path d/L/stage/conf reads the script's text after the run: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }
  // The same with one subtree deny: `--deny-write 'd/L/**'` counts d/L itself as denied, so the walk follows it.
  for (const [tier, env] of TIERS) {
    it(`deny-write d/L/**, d/L -> <ws>/real: the script moves d away, and d/L/conf reads its text after the run (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt18');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        fs.chmodSync(w, 0o755);
        fs.mkdirSync(path.join(w, 'real'));
        fs.writeFileSync(path.join(w, 'real', 'conf'), 'GOOD\n');
        fs.mkdirSync(path.join(w, 'd'));
        fs.symlinkSync(path.join(w, 'real'), path.join(w, 'd', 'L'));
        writeScript(w, 'sw.sh', '#!/bin/sh\nmkdir -p mine && echo EVIL > mine/conf\n' + SWAP);
        const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-write', 'd/L/**', '--', './sw.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
        const at = path.join(w, 'd', 'L', 'conf');
        const now = fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : null;
        assert.notEqual(now, 'EVIL\n', `the deny-write path d/L/conf reads the script's text after the run: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }
});

// Links of ordinary layouts under `**` deny globs (a venv, a pnpm node_modules): every link the walk passes
// lies in the globs' own `**` region, where a folder put in its place is the glob's too, and a deny-write
// path below a file gets no placeholder (ENOTDIR). These run in enforce (rt18 found them refused).
describe('deny globs through links: a venv and a pnpm layout under ** globs still run (real kernel)', function () {
  const sb = useSandbox();
  for (const [tier, env] of TIERS) {
    it(`--deny-read **/*.pem --deny-write **/.env with venv/bin and node_modules links (${tier})`, async function () {
      this.timeout(120_000);
      const ws = sb.workspace;
      const pkg = path.join(ws, 'node_modules', '.pnpm', 'left-pad@1', 'node_modules', 'left-pad');
      fs.mkdirSync(pkg, { recursive: true });
      fs.writeFileSync(path.join(pkg, 'index.js'), '');
      fs.mkdirSync(path.join(ws, 'node_modules', '.bin'));
      fs.mkdirSync(path.join(ws, 'venv', 'bin'), { recursive: true });
      fs.symlinkSync('/bin/sh', path.join(ws, 'venv', 'bin', 'python'));
      fs.symlinkSync('python', path.join(ws, 'venv', 'bin', 'python3'));
      fs.symlinkSync('.pnpm/left-pad@1/node_modules/left-pad', path.join(ws, 'node_modules', 'left-pad'));
      fs.symlinkSync('../left-pad/index.js', path.join(ws, 'node_modules', '.bin', 'left-pad'));
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', '**/*.pem', '--deny-write', '**/.env'], ['sh', '-c', 'echo ran'], env);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /^ran$/m);
    });
  }
});
