// Red team rt13, on 403d39d (the rt12 fix: deny globs followed through the links on their ways, read before
// the run by src/host/deny-glob-links.ts). A way the walk misses a link, so the glob is not kept at its
// target and the script reads a match by the target's name:
// - budget: globLinks walks each glob at most GLOB_LIST_BUDGET (20 000) names, then stops SILENTLY: the
//   links it did not reach add no alias and are not "unknown" (enforce does not refuse). fs-model denies the
//   glob's whole prefix then (sec), but not the folder a link there leads to (stage).
// Both tiers, root.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIn, writeScript } from './helpers';
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
    });
  }
});
