// Red team rt21, on 380d5fa (warn mode performs new names where its integrity rules carve a folder, both tiers).
// In warn mode the supervisor now performs the script's creations, renames, links, symlinks and FIFOs in every
// folder above a protected path (/, /tmp, the home folder, the workspace's top, ~/.config...), deciding only on
// the integrity set. Observed from outside (the protected file's content, what exists at a protected name).
//
// GOT THROUGH (failing on 380d5fa; each fixed since, the tests pass: 1, 2 and 4 in 7035136, 3 by ~/.git in
// the protected list):
// 1. A protected path's missing ANCESTOR made a symlink (or a hard link of a symlink): ~/.config (for
//    ~/.config/git, ~/.config/systemd/user, ~/.config/Code/User...), ~/.vscode (for ~/.vscode/extensions),
//    ~/.docker, ~/.cache/script-sandbox... The integrity check decides the name itself (~/.config is not
//    protected, and a symlink or link is no "move", so the kept-inside check does not run); afterwards
//    ~/.config/git/config is a file the script wrote in a folder of its own (git outside the sandbox reads
//    core.hooksPath from it). Both tiers, root and unprivileged host. Enforce has the same hole where the home
//    lies in a write grant (a home below /tmp in moderate): the emulation is shared.
//    Also in the workspace: the hooks folder core.hooksPath names (tools/githooks, tools missing): `ln -s OUT/t tools` at the
//    workspace's top makes the hooks the script's (fallback tier, warn and enforce; the namespace tier binds a
//    placeholder there and holds).
// 2. A protected file reached through a symlink (~/.bashrc -> dotfiles/bashrc, the common dotfiles layout):
//    the kernel keeps the physical file (the namespace tier binds dotfiles/bashrc read-only, the fallback tier
//    carves it), but the supervisor compares the PHYSICAL path it resolved with the protected paths as
//    written (~/.bashrc): `mv ~/made/x ~/dotfiles/bashrc` replaces it, `ln ~/dotfiles/bashrc ~/b2` gives a
//    second name through which the script appends to it. Both tiers, root and unprivileged; enforce too where
//    the home is in a write grant.
//    The same in the workspace: .vscode -> ../shared/vs (fallback tier, warn and enforce: /tmp above the
//    workspace is carved, so a file made there is renamed over shared/vs/settings.json). The namespace tier
//    holds there (the workspace's top is not carved, the kernel refuses).
//    And the sandbox's own records: with ~/.local -> dotfiles/local, `ln ~/dotfiles/local/state/script-sandbox/
//    audit.key ~/k` is performed and the script reads the audit key (it can then seal forged audit lines).
//    In the namespace tier the script cannot even see the key (the cover is on the physical folder): the
//    supervisor resolves the name in the target's view (missing under the cover), decides on the string, and
//    links in the host's view, where the key is.
// 3. Beside the integrity set: warn now makes ~/.git (the home is carved), so every folder of the home that is
//    no repository of its own belongs to the script's repository, and a plain `git status` there outside the
//    sandbox runs its core.fsmonitor. Both tiers. (With a root host `/` is carved too and new names there are
//    performed: /.git would reach every folder of the machine that is no repository; not tried here.)
// 4. Fidelity, "a call refused leaves no trace": an emulated open(O_CREAT) that fails after the supervisor
//    created the file leaves the file: with the fd table full (EMFILE: the kernel fails before creating), and,
//    with an unprivileged host, open(O_WRONLY|O_CREAT|O_EXCL, 0444) (the supervisor creates, chmods 0444, then
//    cannot reopen it for writing without DAC override: EACCES where the kernel succeeds, and an empty file).
//
// HELD (passing): creating, symlinking, FIFO-ing, renaming, exchanging (RENAME_EXCHANGE) and hard-linking onto
// rc files, ~/.config/git, .git, .git/hooks, .vscode, .sandbox; /proc/self/root, /proc/self/cwd and
// /proc/thread-self/cwd forms and relative names; O_TMPFILE + linkat (AT_EMPTY_PATH and /proc/self/fd with
// AT_SYMLINK_FOLLOW); hard links of .git/config and ~/.bashrc; a folder or a symlink renamed onto ~/.config;
// non-UTF-8 and over-long names (refused, no trace); the same from a non-dumpable process; a thread
// exchanging a made folder with a symlink to .git while names are created below it, and a thread flipping the shared cwd between a made folder and .git (the
// supervisor re-walks with RESOLVE_NO_SYMLINKS); DAC with a root host (a home owned by another user, a sticky
// folder of another user: create, mkdir, symlink, FIFO, unlink, rename, link all refused).
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, IS_ROOT } from './helpers';
import { TIERS, hasTool, treeSnapshot, useCompiledC, userNamespacesProblem } from './use-sandbox';
import { ATTACK_C, attempts, gitSnapshot, isLink, makePlace, notBlocked, run, type Place } from './rt21-attack';


/** A workspace (git repository), a home OUTSIDE moderate's write grants (/var/tmp, not /tmp: enforce keeps it,
 *  so what warn lets through there is warn's own), and a folder outside both in /tmp (writable). */

describe('red team rt21: warn mode performs calls in carved folders; the integrity set (real kernel)', function () {
  this.timeout(180_000);
  const nsProblem = userNamespacesProblem();
  let place: Place | null = null;
  const P = (): Place => place!;

  const attack = useCompiledC('rt21-attack', ATTACK_C, ['git']);
  beforeEach(function () {
    if (!attack.bin) this.skip();
  });
  afterEach(() => {
    place?.cleanup();
    place = null;
  });

  for (const [tier, env] of TIERS) {
    const skipNs = (ctx: Mocha.Context) => {
      if (tier === 'namespace tier' && nsProblem) ctx.skip();
    };

    it(`was open, fixed: warn makes ~/.config a symlink to the script's folder, so ~/.config/git/config (protected) is the script's file; also ~/.vscode by link(2) of a symlink (${tier})`, async function () {
      skipNs(this);
      place = makePlace();
      const p = P();
      const r = await run(p, 'warn', [attack.bin!, 'ancestor-symlink', p.ws, p.out], env);
      const out = `${r.stdout}\n${r.stderr}`;
      notBlocked(r);
      // The message only when it fails: it reads what the attack made.
      if (isLink(path.join(p.home, '.config'))) {
        const cfg = path.join(p.home, '.config', 'git', 'config');
        assert.fail(`~/.config was made a symlink to ${fs.readlinkSync(path.join(p.home, '.config'))}: ~/.config/git/config is now ${fs.existsSync(cfg) ? JSON.stringify(fs.readFileSync(cfg, 'utf8')) : 'missing'} (git outside the sandbox reads it): ${out}`);
      }
      assert.ok(!isLink(path.join(p.home, '.vscode')), `~/.vscode was made a symlink (hard link of a symlink): ${out}`);
      assert.ok(!fs.existsSync(path.join(p.home, '.config', 'git', 'config')), out);
      assert.ok(!fs.existsSync(path.join(p.home, '.vscode', 'extensions', 'evil.js')), out);
      assert.ok(!isLink(path.join(p.home, '.cache')), `~/.cache was made a symlink: the sandbox's git-script approvals are the script's file: ${out}`);
    });

    it(`was open, fixed: ~/.bashrc -> dotfiles/bashrc: warn links the physical rc file to a new name and the script appends to it (${tier})`, async function () {
      skipNs(this);
      place = makePlace({ dotfiles: true });
      const p = P();
      const r = await run(p, 'warn', [attack.bin!, 'rc-link', p.ws, p.out], env);
      const out = `${r.stdout}\n${r.stderr}`;
      notBlocked(r);
      assert.equal(fs.readFileSync(path.join(p.home, '.bashrc'), 'utf8'), '# rc\n', `~/.bashrc (through its symlink) was written: ${out}`);
      assert.ok(!fs.existsSync(path.join(p.home, 'b2')), `a second name for the protected rc file was made: ${out}`);
    });

    it(`was open, fixed: ~/.bashrc -> dotfiles/bashrc: warn renames a made file over the physical rc file (${tier})`, async function () {
      skipNs(this);
      place = makePlace({ dotfiles: true });
      const p = P();
      const r = await run(p, 'warn', [attack.bin!, 'rc-rename', p.ws, p.out], env);
      const out = `${r.stdout}\n${r.stderr}`;
      notBlocked(r);
      assert.equal(attempts(r.stdout).get('make-file'), 'ALLOWED', out);
      assert.equal(fs.readFileSync(path.join(p.home, '.bashrc'), 'utf8'), '# rc\n', `~/.bashrc (dotfiles/bashrc) was replaced: ${out}`);
    });

    it(`.vscode -> ../shared/vs: a made file renamed over the physical settings file, warn and enforce (was open in the fallback tier, fixed; held in the namespace tier) (${tier})`, async function () {
      skipNs(this);
      for (const mode of ['warn', 'enforce'] as const) {
        place?.cleanup();
        place = makePlace();
        const p = P();
        const shared = path.join(p.root, 'shared', 'vs');
        fs.mkdirSync(shared, { recursive: true });
        fs.writeFileSync(path.join(shared, 'settings.json'), '{}\n');
        fs.symlinkSync('../shared/vs', path.join(p.ws, '.vscode'));
        const r = await run(p, mode, [attack.bin!, 'ws-vscode', p.ws, p.out, path.join(shared, 'settings.json')], env);
        const out = `${r.stdout}\n${r.stderr}`;
        assert.equal(attempts(r.stdout).get('make-file'), 'ALLOWED', `${mode}: ${out}`);
        assert.equal(fs.readFileSync(path.join(shared, 'settings.json'), 'utf8'), '{}\n', `${mode}: .vscode/settings.json (through the .vscode symlink) was replaced: ${out}`);
      }
    });

    it(`was open, fixed: ~/.local -> dotfiles/local: the supervisor hard-links the audit key (hidden; in the namespace tier covered, the script cannot even see it) to ~/k, and the script reads it (${tier})`, async function () {
      skipNs(this);
      place = makePlace();
      const p = P();
      fs.mkdirSync(path.join(p.home, 'dotfiles', 'local'), { recursive: true });
      fs.symlinkSync('dotfiles/local', path.join(p.home, '.local'));
      const keyPath = path.join(p.home, 'dotfiles', 'local', 'state', 'script-sandbox', 'audit.key');
      const script = `cat "${keyPath}" >/dev/null 2>&1 && echo direct-read=ALLOWED; ln "${keyPath}" "$HOME/k"; echo ln=$?; od -An -tx1 -v "$HOME/k" | tr -d ' \\n'; echo`;
      const r = await run(p, 'warn', ['/bin/sh', '-c', script], env);
      const out = `${r.stdout}\n${r.stderr}`;
      const key = fs.readFileSync(keyPath).toString('hex');
      assert.doesNotMatch(r.stdout, /direct-read=ALLOWED/, `the kernel let the script read the key directly: ${out}`);
      assert.ok(!r.stdout.includes(key), `the script read the audit key (it can seal forged audit lines) through a hard link the supervisor made: ${out}`);
      assert.ok(!fs.existsSync(path.join(p.home, 'k')), out);
    });

    it(`was open, fixed (beside the integrity set): warn makes ~/.git, and git outside the sandbox in any folder of the home that is no repository runs its core.fsmonitor (${tier})`, async function () {
      skipNs(this);
      if (!hasTool('git')) this.skip();
      place = makePlace();
      const p = P();
      fs.mkdirSync(path.join(p.home, 'notrepo'));
      const marker = path.join(p.out, 'pwned');
      const script = `mkdir -p "$HOME/.git/objects" "$HOME/.git/refs" && echo 'ref: refs/heads/main' > "$HOME/.git/HEAD" && printf '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = touch ${marker}\\n' > "$HOME/.git/config"; echo made=$?`;
      const r = await run(p, 'warn', ['/bin/sh', '-c', script], env);
      const out = `${r.stdout}\n${r.stderr}`;
      notBlocked(r);
      // After the run, outside the sandbox: a plain `git status` in a folder of the home.
      spawnSync('git', ['status'], { cwd: path.join(p.home, 'notrepo'), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: p.home }, stdio: 'ignore' });
      assert.ok(!fs.existsSync(path.join(p.home, '.git')), `warn mode made ~/.git (${fs.existsSync(marker) ? 'and git status in ~/notrepo ran its core.fsmonitor outside the sandbox' : 'its fsmonitor did not run here'}): ${out}`);
      assert.ok(!fs.existsSync(marker), out);
    });

    it(`core.hooksPath=tools/githooks with no tools folder: tools made a symlink to the script's folder, warn and enforce (was open in the fallback tier, fixed; held in the namespace tier) (${tier})`, async function () {
      skipNs(this);
      for (const mode of ['warn', 'enforce'] as const) {
        place?.cleanup();
        place = makePlace();
        const p = P();
        execFileSync('git', ['-C', p.ws, 'config', 'core.hooksPath', 'tools/githooks']);
        const t = path.join(p.out, 't');
        const script = 'ln -s "$0" tools; echo symlink=$?; mkdir -p "$0/githooks"; printf "#!/bin/sh\\necho HOOK-RAN\\n" > tools/githooks/pre-commit; echo hook=$?';
        const r = await run(p, mode, ['/bin/sh', '-c', script, t], env);
        const out = `${r.stdout}\n${r.stderr}`;
        assert.ok(!isLink(path.join(p.ws, 'tools')), `${mode}: the workspace's tools (above the hooks folder core.hooksPath names) was made a symlink to ${t}: ${out}`);
        assert.ok(!fs.existsSync(path.join(p.ws, 'tools', 'githooks', 'pre-commit')), `${mode}: a hook was written: ${out}`);
      }
    });

    it(`control, enforce with the home outside the write grants: the same three attacks are refused (${tier})`, async function () {
      skipNs(this);
      for (const mode of ['ancestor-symlink', 'rc-link', 'rc-rename']) {
        place?.cleanup();
        place = makePlace({ dotfiles: mode !== 'ancestor-symlink' });
        const p = P();
        const r = await run(p, 'enforce', [attack.bin!, mode, p.ws, p.out], env);
        const out = `${r.stdout}\n${r.stderr}`;
        assert.ok(!isLink(path.join(p.home, '.config')) && !isLink(path.join(p.home, '.vscode')), `${mode}: ${out}`);
        if (mode !== 'ancestor-symlink') assert.equal(fs.readFileSync(path.join(p.home, '.bashrc'), 'utf8'), '# rc\n', `${mode}: ${out}`);
      }
    });

    it(`was open, fixed (enforce too): with the home in a write grant (below /tmp, moderate) enforce's emulation makes the same symlink and replaces the rc file (${tier})`, async function () {
      skipNs(this);
      place = makePlace({ homeUnderTmp: true });
      let p = P();
      let r = await run(p, 'enforce', [attack.bin!, 'ancestor-symlink', p.ws, p.out], env);
      const first = `${r.stdout}\n${r.stderr}`;
      const madeLink = isLink(path.join(p.home, '.config'));
      place.cleanup();
      place = makePlace({ homeUnderTmp: true, dotfiles: true });
      p = P();
      r = await run(p, 'enforce', [attack.bin!, 'rc-rename', p.ws, p.out], env);
      const second = `${r.stdout}\n${r.stderr}`;
      assert.ok(!madeLink, `enforce made ~/.config a symlink: ${first}`);
      assert.equal(fs.readFileSync(path.join(p.home, '.bashrc'), 'utf8'), '# rc\n', `enforce replaced ~/.bashrc's physical file: ${second}`);
    });

    it(`held: creations, symlinks, FIFOs, renames, exchanges and links onto the integrity set, in every spelling (${tier})`, async function () {
      skipNs(this);
      place = makePlace();
      const p = P();
      const homeBefore = fs.readdirSync(p.home).sort();
      const gitBefore = gitSnapshot(p.ws);
      const r = await run(p, 'warn', [attack.bin!, 'held', p.ws, p.out], env);
      const out = `${r.stdout}\n${r.stderr}`;
      const a = attempts(r.stdout);
      assert.ok(a.size >= 30, out);
      for (const [name, res] of a) {
        if (name === 'mkdir-config') assert.equal(res, 'ALLOWED', out);
        else assert.match(res, /^denied/, `${name}: ${out}`);
      }
      assert.deepEqual(gitSnapshot(p.ws), gitBefore, out);
      assert.ok(!fs.existsSync(path.join(p.ws, '.vscode')), out);
      assert.ok(!fs.readdirSync(path.join(p.ws, '.sandbox')).includes('x'), out);
      // Only what was allowed (and the run's state folder) is new in the home; the refused left no trace.
      const homeAfter = fs.readdirSync(p.home).sort();
      assert.deepEqual(homeAfter.filter((x) => !homeBefore.includes(x)).sort(), ['.config', '.local', 'made'].filter((x) => !homeBefore.includes(x)).sort(), out);
      assert.deepEqual(fs.readdirSync(path.join(p.home, '.config')), [], out);
      assert.equal(fs.readFileSync(path.join(p.home, '.bashrc'), 'utf8'), '# rc\n', out);
      notBlocked(r);
      // The integrity refusals are reported (critical, as warn reports them).
      const v = r.events.filter((e) => e.type === 'violation');
      assert.ok(v.some((x) => String(x.path).endsWith('.bash_profile')), JSON.stringify(v));
    });

    it(`held: a thread exchanges a made folder with a symlink to .git, another flips the shared cwd into .git, while names are created (${tier})`, async function () {
      skipNs(this);
      place = makePlace();
      const p = P();
      const gitBefore = gitSnapshot(p.ws);
      const r = await run(p, 'warn', [attack.bin!, 'race', p.ws, p.out, '4'], env);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.match(r.stdout, /exchange-race: held/, out);
      assert.match(r.stdout, /cwd-race: held/, out);
      assert.deepEqual(gitSnapshot(p.ws), gitBefore, out);
      notBlocked(r);
    });

    it(`held (root host): the emulation keeps DAC: a home owned by another user and another user's sticky folder (${tier})`, async function () {
      skipNs(this);
      if (!IS_ROOT) this.skip();
      let uid: number;
      try {
        uid = Number(execFileSync('id', ['-u', 'sbtest'], { encoding: 'utf8' }).trim());
      } catch {
        this.skip();
      }
      place = makePlace();
      const p = P();
      // The home belongs to another user (0755): a script without capabilities may not change it.
      fs.writeFileSync(path.join(p.home, 'theirs'), 'theirs\n');
      for (const x of [p.home, path.join(p.home, '.bashrc'), path.join(p.home, 'theirs')]) fs.chownSync(x, uid!, uid!);
      // A sticky folder of that user above the workspace (carved: an ancestor of .git), with their file in it.
      const sticky = path.join(p.root, 'sticky');
      fs.mkdirSync(sticky);
      fs.chownSync(sticky, uid!, uid!);
      fs.chmodSync(sticky, 0o1777);
      fs.renameSync(p.ws, path.join(sticky, 'ws'));
      p.ws = path.join(sticky, 'ws');
      fs.writeFileSync(path.join(sticky, 'f'), 'theirs\n');
      fs.chownSync(path.join(sticky, 'f'), uid!, uid!);
      fs.writeFileSync(path.join(sticky, 'mine'), 'mine\n');
      const homeBefore = treeSnapshot(p.home, ['.local']);
      const stickyBefore = treeSnapshot(sticky, ['ws']);
      const script = 'cd "$HOME"; touch a; mkdir b; ln -s x c; mkfifo d; rm -f theirs; ln theirs t2; mv theirs t3; cd "$0"; rm -f f; mv mine f; ln f f2; echo done';
      const r = await run(p, 'warn', ['/bin/sh', '-c', script, sticky], env);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.match(r.stdout, /^done$/m, out);
      assert.deepEqual(treeSnapshot(p.home, ['.local']), homeBefore, out);
      assert.deepEqual(treeSnapshot(sticky, ['ws']), stickyBefore, out);
    });

    it(`was open, fixed: an emulated open(O_CREAT) that fails with EMFILE leaves the file it created (${tier})`, async function () {
      skipNs(this);
      if (!hasTool('python3')) this.skip();
      place = makePlace();
      const p = P();
      const py = [
        'import os, resource, errno',
        "resource.setrlimit(resource.RLIMIT_NOFILE, (20, 20))",
        'fds = []',
        'try:',
        "    while True: fds.append(os.open('/dev/null', os.O_RDONLY))",
        'except OSError: pass',
        'try:',
        "    os.open(os.environ['HOME'] + '/emfile-new', os.O_WRONLY | os.O_CREAT, 0o644); print('open: ok')",
        'except OSError as e: print("open:", errno.errorcode[e.errno])',
      ].join('\n');
      const r = await run(p, 'warn', ['python3', '-c', py], env);
      const out = `${r.stdout}\n${r.stderr}`;
      assert.match(r.stdout, /^open: EMFILE$/m, out);
      assert.ok(!fs.existsSync(path.join(p.home, 'emfile-new')), `the failed open left ~/emfile-new: ${out}`);
    });

    it(`was open, fixed (unprivileged host): open(O_WRONLY|O_CREAT|O_EXCL, 0444) in the home fails with EACCES and leaves an empty file (${tier})`, async function () {
      skipNs(this);
      if (!hasTool('python3')) this.skip();
      place = makePlace();
      const p = P();
      const py = [
        'import os, errno',
        "for name, mode in (('ro444', 0o444), ('mode0', 0)):",
        '    try:',
        "        fd = os.open(os.environ['HOME'] + '/' + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode); os.write(fd, b'data\\n'); os.close(fd); print(name + ': ok')",
        '    except OSError as e: print(name + ":", errno.errorcode[e.errno])',
      ].join('\n');
      let stdout: string;
      let outText: string;
      if (IS_ROOT) {
        // As the unprivileged user (the supervisor then has no DAC override): its own workspace and home.
        let ok = true;
        try {
          execFileSync('id', ['-u', 'sbtest'], { stdio: 'ignore' });
        } catch {
          ok = false;
        }
        if (!ok || !fs.existsSync('/usr/sbin/runuser')) this.skip();
        execFileSync('chown', ['-R', 'sbtest:sbtest', p.ws, p.home]);
        const res = spawnSync('/usr/sbin/runuser', ['-u', 'sbtest', '--', 'env', `HOME=${p.home}`, 'PATH=/usr/bin:/bin', 'LANG=C.UTF-8', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, CLI, 'run', '--workspace', p.ws, '--mode', 'warn', '--profile', 'moderate', '--', 'python3', '-c', py], { cwd: '/', encoding: 'utf8', timeout: 90_000 });
        stdout = res.stdout;
        outText = `${res.stdout}\n${res.stderr}`;
      } else {
        const r = await run(p, 'warn', ['python3', '-c', py], env);
        stdout = r.stdout;
        outText = `${r.stdout}\n${r.stderr}`;
      }
      const left = ['ro444', 'mode0'].filter((n) => fs.existsSync(path.join(p.home, n)) && fs.statSync(path.join(p.home, n)).size === 0);
      assert.match(stdout, /^ro444: ok$/m, `the kernel lets a script create and write a read-only file; the emulation refused: ${outText}`);
      assert.match(stdout, /^mode0: ok$/m, outText);
      assert.deepEqual(left, [], outText);
    });
  }
});
