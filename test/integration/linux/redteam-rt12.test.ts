// Red team rt12, on af94007 (the rt11 fix). A symlink that is on a deny glob's way before the run (its prefix,
// a folder on its way, or a match) and names a folder missing at the start (ws/stage) is not carved: the
// script makes that folder (`mkdir stage`) and what a process outside the run writes at a match through the
// link lands in the script's own folder, where it reads it. movedOntoGlobWay also checks only that a move's
// source is on the same glob's way, not WHERE on it: a/ln (an `a/*` folder of a/*/*/*.pem) moved to a/b/c (the
// folder of its matches), or sub/ln (on both sub/**/*.key's and sub/*/sec/*.pem's way) moved to sub/a/sec,
// gets through; a relative link moved to another depth of a `**` glob's way leads somewhere else.
// Deterministic, both tiers.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

type Case = {
  name: string;
  /** The pre-run link, and what it names (relative to the workspace, or a relative link's text). */
  link: string;
  target?: string;
  relative?: boolean;
  /** stage exists before the run. */
  staged?: boolean;
  script: string;
  match: string;
  reads: string;
  args: string[];
  /** The run is refused before the script starts, naming the link. */
  refused?: RegExp;
};
const cases: Case[] = [
  // The simplest: the glob's prefix itself is a pre-run link to a missing folder.
  { name: 'sec -> ws/stage (dangling at the start), deny-read sec/*.pem', link: 'sec', script: 'true', match: 'sec/x.pem', reads: 'stage/x.pem', args: ['--deny-read', 'sec/*.pem'] },
  // A link at a/*/*/*.pem's second level, left in place: the script makes stage/c.
  { name: 'a/ln -> ws/stage left in place, deny-read a/*/*/*.pem', link: 'a/ln', script: 'mkdir stage/c', match: 'a/ln/c/x.pem', reads: 'stage/c/x.pem', args: ['--deny-read', 'a/*/*/*.pem'] },
  // Moved to another position on the same glob's way: a/b/c is the folder of the matches.
  { name: 'a/ln -> ws/stage moved to a/b/c, deny-read a/*/*/*.pem', link: 'a/ln', script: 'mkdir a/b && mv a/ln a/b/c', match: 'a/b/c/x.pem', reads: 'stage/x.pem', args: ['--deny-read', 'a/*/*/*.pem'] },
  { name: 'a/ln -> ws/stage (existing) moved to a/b/c, deny-read a/*/*/*.pem', link: 'a/ln', staged: true, script: 'mkdir a/b && mv a/ln a/b/c', match: 'a/b/c/x.pem', reads: 'stage/x.pem', args: ['--deny-read', 'a/*/*/*.pem'] },
  // Two globs sharing a way: sub/ln is on both sub/**/*.key's and sub/*/sec/*.pem's way, and so is sub/a/sec.
  { name: 'sub/ln -> ws/stage moved to sub/a/sec, deny-read sub/*/sec/*.pem + deny-write sub/**/*.key', link: 'sub/ln', script: 'mkdir sub/a && mv sub/ln sub/a/sec', match: 'sub/a/sec/x.pem', reads: 'stage/x.pem', args: ['--deny-read', 'sub/*/sec/*.pem', '--deny-write', 'sub/**/*.key'] },
  // A subtree deny (a literal path) that is a dangling link.
  { name: 'sec -> ws/stage (dangling), deny-read sec', link: 'sec', script: 'true', match: 'sec/x.pem', reads: 'stage/x.pem', args: ['--deny-read', 'sec'] },
  // A match that is a dangling link: what is written at the match lands at its target.
  { name: 'data/x.key -> ws/stage/k (dangling), deny-read data/*.key', link: 'data/x.key', target: 'stage/k', script: 'true', match: 'data/x.key', reads: 'stage/k', args: ['--deny-read', 'data/*.key'] },
  // A link on the glob's literal prefix, above its last folder.
  { name: 'a -> ws/stage (dangling), deny-read a/b/*.pem', link: 'a', script: 'mkdir stage/b', match: 'a/b/x.pem', reads: 'stage/b/x.pem', args: ['--deny-read', 'a/b/*.pem'] },
  // The target exists at the start: a new name written through the link, read by the target's name.
  { name: 'sec -> ws/stage (existing), deny-read sec/*.pem', link: 'sec', staged: true, script: 'true', match: 'sec/x.pem', reads: 'stage/x.pem', args: ['--deny-read', 'sec/*.pem'] },
  // A relative link on a `**` glob's way moved one level up: it then leads to ws/stage, not ws/p/stage.
  { name: 'p/sub/x/ln -> ../../stage (relative) moved to p/sub/ln, deny-read p/sub/**/*.key', link: 'p/sub/x/ln', target: '../../stage', relative: true, script: 'mv p/sub/x/ln p/sub/ln', match: 'p/sub/ln/x.key', reads: 'stage/x.key', args: ['--deny-read', 'p/sub/**/*.key'] },
  // Where the link leads cannot be known at the start: `..` after a missing folder (the script could make
  // `stage` a link to anywhere). Refused in enforce, naming the link.
  { name: 'sec -> stage/../other (missing stage), deny-read sec/*.pem', link: 'sec', target: 'stage/../other', relative: true, script: 'mkdir -p d1/d2/other && rmdir stage && ln -s d1/d2 stage && mkdir d1/other', match: 'sec/x.pem', reads: 'd1/other/x.pem', args: ['--deny-read', 'sec/*.pem'], refused: /sec.*stage\/\.\.\/other|cannot tell/ },
];

describe("red team rt12: a pre-run symlink on a deny glob's way naming a folder missing at the start (real kernel)", function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    for (const c of cases) {
      it(`${c.name}: what the host then writes at ${c.match} stays unread (${tier})`, async function () {
        this.timeout(120_000);
        fs.chmodSync(sb.workspace, 0o755);
        fs.mkdirSync(path.dirname(path.join(sb.workspace, c.link)), { recursive: true });
        if (c.staged) fs.mkdirSync(path.join(sb.workspace, 'stage'));
        fs.symlinkSync(c.relative ? c.target! : path.join(sb.workspace, c.target ?? 'stage'), path.join(sb.workspace, c.link));
        writeScript(sb.workspace, 'mv.sh', `#!/bin/sh\nmkdir -p stage\n${c.script} && echo "done"\n: > ready\n` + WAIT_GO + `cat ${c.reads}\n`);
        const host = hostWhenReady(sb.workspace, () => {
          // A tool outside the run writing a secret where the policy says the script may not read it.
          const f = path.join(sb.workspace, c.match);
          try {
            fs.writeFileSync(f, 'TOPSECRET\n');
          } catch {
            // the link leads nowhere (yet): nothing is written
          }
        });
        const r = await runIn(sb, ['--mode', 'enforce', ...c.args], ['./mv.sh'], env);
        clearInterval(host);
        if (c.refused) {
          assert.notEqual(r.code, 0, `the run was not refused: ${r.stdout}${r.stderr}`);
          assert.match(r.stderr, c.refused, r.stderr);
          assert.ok(!fs.existsSync(path.join(sb.workspace, 'ready')), `the script ran: ${r.stdout}${r.stderr}`);
          return;
        }
        assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never wrote: ${r.stdout}${r.stderr}`);
        assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read ${c.match} (as ${c.reads}) through a pre-run link on the glob's way: ${r.stdout}${r.stderr}`);
      });
    }
  }
});
