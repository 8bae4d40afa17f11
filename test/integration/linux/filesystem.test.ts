// Landlock holds: under strict the script writes in its workspace and nowhere else, whatever path games
// it plays, and cannot read planted secrets.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runIn, runCli, writeScript, type Sandbox } from './helpers';

describe('filesystem (Landlock, real kernel)', function () {
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.cleanup());

  const attempt = (label: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${label}: ALLOWED"; else echo "${label}: denied"; fi\n`;

  it('strict: writes inside the workspace succeed', async () => {
    writeScript(sb.workspace, 'w.sh', '#!/bin/sh\nset -e\necho a > inside.txt\nmkdir sub\necho b > sub/x\nmv sub/x sub/y\nrm sub/y\nrmdir sub\necho done\n');
    const r = await runIn(sb, ['--profile', 'strict', '--mode', 'enforce'], ['./w.sh']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /done/);
    assert.equal(fs.readFileSync(path.join(sb.workspace, 'inside.txt'), 'utf8'), 'a\n');
  });

  it('strict: create, modify, truncate, rename, unlink, mkdir outside the workspace all fail', async () => {
    const o = sb.outside;
    const body =
      '#!/bin/sh\n' +
      attempt('create', `sh -c 'echo x > ${o}/new.txt'`) +
      attempt('append', `sh -c 'echo x >> ${o}/existing.txt'`) +
      attempt('truncate', `truncate -s 0 ${o}/existing.txt`) +
      attempt('rename', `mv ${o}/existing.txt ${o}/moved.txt`) +
      attempt('unlink', `rm -f ${o}/existing.txt`) +
      attempt('mkdir', `mkdir ${o}/d`) +
      attempt('symlink', `ln -s /etc/passwd ${o}/l`) +
      attempt('home', `sh -c 'echo x > $HOME/new.txt'`) +
      attempt('tmp', `sh -c 'echo x > /tmp/ss-escape-$$'`);
    writeScript(sb.workspace, 'w.sh', body);
    const r = await runIn(sb, ['--profile', 'strict'], ['./w.sh']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ALLOWED/, r.stdout);
    assert.equal((r.stdout.match(/denied/g) ?? []).length, 9, r.stdout);
    assert.deepEqual(fs.readdirSync(o), ['existing.txt']);
    assert.equal(fs.readFileSync(path.join(o, 'existing.txt'), 'utf8'), 'original\n');
    assert.ok(!fs.existsSync(path.join(sb.home, 'new.txt')));
  });

  it('strict: symlinks, hardlinks, .. paths and /proc/self/root do not lead outside', async () => {
    const o = sb.outside;
    fs.symlinkSync(o, path.join(sb.workspace, 'link-to-outside'));
    const rel = path.relative(sb.workspace, o);
    const body =
      '#!/bin/sh\n' +
      attempt('symlink-dir', `sh -c 'echo x > link-to-outside/via-symlink.txt'`) +
      attempt('dotdot', `sh -c 'echo x > ${rel}/via-dotdot.txt'`) +
      attempt('dotdot-abs', `sh -c 'echo x > ${sb.workspace}/../outside/via-dotdot2.txt'`) +
      attempt('proc-root', `sh -c 'echo x > /proc/self/root${o}/via-proc.txt'`) +
      attempt('hardlink', `ln ${o}/existing.txt ./hl.txt`) +
      attempt('symlink-file-write', `sh -c 'ln -s ${o}/existing.txt ./sl.txt && echo x >> ./sl.txt'`);
    writeScript(sb.workspace, 'w.sh', body);
    const r = await runIn(sb, ['--profile', 'strict'], ['./w.sh']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ALLOWED/, r.stdout);
    assert.deepEqual(fs.readdirSync(o), ['existing.txt']);
    assert.equal(fs.readFileSync(path.join(o, 'existing.txt'), 'utf8'), 'original\n');
  });

  it('strict: an inherited writable fd to an outside file is closed before exec', async () => {
    const target = path.join(sb.outside, 'existing.txt');
    const fd = fs.openSync(target, 'a');
    try {
      writeScript(sb.workspace, 'w.sh', '#!/bin/sh\nls /proc/self/fd\n( echo leaked >&3 ) 2>/dev/null && echo "fd3: ALLOWED" || echo "fd3: denied"\n');
      const r = await runCli(['run', '--workspace', sb.workspace, '--profile', 'strict', '--', './w.sh'], { cwd: sb.workspace, home: sb.home, stdio3: fd });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /fd3: denied/);
      assert.equal(fs.readFileSync(target, 'utf8'), 'original\n');
    } finally {
      fs.closeSync(fd);
    }
  });

  for (const profile of ['strict', 'moderate', 'permissive']) {
    it(`${profile}: a planted ~/.ssh/id_rsa cannot be read or overwritten`, async () => {
      writeScript(
        sb.workspace,
        'r.sh',
        '#!/bin/sh\n' + attempt('read', 'cat $HOME/.ssh/id_rsa') + attempt('write', "sh -c 'echo x > $HOME/.ssh/id_rsa'") + attempt('read-via-dotdot', 'cat $HOME/../home/.ssh/id_rsa') + attempt('copy', 'cp $HOME/.ssh/id_rsa ./stolen'),
      );
      const r = await runIn(sb, ['--profile', profile], ['./r.sh']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /ALLOWED/, r.stdout);
      assert.doesNotMatch(r.stdout, /FAKE KEY/);
    });
  }

  it('moderate: reads outside the workspace work, /etc/shadow does not', async () => {
    writeScript(sb.workspace, 'r.sh', '#!/bin/sh\n' + attempt('outside', `cat ${sb.outside}/existing.txt`) + attempt('passwd', 'cat /etc/passwd') + attempt('shadow', 'cat /etc/shadow'));
    const r = await runIn(sb, ['--profile', 'moderate'], ['./r.sh']);
    assert.match(r.stdout, /outside: ALLOWED/);
    assert.match(r.stdout, /passwd: ALLOWED/);
    assert.match(r.stdout, /shadow: denied/);
  });

  it('strict: reads outside the workspace and system paths fail', async () => {
    writeScript(sb.workspace, 'r.sh', '#!/bin/sh\n' + attempt('outside', `cat ${sb.outside}/existing.txt`) + attempt('system', 'cat /etc/hostname'));
    const r = await runIn(sb, ['--profile', 'strict'], ['./r.sh']);
    assert.match(r.stdout, /outside: denied/);
    assert.match(r.stdout, /system: ALLOWED/);
  });

  it('--read-only: nothing is writable, not even the workspace; --deny-write wins inside the workspace', async () => {
    writeScript(sb.workspace, 'w.sh', '#!/bin/sh\n' + attempt('ws', "sh -c 'echo x > inside.txt'"));
    const ro = await runIn(sb, ['--read-only'], ['./w.sh']);
    assert.match(ro.stdout, /ws: denied/);
    fs.mkdirSync(path.join(sb.workspace, 'locked'));
    writeScript(sb.workspace, 'w2.sh', '#!/bin/sh\n' + attempt('locked', "sh -c 'echo x > locked/f'") + attempt('free', "sh -c 'echo x > free.txt'"));
    const dw = await runIn(sb, ['--deny-write', 'locked/**'], ['./w2.sh']);
    assert.match(dw.stdout, /locked: denied/);
    assert.match(dw.stdout, /free: ALLOWED/);
  });

  // Red team: a name that is not UTF-8 decoded to U+FFFD, which names nothing; the path was judged as another
  // name, the glob did not match, and the call went on (a link named \xff to `.` wrote data/via.key).
  for (const [tier, env] of [['namespace tier', {}], ['fallback tier', { SCRIPT_SANDBOX_NAMESPACES: '0' }]] as const) {
    it(`--deny-write data/*.key holds through a link whose name is not UTF-8 (${tier})`, async () => {
      fs.mkdirSync(path.join(sb.workspace, 'data'));
      writeScript(sb.workspace, 'nonutf8.sh', `#!/bin/sh\nB=$(printf '\\377'); export B\nln -s . "data/$B"\n` + attempt('direct', "sh -c 'echo x > data/direct.key'") + attempt('via', `sh -c 'echo x > "data/$B/via.key"'`) + attempt('other', "sh -c 'echo x > data/note.txt'"));
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./nonutf8.sh'], env);
      assert.match(r.stdout, /direct: denied/, r.stdout + r.stderr);
      assert.match(r.stdout, /via: denied/, r.stdout + r.stderr);
      assert.match(r.stdout, /other: ALLOWED/, r.stdout + r.stderr);
      assert.equal(fs.existsSync(path.join(sb.workspace, 'data', 'via.key')), false, 'data/via.key was written through the \\xff link');
    });
  }

  // Red team: /proc/self and /dev/fd were resolved as the supervisor's own (its cwd, its fds), so a write
  // spelled through them was judged as another path and went on.
  for (const [tier, env] of [['namespace tier', {}], ['fallback tier', { SCRIPT_SANDBOX_NAMESPACES: '0' }]] as const) {
    it(`--deny-write data/*.key holds through /proc/self/cwd, /proc/thread-self/cwd and /dev/fd/N (${tier})`, async () => {
      fs.mkdirSync(path.join(sb.workspace, 'data'));
      writeScript(
        sb.workspace,
        'procself.sh',
        '#!/bin/sh\nexec 3<data\n' +
          attempt('cwd', "sh -c 'echo x > /proc/self/cwd/data/c.key'") +
          attempt('thread', "sh -c 'echo x > /proc/thread-self/cwd/data/t.key'") +
          attempt('devfd', "sh -c 'echo x > /dev/fd/3/d.key'") +
          attempt('other', "sh -c 'echo x > /dev/fd/3/note.txt'"),
      );
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./procself.sh'], env);
      for (const label of ['cwd', 'thread', 'devfd']) assert.match(r.stdout, new RegExp(`${label}: denied`), r.stdout + r.stderr);
      assert.match(r.stdout, /other: ALLOWED/, r.stdout + r.stderr);
      assert.deepEqual(fs.readdirSync(path.join(sb.workspace, 'data')).filter((n) => n.endsWith('.key')), [], 'a .key file was written');
    });
  }

  for (const [tier, env] of [['namespace tier', {}], ['fallback tier', { SCRIPT_SANDBOX_NAMESPACES: '0' }]] as const) {
    it(`reopening its own pipe through /proc/self/fd (as \`> /dev/stdout\` does) is no violation (${tier})`, async () => {
      // The supervisor used to resolve /proc/self as itself and judge "/proc/<its pid>/fd/pipe:[…]", a system path.
      writeScript(sb.workspace, 'reopen.sh', "#!/bin/sh\n: | sh -c 'echo x > /proc/self/fd/0 && echo pipe-reopen-ok'\n");
      const r = await runIn(sb, ['--mode', 'enforce'], ['./reopen.sh'], env);
      assert.match(r.stdout, /pipe-reopen-ok/, r.stdout + r.stderr);
      assert.deepEqual(r.events.filter((e) => e.type === 'violation'), []);
    });
  }

  it('.git/hooks and .vscode in the workspace are protected from writes', async () => {
    fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks'), { recursive: true });
    fs.mkdirSync(path.join(sb.workspace, '.vscode'));
    writeScript(sb.workspace, 'w.sh', '#!/bin/sh\n' + attempt('hook', "sh -c 'echo x > .git/hooks/pre-commit'") + attempt('vscode', "sh -c 'echo {} > .vscode/settings.json'"));
    const r = await runIn(sb, ['--profile', 'moderate'], ['./w.sh']);
    assert.match(r.stdout, /hook: denied/);
    assert.match(r.stdout, /vscode: denied/);
  });

  // The workspace path meets glob syntax in the policy (`secrets/**` becomes `<workspace>/secrets/**`): its
  // characters must stay literal, or the kernel rule lands on a path that does not exist and the secret is
  // readable (it was, for every name below).
  it('denyRead holds in a workspace named with glob characters: proj (copy), [x], {a,b}, *, ?', async () => {
    for (const name of ['proj (copy)', '[x]', '{a,b}', 'st*r', 'q?']) {
      const ws = path.join(sb.root, name);
      fs.mkdirSync(path.join(ws, 'secrets'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'secrets', 'key'), 'TOPSECRET-KEY\n');
      fs.writeFileSync(path.join(ws, 'public.txt'), 'public\n');
      writeScript(ws, 'r.sh', '#!/bin/sh\n' + attempt('secret', 'cat secrets/key') + attempt('public', 'cat public.txt') + attempt('secret-abs', `cat "${ws}/secrets/key"`));
      const r = await runCli(['run', '--workspace', ws, '--profile', 'moderate', '--mode', 'enforce', '--deny-read', 'secrets/**', '--', './r.sh'], { cwd: ws, home: sb.home });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, name);
      assert.match(r.stdout, /secret: denied/, `${name}: ${r.stdout}`);
      assert.match(r.stdout, /secret-abs: denied/, `${name}: ${r.stdout}`);
      assert.match(r.stdout, /public: ALLOWED/, `${name}: ${r.stdout}`);
    }
  });
});
