// Red team rt7, on the rt6 fix (ca66f4e). (1) linkOutOfReach decides only a hard link's source: `ln src/g data/g`
// (or into data/sub, secrets/) gives a file in a deny glob's reach a second name outside it, directly. (2)
// carriesRuleInto lets anything into the reach whose name is below one the supervisor "made", and a rename the
// supervisor performs marks its destination made: a two-step move (out of data/, or within the carved workspace
// root, then in) launders what the one-step move is refused for. Both reopen the rt6 attacks.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPidFor, hostWhenReady, WAIT_GO, WRITE_RACE_PY } from './redteam-support';
import { runCli, runIn, writeScript } from './helpers';
import { hasTool, TIERS, useSandbox } from './use-sandbox';

describe('red team rt7: a second name or a rule-carrying entry brought into a deny glob\'s reach (real kernel)', function () {
  const sb = useSandbox();

  // `ln data/draft.txt data/l` is refused since ca66f4e, but `mv data/draft.txt src/d` is performed (and marks
  // src/d made), `ln src/d src/l` is the kernel's (src/ has its full rule), and `mv src/d data/draft.txt` passes
  // carriesRuleInto because src/d is "made". When the host renames data/draft.txt to data/new.key, src/l writes
  // the match with a plain `echo >>`. Deterministic, no race.
  for (const [tier, env] of TIERS) {
    it(`a file moved out of data/, hard-linked, and moved back is not written through its link after the host renames it onto the glob (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      for (const d of [data, path.join(sb.workspace, 'src')]) fs.mkdirSync(d);
      fs.writeFileSync(path.join(data, 'draft.txt'), 'draft\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'hl.sh', '#!/bin/sh\nmv data/draft.txt src/d && ln src/d src/l && mv src/d data/draft.txt && echo "laundered"\n: > ready\n' + WAIT_GO + 'echo PWNED >> src/l && echo "wrote through src/l"\n');
      const host = hostWhenReady(sb.workspace, () => {
        if (fs.existsSync(path.join(data, 'draft.txt'))) fs.renameSync(path.join(data, 'draft.txt'), path.join(data, 'new.key'));
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./hl.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never renamed: ${r.stdout}${r.stderr}`);
      if (fs.existsSync(path.join(data, 'new.key'))) assert.equal(fs.readFileSync(path.join(data, 'new.key'), 'utf8'), 'draft\n', `data/new.key was written through src/l: ${r.stdout}`);
    });
  }

  // No laundering needed: linkOutOfReach decides only the link's source. `ln src/g data/g` and `ln src/f data/sub/f`
  // are performed by the supervisor (their destinations are supervised, their sources are outside the reach),
  // so the file in the reach has a second name under src/'s full rule. When the host renames data/g to
  // data/new.key (data/sub to data/x.key), `echo >> src/g` writes the match; likewise `ln src/r secrets/r`
  // reads what the host then writes into secrets/new.pem. Deterministic.
  for (const [tier, env] of TIERS) {
    it(`a hard link made into data/ and data/sub (secrets/) from src/ neither writes nor reads the match after the host renames onto the glob (${tier})`, async function () {
      this.timeout(120_000);
      const [data, secrets, src] = ['data', 'secrets', 'src'].map((d) => path.join(sb.workspace, d)) as [string, string, string];
      for (const d of [path.join(data, 'sub'), secrets, src]) fs.mkdirSync(d, { recursive: true });
      for (const f of ['f', 'g', 'r']) fs.writeFileSync(path.join(src, f), 'in\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'hl.sh', '#!/bin/sh\nln src/g data/g; ln src/f data/sub/f; ln src/r secrets/r\n: > ready\n' + WAIT_GO + 'echo PWNED >> src/g; echo PWNED >> src/f\ncat src/r\n');
      const host = hostWhenReady(sb.workspace, () => {
        for (const [a, b] of [[path.join(data, 'g'), path.join(data, 'new.key')], [path.join(data, 'sub'), path.join(data, 'x.key')], [path.join(secrets, 'r'), path.join(secrets, 'new.pem')]] as const) if (fs.existsSync(a)) fs.renameSync(a, b);
        if (fs.existsSync(path.join(secrets, 'new.pem'))) fs.writeFileSync(path.join(secrets, 'new.pem'), 'TOPSECRET\n'); // in place: the same inode
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key', '--deny-read', 'secrets/*.pem'], ['./hl.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never renamed: ${r.stdout}${r.stderr}`);
      for (const f of [path.join(data, 'new.key'), path.join(data, 'x.key', 'f')]) if (fs.existsSync(f)) assert.equal(fs.readFileSync(f, 'utf8'), 'in\n', `${f} was written through src/: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `secrets/new.pem was read through src/r: ${r.stdout}`);
    });
  }

  // rt6's `mv src data/sub/src` is refused, but `mv src t` (the workspace root is carved: performed, t made) then
  // `mv t data/sub/src` (from a made name) is not. src/ keeps its own full Landlock rule below data/sub; after the
  // host renames data/sub to data/x.key, a thread flipping the path against an allowed name of the same length
  // (answered "continue") writes data/x.key/src/in.txt (won after ~10 tries here, both tiers).
  for (const [tier, env] of TIERS) {
    it(`src/ moved to t then into data/sub, data/sub renamed to data/x.key by the host: data/x.key/src/in.txt not written by a racing thread (${tier})`, async function () {
      this.timeout(120_000);
      const data = path.join(sb.workspace, 'data');
      for (const d of [path.join(data, 'sub'), path.join(sb.workspace, 'src'), path.join(sb.workspace, 'other')]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(sb.workspace, 'src', 'in.txt'), 'in\n');
      fs.writeFileSync(path.join(sb.workspace, 'other', 'xxxxxxxxxxx.txt'), 'o\n'); // as long as data/x.key/src/in.txt
      writeScript(sb.workspace, 'race.py', WRITE_RACE_PY, 0o644);
      writeScript(sb.workspace, 'st.sh', '#!/bin/sh\nif mv src t && mv t data/sub/src; then echo "staged"; else echo "staging refused"; fi\n: > ready\n' + WAIT_GO + 'python3 race.py "$PWD/data/x.key/src/in.txt" "$PWD/other/xxxxxxxxxxx.txt"\n');
      const host = hostWhenReady(sb.workspace, () => fs.renameSync(path.join(data, 'sub'), path.join(data, 'x.key')));
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./st.sh'], env);
      clearInterval(host);
      assert.match(r.stdout, /race: /, r.stdout + r.stderr);
      const written = [path.join(data, 'x.key', 'src', 'in.txt'), path.join(sb.workspace, 'src', 'in.txt'), path.join(sb.workspace, 't', 'in.txt')].find((f) => fs.existsSync(f))!;
      assert.equal(fs.readFileSync(written, 'utf8'), 'in\n', `${written} was written: ${r.stdout}`);
    });
  }
});

// 27ef458 blocks every signal in the supervisor's worker, so no signal interrupts SECCOMP_IOCTL_NOTIF_ADDFD with
// FLAG_SEND. A stop cannot be blocked: SIGSTOP (or SIGTSTP, Ctrl-Z, which Node leaves at its default) stops the
// whole thread group, and the group stop wakes the worker's interruptible wait in that ioctl whatever its mask.
// The target's open() then returns 0 with no fd installed: the script reads its stdin (here /dev/null: '') as
// the file. Seen at the 1st-19th open of 3000, both tiers, with a stop/continue every ~5 ms.
describe('red team rt7: supervisor answers while the CLI is stopped and continued (real kernel)', function () {
  const sb = useSandbox();
  before(function () {
    if (!hasTool('python3')) this.skip();
  });

  for (const [tier, env] of TIERS) {
    it(`3000 opens performed by the supervisor all give the script its file while the CLI gets SIGSTOP/SIGCONT (${tier})`, async function () {
      this.timeout(120_000);
      fs.mkdirSync(path.join(sb.workspace, 'secrets'));
      fs.writeFileSync(path.join(sb.workspace, 'secrets', 'plain.txt'), 'plain\n');
      const script = [
        'import os, time',
        "while not os.path.exists('go'): time.sleep(0.05)",
        'bad = 0',
        'for i in range(3000):',
        '    try:',
        "        with open('secrets/plain.txt') as f: s = f.read()",
        "        if s != 'plain\\n': print('wrong content at', i, repr(s[:20])); bad += 1",
        '    except OSError as e:',
        "        print('failed at', i, e); bad += 1",
        '    if bad > 3: break',
        "print('bad', bad)",
      ].join('\n');
      const run = runCli(['run', '--mode', 'enforce', '--workspace', sb.workspace, '--deny-read', 'secrets/*.pem', '--', 'python3', '-c', script], { cwd: sb.workspace, env: { ...env }, timeoutMs: 100_000 });
      let pid: number | null = null;
      for (let i = 0; i < 200 && pid === null; i++) {
        await new Promise((r) => setTimeout(r, 50));
        pid = cliPidFor(sb.workspace);
      }
      assert.ok(pid, 'the CLI process was not found');
      let done = false;
      let stops = 0;
      void run.then(() => (done = true));
      await new Promise((r) => setTimeout(r, 500));
      fs.writeFileSync(path.join(sb.workspace, 'go'), '');
      while (!done) {
        try {
          process.kill(pid, 'SIGSTOP');
          await new Promise((r) => setTimeout(r, 2));
          process.kill(pid, 'SIGCONT');
          stops++;
        } catch {
          break; // gone
        }
        await new Promise((r) => setTimeout(r, 3));
      }
      const r = await run;
      assert.ok(stops > 10, `only ${stops} stops were sent (${r.stdout} ${r.stderr})`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^bad 0$/m, r.stdout);
    });
  }
});
