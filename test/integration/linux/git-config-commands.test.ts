// Git config keys that make git run a program later, outside the sandbox (core.pager, core.editor, alias.*
// with `!`, diff.*.textconv, filter.*.clean, …): when the program is a file inside the workspace, a script
// that rewrites (or creates) it plants code the user's next `git log` runs. And the global config that git
// reads from $XDG_CONFIG_HOME/git/config must be read (and kept) like ~/.config/git/config. Enforce runs in
// both tiers; observed from outside.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers';
import { useSandbox, userNamespacesProblem } from './use-sandbox';

const TOOLS = ['pager.sh', 'alias.sh', 'textconv.sh', 'clean.sh', 'helper.sh', 'xdg-editor.sh', 'trailer.sh', 'mergetool.sh'];

const ATTACK_SH = String.raw`
try() { name=$1; shift; if ( "$@" ) 2>/dev/null; then echo "$name: ALLOWED"; else echo "$name: denied"; fi; }
for f in pager alias textconv clean helper xdg-editor trailer mergetool; do
  try "rewrite tools/$f.sh" sh -c "printf '#!/bin/sh\necho pwned\n' > tools/$f.sh"
done
try 'create the missing core.editor' sh -c "printf '#!/bin/sh\necho pwned\n' > tools/editor.sh"
try 'create the missing core.fsmonitor' sh -c "printf '#!/bin/sh\necho pwned\n' > tools/fsm.sh"
try 'rename over tools/pager.sh' sh -c "printf 'x\n' > scratch/p && mv -f scratch/p tools/pager.sh"
try 'append $XDG_CONFIG_HOME/git/config' sh -c "printf '[core]\n\thooksPath = /tmp\n' >> $XDG/git/config"
echo x > tools/other.txt && echo WROTE-OTHER
echo end
`;

describe('git config commands inside the workspace stay unchanged (real kernel)', function () {
  this.timeout(120000);
  const nsProblem = userNamespacesProblem();
  const sb = useSandbox({
    git: true,
    setup: (sb) => {
      const ws = sb.workspace;
      fs.mkdirSync(path.join(ws, 'tools'));
      fs.mkdirSync(path.join(ws, 'scratch'));
      for (const t of TOOLS) fs.writeFileSync(path.join(ws, 'tools', t), '#!/bin/sh\nexec cat\n', { mode: 0o755 });
      // Existing: in the fallback tier no new entry can be made in a folder holding a carve-out.
      fs.writeFileSync(path.join(ws, 'tools', 'other.txt'), 'before\n');
      fs.appendFileSync(
        path.join(ws, '.git', 'config'),
        [
          '[core]',
          '\tpager = ./tools/pager.sh -R',
          '\teditor = "tools/editor.sh"',
          '\tfsmonitor = ./tools/fsm.sh',
          '[trailer "sign"]',
          '\tcommand = ./tools/trailer.sh',
          '[mergetool "mine"]',
          '\tcmd = tools/mergetool.sh "$LOCAL" "$REMOTE"',
          '[alias]',
          '\tx = !tools/alias.sh --flag',
          '[diff "bin"]',
          '\ttextconv = sh tools/textconv.sh',
          '[filter "lfs"]',
          '\tclean = tools/clean.sh %f',
          '[credential]',
          `\thelper = !${ws}/tools/helper.sh`,
          '',
        ].join('\n'),
      );
      fs.mkdirSync(path.join(xdg(), 'git'), { recursive: true });
      fs.writeFileSync(path.join(xdg(), 'git', 'config'), '[sequence]\n\teditor = ./tools/xdg-editor.sh\n');
    },
  });
  const xdg = () => path.join(sb.home, 'xdg');

  const snap = () => ({
    tools: fs.readdirSync(path.join(sb.workspace, 'tools')).sort().filter((n) => n !== 'other.txt').map((n) => `${n}:${fs.readFileSync(path.join(sb.workspace, 'tools', n), 'utf8')}`),
    xdg: fs.readFileSync(path.join(xdg(), 'git', 'config'), 'utf8'),
  });

  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`${tier} tier: the programs git config names in the workspace and $XDG_CONFIG_HOME/git are unchanged`, async function () {
      if (tier === 'namespaces' && nsProblem) this.skip();
      fs.writeFileSync(path.join(sb.outside, 'attack.sh'), ATTACK_SH);
      const before = snap();
      // permissive: HOME is writable, so only the protection keeps $XDG_CONFIG_HOME/git.
      const r = await runCli(['run', '--workspace', sb.workspace, '--profile', 'permissive', '--mode', 'enforce', '--env-allow', 'XDG', '--', '/bin/sh', path.join(sb.outside, 'attack.sh')], {
        cwd: sb.workspace,
        home: sb.home,
        env: { XDG_CONFIG_HOME: xdg(), XDG: xdg(), ...(tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0' } : {}) },
      });
      assert.match(r.stdout, /^end$/m, `attack script did not finish: ${r.stdout}\n${r.stderr}`);
      assert.deepEqual(r.stdout.split('\n').filter((l) => /ALLOWED/.test(l)), [], r.stdout);
      assert.match(r.stdout, /WROTE-OTHER/, 'the rest of tools/ stays writable');
      assert.deepEqual(snap(), before);
      assert.ok(!fs.existsSync(path.join(sb.workspace, 'tools', 'editor.sh')), 'the missing core.editor was created');
      assert.ok(!fs.existsSync(path.join(sb.workspace, 'tools', 'fsm.sh')) || fs.statSync(path.join(sb.workspace, 'tools', 'fsm.sh')).size === 0, 'the missing core.fsmonitor program was planted');
    });
  }
});
