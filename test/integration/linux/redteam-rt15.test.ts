// Red team rt15, on f6764e2 (rt14 fixes: whether the script may replace an entry on the way to a deny glob's
// link target is decided by decidePath(policy, '<folder>/.entry', 'write')). That probe name stands for every
// entry of the folder, but a deny glob may match the probe and not the entry the script actually moves:
// with `--deny-write '.*'` (no dotfiles written in the workspace root, e.g. .env, .npmrc) decidePath denies
// ws/.entry, so the walk counts ws as a folder the script cannot change, resolves `sec -> stage/../real` to
// ws/real and adds ws/real/*.pem. The script may still rename `stage` (not a dotfile) and put `stage -> mine/a`
// in its place: the kernel then resolves sec to mine/real, and what a process outside the run writes at
// sec/x.pem lands in mine/real/x.pem, which the script reads. rt14's first attack, one extra deny flag.
// Second: a SUBTREE deny (`sec/**`, or the literal `sec`) whose name is a link, `sec -> d1/stage`, d1 a real
// folder in the workspace. A subtree glob is no carving glob, so its alias ws/d1/stage/** has no way rules: the
// walk checks only links and '..' on the way to a target as replaceable (the folders are meant to be kept by the
// alias's way rules) and the kernel's rule holds the stage folder's inode, not the names leading to it. In the
// fallback tier (no mount namespace, so no EBUSY on a folder holding a mount) the script renames d1 away and
// makes `d1 -> mine`: sec now resolves to mine/stage, and what a process outside the run writes at sec/x.pem
// the script reads as mine/stage/x.pem. The namespace tier holds (rename of d1: EBUSY); `sec/*`, `sec/**/*`
// hold in both (the alias's way rules refuse the rename).
// Third, the same without any link: the literal deny `d1/stage` (or `d1/stage/**`), which the README says "is
// kept whole by the kernel". In the fallback tier the kernel's rule holds stage's inode only: the script
// renames d1 away and makes `d1 -> mine`, and what a process outside the run then writes at d1/stage/x.pem
// it reads as mine/stage/x.pem. No walk, no alias: the names on the way to a literal/subtree deny are kept by
// nothing in the fallback tier (the namespace tier: EBUSY on d1, a mount below it).
// Fourth, its integrity side: --deny-write d1/stage (d1/stage/conf = GOOD). In the fallback tier the script
// writes mine/stage/conf = EVIL, renames d1 away and makes `d1 -> mine`: after the run the path the policy
// kept read-only, d1/stage/conf, reads EVIL for everyone. (Protected paths have this check, decideFile's
// "ancestor of a protected path"; user deny paths do not.) Namespace tier: EBUSY on d1.
// Fifth, the missing case: --deny-read d1/stage (or d1/stage/**) with no d1 at the start. In the fallback tier
// the script makes `d1 -> mine` (a link on the way of a literal/subtree deny: linkOnGlobWay looks at carving
// globs only), and what a process outside the run writes at d1/stage/x.pem it reads as mine/stage/x.pem.
// Namespace tier holds (d1 is a read-only folder there).
// The workspace must be outside every temp folder (/tmp, /var/tmp, os.tmpdir(), /dev/shm count as replaceable
// whatever the policy says, which would refuse the run for another reason): it is made next to this compiled
// file (out/…), or in the real home when that is in a temp folder too. Both tiers, root.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO, workspaceOutsideTemp } from './redteam-support';
import { runCli, writeScript } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe('red team rt15: deny link targets whose way the script can still change (real kernel)', function () {
  const sb = useSandbox();

  async function attack(ws: string, env: Record<string, string>) {
    fs.chmodSync(ws, 0o755);
    for (const d of ['stage', 'real', 'mine/a', 'mine/real']) fs.mkdirSync(path.join(ws, d), { recursive: true });
    fs.symlinkSync('stage/../real', path.join(ws, 'sec'));
    writeScript(ws, 'sw.sh', '#!/bin/sh\nmv stage stage_old && ln -s mine/a stage && echo swapped\n: > ready\n' + WAIT_GO + 'cat mine/real/x.pem\n');
    const host = hostWhenReady(ws, () => {
      // A tool outside the run writing a secret where the policy says the script may not read it.
      fs.writeFileSync(path.join(ws, 'sec', 'x.pem'), 'TOPSECRET\n');
    });
    const args = ['run', '--workspace', ws, '--mode', 'enforce', '--deny-read', 'sec/*.pem', '--deny-write', '.*', '--', './sw.sh'];
    const r = await runCli(args, { cwd: ws, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
    clearInterval(host);
    assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/x.pem (as mine/real/x.pem) after swapping the folder stage on sec's target for a link: ${r.stdout}${r.stderr}`);
    assert.equal(r.code, 125, `not refused: ${r.stdout}${r.stderr}`);
  }

  for (const [tier, env] of TIERS) {
    it(`deny-read sec/*.pem, deny-write .*, sec -> stage/../real: the script swaps the folder stage for a link and reads what the host then writes at sec/x.pem (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt15');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        await attack(w, env);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }

  async function subtreeAttack(ws: string, glob: string, env: Record<string, string>) {
    fs.chmodSync(ws, 0o755);
    for (const d of ['d1/stage', 'mine/stage']) fs.mkdirSync(path.join(ws, d), { recursive: true });
    fs.symlinkSync('d1/stage', path.join(ws, 'sec'));
    writeScript(ws, 'sw.sh', '#!/bin/sh\nmv d1 d1_old && ln -s mine d1 && echo swapped\n: > ready\n' + WAIT_GO + 'cat mine/stage/x.pem\n');
    const host = hostWhenReady(ws, () => {
      fs.writeFileSync(path.join(ws, 'sec', 'x.pem'), 'TOPSECRET\n');
    });
    const args = ['run', '--workspace', ws, '--mode', 'enforce', '--deny-read', glob, '--', './sw.sh'];
    const r = await runCli(args, { cwd: ws, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
    clearInterval(host);
    assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read sec/x.pem (as mine/stage/x.pem) after swapping the folder d1 on sec's target for a link: ${r.stdout}${r.stderr}`);
  }

  for (const [tier, env] of TIERS) {
    for (const glob of ['sec/**', 'sec']) {
      it(`deny-read ${glob}, sec -> d1/stage: the script swaps the folder d1 for a link and reads what the host then writes at sec/x.pem (${tier})`, async function () {
        this.timeout(120_000);
        const ws = workspaceOutsideTemp('rt15');
        if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
        const w = ws as string;
        try {
          await subtreeAttack(w, glob, env);
        } finally {
          fs.rmSync(w, { recursive: true, force: true });
        }
      });
    }
  }

  async function literalAttack(ws: string, glob: string, env: Record<string, string>) {
    fs.chmodSync(ws, 0o755);
    for (const d of ['d1/stage', 'mine/stage']) fs.mkdirSync(path.join(ws, d), { recursive: true });
    writeScript(ws, 'sw.sh', '#!/bin/sh\nmv d1 d1_old && ln -s mine d1 && echo swapped\n: > ready\n' + WAIT_GO + 'cat mine/stage/x.pem\n');
    const host = hostWhenReady(ws, () => {
      fs.writeFileSync(path.join(ws, 'd1', 'stage', 'x.pem'), 'TOPSECRET\n');
    });
    const args = ['run', '--workspace', ws, '--mode', 'enforce', '--deny-read', glob, '--', './sw.sh'];
    const r = await runCli(args, { cwd: ws, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
    clearInterval(host);
    assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read d1/stage/x.pem (as mine/stage/x.pem) after swapping the folder d1 for a link: ${r.stdout}${r.stderr}`);
  }

  for (const [tier, env] of TIERS) {
    for (const glob of ['d1/stage', 'd1/stage/**']) {
      it(`deny-read ${glob}, no link: the script swaps the folder d1 for a link and reads what the host then writes at d1/stage/x.pem (${tier})`, async function () {
        this.timeout(120_000);
        const ws = workspaceOutsideTemp('rt15');
        if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
        const w = ws as string;
        try {
          await literalAttack(w, glob, env);
        } finally {
          fs.rmSync(w, { recursive: true, force: true });
        }
      });
    }
  }

  for (const [tier, env] of TIERS) {
    it(`deny-write d1/stage: the script swaps the folder d1 for a link to its own, and d1/stage/conf reads its text after the run (${tier})`, async function () {
      this.timeout(120_000);
      const ws = workspaceOutsideTemp('rt15');
      if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
      const w = ws as string;
      try {
        fs.chmodSync(w, 0o755);
        fs.mkdirSync(path.join(w, 'd1', 'stage'), { recursive: true });
        fs.writeFileSync(path.join(w, 'd1', 'stage', 'conf'), 'GOOD\n');
        writeScript(w, 'sw.sh', '#!/bin/sh\nmkdir -p mine/stage; echo EVIL > mine/stage/conf; mv d1 d1_old && ln -s mine d1 && echo swapped\n');
        const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-write', 'd1/stage', '--', './sw.sh'];
        const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
        assert.equal(fs.readFileSync(path.join(w, 'd1', 'stage', 'conf'), 'utf8'), 'GOOD\n', `the deny-write path d1/stage/conf changed: ${r.stdout}${r.stderr}`);
      } finally {
        fs.rmSync(w, { recursive: true, force: true });
      }
    });
  }

  for (const [tier, env] of TIERS) {
    for (const glob of ['d1/stage', 'd1/stage/**']) {
      it(`deny-read ${glob}, d1 missing: the script makes d1 -> mine and reads what the host then writes at d1/stage/x.pem (${tier})`, async function () {
        this.timeout(120_000);
        const ws = workspaceOutsideTemp('rt15');
        if (!ws) this.skip(); // needs a writable folder outside /tmp, /var/tmp, TMPDIR and /dev/shm
        const w = ws as string;
        try {
          fs.chmodSync(w, 0o755);
          fs.mkdirSync(path.join(w, 'mine', 'stage'), { recursive: true });
          writeScript(w, 'sw.sh', '#!/bin/sh\nln -s mine d1 && echo linked\n: > ready\n' + WAIT_GO + 'cat mine/stage/x.pem\n');
          const host = hostWhenReady(w, () => {
            fs.mkdirSync(path.join(w, 'd1', 'stage'), { recursive: true });
            fs.writeFileSync(path.join(w, 'd1', 'stage', 'x.pem'), 'TOPSECRET\n');
          });
          const args = ['run', '--workspace', w, '--mode', 'enforce', '--deny-read', glob, '--', './sw.sh'];
          const r = await runCli(args, { cwd: w, home: sb.home, env: { OUTSIDE: sb.outside, ...env } });
          clearInterval(host);
          assert.doesNotMatch(r.stdout, /TOPSECRET/, `the script read d1/stage/x.pem (as mine/stage/x.pem) through the link d1 it made: ${r.stdout}${r.stderr}`);
        } finally {
          fs.rmSync(w, { recursive: true, force: true });
        }
      });
    }
  }
});
