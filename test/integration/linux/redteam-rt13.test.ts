// Red team rt13, on 403d39d (the rt12 fix: deny globs followed through the links on their ways, read before
// the run by src/host/deny-glob-links.ts). A way the walk misses a link, so the glob is not kept at its
// target and the script reads a match by the target's name:
// - budget: globLinks walks each glob at most GLOB_LIST_BUDGET (20 000) names, then stops SILENTLY: the
//   links it did not reach add no alias and are not "unknown" (enforce does not refuse). fs-model denies the
//   glob's whole prefix then (sec), but not the folder a link there leads to (stage).
// - a link through /proc/self (`sec -> /proc/self/cwd/stage`): the walk resolves it in the CLI's own process
//   (the alias lands at <the CLI's cwd>/stage/*.pem), the kernel in the script's, whose cwd the script sets:
//   with the CLI started outside the workspace (--workspace, as an editor does), the script does `cd ws` and
//   reads ws/sec/x.pem BY THE GLOB'S OWN NAME.
// - a link on the way to a link's target (sec -> ws/l2/stage, l2 -> d1): the walk resolves it, but only sec is
//   in the list the supervisor keeps and l2 is on no glob's way, so the script swaps l2 for a link to its own
//   folder; what a process outside the run then writes at sec/x.pem lands there.
// Both tiers, root. Since the fix each is refused in enforce, naming why (the walk over budget, /proc, the
// replaceable link l2), and the script never runs.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runCli, runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe("red team rt13: deny-glob links the pre-run walk does not see (real kernel)", function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`deny-read sec/*/*.pem with 20 001 names in sec/big: a link sec/lnN -> stageN past the walk's budget leaves stageN/x.pem readable (${tier})`, async function () {
      this.timeout(180_000);
      const ws = sb.workspace;
      const sec = path.join(ws, 'sec');
      fs.mkdirSync(path.join(sec, 'big'), { recursive: true });
      for (let i = 0; i <= 20_000; i++) fs.writeFileSync(path.join(sec, 'big', `f${i}`), '');
      // The walk lists sec in readdir order (not sorted): make links until one comes after `big`, whose
      // 20 001 names exhaust the budget before it.
      let late = -1;
      for (let i = 0; i < 64 && late < 0; i++) {
        fs.mkdirSync(path.join(ws, `stage${i}`));
        fs.writeFileSync(path.join(ws, `stage${i}`, 'x.pem'), 'TOPSECRET\n');
        fs.symlinkSync(path.join(ws, `stage${i}`), path.join(sec, `ln${i}`));
        const names = fs.readdirSync(sec);
        if (names.indexOf(`ln${i}`) > names.indexOf('big')) late = i;
      }
      assert.ok(late >= 0, 'no link listed after big');
      // sec/lnN/x.pem is a match of the glob; it is stageN/x.pem.
      assert.equal(fs.readFileSync(path.join(sec, `ln${late}`, 'x.pem'), 'utf8'), 'TOPSECRET\n');
      writeScript(ws, 'rd.sh', `#!/bin/sh\ncat stage${late}/x.pem\n`);
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'sec/*/*.pem'], ['./rd.sh'], env);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/ln${late}/x.pem as stage${late}/x.pem: ${r.stdout}${r.stderr}`);
      assert.equal(r.code, 125, `not refused: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /more than 20000 entries to look through for links/);
    });

    it(`deny-read sec/*.pem with sec -> /proc/self/cwd/stage, the CLI started outside the workspace: the script's cd ws then cat ws/sec/x.pem stays unread (${tier})`, async function () {
      this.timeout(120_000);
      const ws = sb.workspace;
      fs.mkdirSync(path.join(ws, 'stage'));
      fs.symlinkSync('/proc/self/cwd/stage', path.join(ws, 'sec'));
      // What a tool run in the workspace wrote at sec/x.pem (its cwd is the workspace).
      fs.writeFileSync(path.join(ws, 'stage', 'x.pem'), 'TOPSECRET\n');
      writeScript(ws, 'rd.sh', `#!/bin/sh\ncd ${ws}\ncat ${ws}/sec/x.pem\n`);
      // The CLI as an editor starts it: its cwd is not the workspace (the script's starts as the CLI's).
      const r = await runCli(['run', '--workspace', ws, '--mode', 'enforce', '--deny-read', 'sec/*.pem', '--', path.join(ws, 'rd.sh')], {
        cwd: sb.outside,
        home: sb.home,
        env: { ...env },
      });
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read ${ws}/sec/x.pem through a /proc/self link: ${r.stdout}${r.stderr}`);
      assert.equal(r.code, 125, `not refused: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /\/proc\/self\/cwd\/stage: it goes through \/proc/);
    });

    it(`deny-read sec/*.pem with sec -> ws/l2/stage and l2 -> d1: the script swaps l2 for a link to its own folder, and reads what the host then writes at sec/x.pem (${tier})`, async function () {
      this.timeout(120_000);
      const ws = sb.workspace;
      fs.chmodSync(ws, 0o755);
      fs.mkdirSync(path.join(ws, 'd1', 'stage'), { recursive: true });
      fs.symlinkSync(path.join(ws, 'd1'), path.join(ws, 'l2'));
      fs.symlinkSync(path.join(ws, 'l2', 'stage'), path.join(ws, 'sec'));
      writeScript(ws, 'sw.sh', '#!/bin/sh\nmkdir -p mine/stage && rm l2 && ln -s mine l2 && echo swapped\n: > ready\n' + WAIT_GO + 'cat mine/stage/x.pem\n');
      const host = hostWhenReady(ws, () => {
        // A tool outside the run writing a secret where the policy says the script may not read it.
        fs.writeFileSync(path.join(ws, 'sec', 'x.pem'), 'TOPSECRET\n');
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-read', 'sec/*.pem'], ['./sw.sh'], env);
      clearInterval(host);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/x.pem (as mine/stage/x.pem) after swapping the link l2 on sec's target: ${r.stdout}${r.stderr}`);
      assert.equal(r.code, 125, `not refused: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /goes through the link \S+\/l2, which the script may replace/);
      assert.ok(!fs.existsSync(path.join(ws, 'ready')), 'the script ran');
    });
  }
});
