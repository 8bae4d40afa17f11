// Red team rt22, on b0ff5ca: the fallback tier (no user namespaces) now PERFORMS chmod, chown and utimes in the
// supervisor (the host's user, root here with every capability) where a write would be allowed, emulating the
// script's DAC. Observed from outside: modes, owners and times before and after; each attempt's answer.
//
// GOT THROUGH (failing on b0ff5ca; all fixed since and passing: 1, 2, 4, 5, 6, 7 in 0d338de, the set-ID modes of 6 in d82bba5, 3 by signing each hook):
// 1. A root host's device grants: /dev/null, /dev/zero, /dev/full, /dev/tty, /dev/ptmx, /dev/pts/ptmx are write
//    grants whose root is the file itself; the "grant's root itself" branch pins it and the DAC emulation finds
//    the script (uid 0, no capabilities) their owner, so `touch -d 2001-01-01 /dev/null` and `chmod 606
//    /dev/full` (so `chmod 000 /dev/null`: every non-root process of the host breaks) are performed on the
//    HOST's devices. The namespace tier holds (EROFS: the devices are bound read-only). Fallback only.
// 2. A protected file with a second hard name the host made (~/.bashrc and ~/dotfiles/bashrc, one inode, a
//    home in /tmp): chmod is refused (nlink > 1) but utimes is not checked for other names, so
//    `touch -d 2001-01-01 ~/dotfiles/bashrc` changes ~/.bashrc's times. (Its content is writable through that
//    name by the kernel anyway: a wider, older hole of hard-linked protected files, not this change's.)
// 3. Arming a nested repository's hook, unreported: `chmod +x sub/.git/hooks/pre-commit` (an existing,
//    non-executable hook of a repository below the workspace) is performed, and the nested-repository check
//    (nested-repos.ts: it signs hooks/ as a folder, not its entries) reports nothing; `git commit` in sub
//    outside the sandbox then runs the hook. Appending to the hook is unreported too, in both tiers (side
//    finding; nested repositories are reported, not prevented, by design).
// 4. Both tiers, root host: the script leaves a set-user-ID root file in /tmp (`chmod 4755` of its own file,
//    which the kernel allows an owner too), and clears /tmp's or /dev/shm's sticky bit (`chmod 777 /dev/shm`:
//    done by hand and restored, not in this file; utimes of both is asserted instead). Not the emulation's
//    own: the namespace tier's kernel does the same; before b0ff5ca the fallback tier refused it.
//
// 5. The host's terminal, fallback tier, root host: the CLI run in a pty of the host's devpts hands it to the
//    script; `chmod 666 $(tty)` (/dev/pts/N, below the /dev/pts grant, owned by uid 0) is performed: other
//    users can write to the host user's terminal. The namespace tier gives the script no terminal here.
// 6. Both tiers: `chmod 777` of the folders above protected paths (the workspace, the home when in a write
//    grant, ~/.config, ~/.local/state) is performed: another local user (with a root host, any user) can then
//    rename .git, ~/.bashrc or the sandbox's state away and plant its own. (fallback-metadata asserts that
//    `chmod 750 .` works: a fix would refuse adding group/other write there, not every mode change.)
//
// HELD (passing): chmod/chown/utimes of .git, .git/hooks, a hook, .git/config, .vscode (a symlink to
// ../out/shared/vs, reached by its physical path too), .sandbox and its audit log, ~/.bashrc -> dotfiles/bashrc
// (both names), the state folder, the hooks folder core.hooksPath names, a git worktree's common .git (by hand),
// a global core.hooksPath folder and an include.path's config and hooksPath (by hand); deny-write globs (a
// matching file, the glob's folder) and --read-only; another user's file (mode, times, owner); fd forms
// (fchmod/futimens of a read-only fd, fchmodat2, fchownat and utimensat with AT_EMPTY_PATH on an O_PATH fd, a
// dirfd of .git/hooks, fchmod of .git/hooks); /proc/self/fd/N, /dev/fd/N, /proc/self/map_files,
// /proc/<child>/fd/N and /proc/<child>/cwd forms; an fd passed over a unix socket; a hard-linked file of the
// script's; a non-dumpable process; a thread exchanging a made folder with a symlink to .git/hooks while
// chmod/utimes run; an unprivileged host (runuser sbtest).
// Robustness: bad and kernel pointers, a 1 MiB path, a 3000-byte path of dots, a FIFO, a newline and
// " (deleted)" in a name, pipe/socket/memfd fds, bad timevals: each answered, the supervisor alive.
// Fidelity: fd forms (fchmod, fchown, futimens, AT_EMPTY_PATH) from any thread but the main one are EBADF
// (pidfd_open of a non-leader tid is EINVAL; ourCopy answers EBADF): Node's FileHandle.chmod/utimes (thread
// pool) fail in every sandboxed Node program (failing test). Not asserted: fchmod of a pipe, socket or memfd
// is EPERM (the kernel allows it); utimensat NOW+OMIT needs the owner (the kernel: write access).
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IS_ROOT } from './helpers';
import { hasTool, useCompiledC } from './use-sandbox';
import { attempts } from './rt21-attack';
import { ATTACK_C, makePlace, meta, run, type Place } from './rt22-attack';


const denied = (m: Map<string, string>, names: string[]) => {
  const through = names.filter((n) => m.get(n) === undefined || m.get(n) === 'ALLOWED').map((n) => `${n}: ${m.get(n) ?? 'not tried'}`);
  assert.deepEqual(through, [], 'these got through');
};

const PROTECTED = [
  'chmod-hook', 'chmod-git-world-w', 'chmod-hooks-dir', 'utime-git-config', 'chmod-git-config', 'chown-git-config-gid', 'utime-vscode',
  'chmod-vscode-dir', 'utime-audit', 'chmod-sandbox-dir', 'chmod-bashrc', 'utime-bashrc', 'chmod-state', 'utime-state',
  'chmod-hookspath-hook', 'chmod-dotfiles-bashrc', 'utime-dotfiles-bashrc', 'chmod-shared-vs', 'utime-shared-vs',
  'fchmod-rdonly-hook', 'futimens-rdonly-hook', 'chmod-proc-self-fd-hook', 'chmod-dev-fd-hook', 'fchmodat2-empty-opath-hook',
  'fchmodat-opath-dotslash', 'fchownat-empty-opath-hook', 'utimensat-empty-opath-hook', 'fchmodat-hooksdir-rel', 'fchmod-hooksdir',
  'chmod-map-files-hook', 'chmod-proc-child-fd-hook', 'chmod-proc-child-cwd-hook', 'fchmod-passed-hook', 'chmod-hardlinked',
  'nondump-chmod-hook', 'nondump-fchmod-hook',
];
const THEIRS = ['chmod-theirs', 'utime-theirs', 'chown-theirs'];

/** The attack's times: 2001-01-01T00:00:00Z. */
const OLD_MS = 978307200000;
/** The host's paths the `roots` mode touches, restored (mode, times) whatever it did. */
const HOST = ['/dev/null', '/dev/full', '/tmp', '/dev/shm'];
async function restoring<T>(fn: (before: Map<string, fs.Stats>) => Promise<T>): Promise<T> {
  const before = new Map(HOST.map((d) => [d, fs.statSync(d)]));
  try {
    return await fn(before);
  } finally {
    for (const [d, s] of before) {
      if ((fs.statSync(d).mode & 0o7777) !== (s.mode & 0o7777)) fs.chmodSync(d, s.mode & 0o7777);
      fs.utimesSync(d, s.atime, s.mtime);
    }
  }
}

const watched = (p: Place, theirs = true) => [
  path.join(p.ws, '.git'), path.join(p.ws, '.git/hooks'), path.join(p.ws, '.git/hooks/pre-commit.sample'), path.join(p.ws, '.git/config'),
  path.join(p.out, 'shared/vs'), path.join(p.out, 'shared/vs/settings.json'), path.join(p.out, 'shared/vs/tasks.json'),
  path.join(p.home, 'dotfiles/bashrc'), path.join(p.ws, 'tools/githooks/pre-commit'), ...(theirs ? [path.join(p.ws, 'theirs')] : []),
];

describe('red team rt22: the fallback tier performs chmod, chown and utimes (real kernel)', function () {
  this.timeout(180_000);
  let place: Place | null = null;
  const P = (): Place => place!;

  const attack = useCompiledC('rt22-attack', ATTACK_C, ['git']);
  beforeEach(function () {
    if (!attack.bin) this.skip();
  });
  afterEach(() => {
    place?.cleanup();
    place = null;
  });

  for (const mode of ['enforce', 'warn'] as const) {
    it(`${mode}: protected files, their folders, symlinked and physical forms, fd and /proc forms, another user's file: refused, unchanged`, async () => {
      place = makePlace();
      const before = meta(watched(P(), IS_ROOT)); // 'theirs' is another user's only when the host can chown it
      const r = await run(P(), mode, [attack.bin!, 'protected', P().ws, P().out]);
      const m = attempts(r.stdout);
      denied(m, [...PROTECTED, ...(IS_ROOT ? THEIRS : [])]);
      // An unprivileged host's supervisor cannot read a non-dumpable process's memory: refused, fail closed.
      assert.match(m.get('nondump-chmod-own') ?? '', IS_ROOT ? /^ALLOWED$/ : /^denied/, 'its own file, from a non-dumpable process');
      assert.deepEqual(meta(watched(P(), IS_ROOT)), before);
      assert.equal(fs.statSync(path.join(P().ws, '.sandbox/audit.jsonl')).mode & 0o7777, 0o600);
    });
  }

  it('enforce: a thread exchanging a made folder with a symlink to .git/hooks never lets chmod or utimes reach the hook', async () => {
    place = makePlace();
    const hook = path.join(P().ws, '.git/hooks/pre-commit.sample');
    const before = meta([hook]);
    const r = await run(P(), 'enforce', [attack.bin!, 'race', P().ws, P().out, '3']);
    const x = /race: tries=(\d+) ok=(\d+) flips=(\d+)/.exec(r.stdout);
    assert.ok(x && Number(x[1]) > 0 && Number(x[3]) > 0, r.stdout + r.stderr);
    assert.deepEqual(meta([hook]), before);
  });

  it('enforce: odd arguments (bad pointers, a 1 MiB path, FIFOs, pipes, odd names, bad times) are each answered; the supervisor lives', async () => {
    place = makePlace();
    const r = await run(P(), 'enforce', [attack.bin!, 'hang', P().ws, P().out]);
    const m = attempts(r.stdout);
    assert.equal(m.get('alive'), 'ALLOWED', r.stdout + r.stderr);
    assert.equal(r.code, 0);
    for (const n of ['chmod-badptr', 'chmod-kernelptr', 'chmod-huge-path', 'utimes-bad-tv', 'fchmod-negfd', 'fchmod-bigfd']) assert.match(m.get(n) ?? '', /^denied/, n);
    for (const n of ['chmod-long-dots', 'chmod-fifo', 'chmod-odd-name']) assert.equal(m.get(n), 'ALLOWED', n);
  });

  it('an unprivileged host (runuser sbtest): the same protected set refused, unchanged', async function () {
    if (!IS_ROOT || spawnSync('id', ['sbtest']).status !== 0) this.skip();
    const uid = Number(execFileSync('id', ['-u', 'sbtest'], { encoding: 'utf8' }).trim());
    place = makePlace({ uid });
    const before = meta(watched(P(), false));
    const r = spawnSync('runuser', ['-u', 'sbtest', '--', 'env', `HOME=${P().home}`, 'SCRIPT_SANDBOX_NAMESPACES=0', 'PATH=/usr/bin:/bin', process.execPath, path.resolve(__dirname, '../../../../dist/cli.js'),
      'run', '--workspace', P().ws, '--mode', 'enforce', '--profile', 'moderate', '--', attack.bin!, 'protected', P().ws, P().out], { cwd: P().ws, encoding: 'utf8', timeout: 90_000 });
    denied(attempts(r.stdout), PROTECTED);
    assert.deepEqual(meta(watched(P(), false)), before);
  });

  it('fidelity, fixed: fchmod and futimens from a thread that is not the main one succeed, as without the sandbox', async () => {
    place = makePlace();
    // pidfd_open(2) of a thread id that leads no thread group is EINVAL: the supervisor answers EBADF. Node's
    // FileHandle.chmod/utimes run in libuv's thread pool, so they fail in every sandboxed Node program.
    const js = 'const fs=require("fs");fs.writeFileSync("n1","x");(async()=>{const h=await fs.promises.open("n1","r");for(const [k,f] of [["chmod",()=>h.chmod(0o600)],["utimes",()=>h.utimes(1,1)]]){try{await f();console.log(k+"=ok")}catch(e){console.log(k+"="+e.code)}}await h.close()})()';
    const r = await run(P(), 'enforce', [process.execPath, '-e', js]);
    assert.match(r.stdout, /chmod=ok/, r.stdout + r.stderr);
    assert.match(r.stdout, /utimes=ok/, r.stdout + r.stderr);
    assert.equal(fs.statSync(path.join(P().ws, 'n1')).mode & 0o777, 0o600);
  });

  // --- what got through ---

  it('was open, fixed (root host): the host\'s devices /dev/null, /dev/full (write grants, the grant\'s root itself) keep their times and mode', async function () {
    if (!IS_ROOT) this.skip();
    place = makePlace();
    const devs = ['/dev/null', '/dev/full'];
    await restoring(async (before) => {
      const r = await run(P(), 'enforce', [attack.bin!, 'roots', P().ws, P().out]);
      const m = attempts(r.stdout);
      assert.deepEqual(devs.map((d) => (fs.statSync(d).mode & 0o7777).toString(8)), devs.map((d) => (before.get(d)!.mode & 0o7777).toString(8)), `chmod 606 /dev/full: ${m.get('chmod-dev-full')}`);
      assert.deepEqual(devs.filter((d) => fs.statSync(d).mtimeMs === OLD_MS), [], `utimes of /dev/null: ${m.get('utime-dev-null')}`);
    });
  });

  it('was open, fixed: a second hard name of ~/.bashrc (made by the host) does not change its times', async () => {
    place = makePlace({ hardRc: true });
    const rc = path.join(P().home, '.bashrc');
    fs.utimesSync(rc, new Date('2020-06-01Z'), new Date('2020-06-01Z'));
    const before = meta([rc]);
    const r = await run(P(), 'enforce', [attack.bin!, 'hardlink-rc', P().ws, P().out]);
    const m = attempts(r.stdout);
    assert.match(m.get('chmod-rc-other-name') ?? '', /^denied/, 'chmod: nlink > 1 refused (held)');
    assert.deepEqual(meta([rc]), before, `utimes through the other name: ${m.get('utime-rc-other-name')}`);
  });

  it('was open, fixed (root host): the host\'s terminal (/dev/pts/N, below the /dev/pts grant) keeps its mode', async function () {
    if (!IS_ROOT || !hasTool('script')) this.skip();
    place = makePlace();
    // Under script(1): the CLI runs in a pty of the host's devpts, which the fallback tier hands to the script.
    const cli = path.resolve(__dirname, '../../../../dist/cli.js');
    const inner = `T=$(tty); stat -c before=%a $T; ${process.execPath} ${cli} run --workspace ${P().ws} --mode enforce --profile moderate -- sh -c 'chmod 666 $(tty); echo chmod=$?'; stat -c after=%a $T; chmod 620 $T`;
    const r = spawnSync('script', ['-qec', inner, '/dev/null'], { cwd: P().ws, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH!, HOME: P().home, SCRIPT_SANDBOX_NAMESPACES: '0' } });
    const out = r.stdout.replace(/\r/g, '');
    const before = /before=(\d+)/.exec(out)?.[1];
    assert.ok(before, out);
    assert.equal(/after=(\d+)/.exec(out)?.[1], before, out);
  });

  it('was open, fixed (both tiers): the folders above protected paths (the workspace, the home, ~/.config, ~/.local/state) gain no write for others', async () => {
    place = makePlace();
    const dirs = [P().ws, P().home, path.join(P().home, '.config'), path.join(P().home, '.local/state')];
    fs.mkdirSync(dirs[2]!);
    dirs.forEach((d) => fs.chmodSync(d, 0o755));
    // Another local user (root host: any user) could then rename .git, ~/.bashrc or the sandbox's state away and
    // put its own in their place: hooks and rc files that the host's user runs outside the sandbox.
    const r = await run(P(), 'enforce', ['/bin/sh', '-c', `chmod 777 ${dirs.join(' ')}; echo chmod=$?`]);
    assert.deepEqual(dirs.filter((d) => (fs.statSync(d).mode & 0o022) !== 0), [], r.stdout + r.stderr);
  });

  for (const mode of ['enforce', 'warn'] as const) {
    it(`was open, fixed, ${mode}: chmod +x of a nested repository's existing hook is refused or reported (git would run it outside)`, async () => {
      place = makePlace();
      const hook = path.join(P().ws, 'sub/.git/hooks/pre-commit');
      const r = await run(P(), mode, [attack.bin!, 'nested', P().ws, P().out]);
      const armed = (fs.statSync(hook).mode & 0o111) !== 0;
      const reported = r.events.some((e) => e.type === 'violation' && e.rule === 'filesystem.nestedRepository');
      assert.ok(!armed || reported, `the hook was made executable (${attempts(r.stdout).get('chmod-nested-hook')}) and nothing was reported: ${r.stderr}`);
    });
  }

  it('was open, fixed (root host, both tiers): no set-user-ID root file left in /tmp, /tmp and /dev/shm keep their times', async function () {
    if (!IS_ROOT) this.skip();
    place = makePlace();
    const dirs = ['/tmp', '/dev/shm'];
    await restoring(async () => {
      const r = await run(P(), 'enforce', [attack.bin!, 'roots', P().ws, P().out]);
      const suid = fs.statSync(path.join(P().out, 'suid'), { throwIfNoEntry: false });
      const bad = [
        ...(suid && suid.uid === 0 && (suid.mode & 0o4000) !== 0 ? [`set-user-ID root file ${path.join(P().out, 'suid')}`] : []),
        ...dirs.filter((d) => fs.statSync(d).mtimeMs === OLD_MS).map((d) => `times of ${d} set to 2001`),
      ];
      assert.deepEqual(bad, [], r.stdout);
    });
  });
});
