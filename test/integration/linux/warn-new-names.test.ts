// Warn mode blocks nothing of the policy, also where the kernel's integrity rules leave a folder without a
// Landlock rule for new names: Landlock can only grant, so every folder above a protected path (the
// workspace's top beside .git, the home folder beside ~/.bashrc, /tmp above a workspace in /tmp) gets rules
// on its existing entries only. Before the supervisor performed warn mode's calls there, a new file or
// folder in such a folder failed with EACCES; in the home folder it was even reported as "Allowed (warn
// mode)" while the kernel refused it. The integrity set itself stays refused. Observed from outside.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIn } from './helpers';
import { TIERS, useSandbox, userNamespacesProblem } from './use-sandbox';

const SCRIPT = String.raw`
try() { name=$1; shift; if "$@" 2>/dev/null; then echo "$name=ok"; else echo "$name=refused"; fi; }
try top sh -c 'echo a > newf'
try topdir mkdir newdir
try inmade sh -c 'echo b > newdir/x'
try rename mv newdir renamed
try readmade cat renamed/x
try remove rm newf
try symlink ln -s renamed lnk
try home sh -c 'echo c > "$HOME/newhome"'
try homedeep sh -c 'mkdir -p "$HOME/proj/deep" && echo d > "$HOME/proj/deep/y"'
try glob sh -c 'echo s > secret1'
try vscode mkdir .vscode
try hook sh -c 'echo h > .git/hooks/pre-commit'
try rc sh -c 'echo pwned >> "$HOME/.bashrc"'
try intogit mv renamed .git/renamed
echo end
`;

describe('warn mode performs new names where the integrity rules carve a folder (real kernel)', function () {
  this.timeout(120000);
  const nsProblem = userNamespacesProblem();
  const sb = useSandbox({ git: true, setup: (s) => fs.writeFileSync(path.join(s.home, '.bashrc'), '# rc\n') });

  for (const [tier, env] of TIERS) {
    it(`new files, folders, renames and links at the workspace's top and in the home folder work and are reported; the integrity set stays refused (${tier})`, async function () {
      if (tier === 'namespace tier' && nsProblem) this.skip();
      const ws = sb.workspace;
      // The tests' home is below /tmp, which moderate writes (shared temp): a deny entry makes ~/newhome a
      // would-be block, which warn's kernel rules do not carve.
      const flags = ['--mode', 'warn', '--profile', 'moderate', '--deny-write', 'secret*', '--deny-write', path.join(sb.home, 'newhome')];
      const r = await runIn(sb, flags, ['/bin/sh', '-c', SCRIPT], { ...env });
      const out = `${r.stdout}\n${r.stderr}`;
      assert.match(r.stdout, /^end$/m, out);
      for (const name of ['top', 'topdir', 'inmade', 'rename', 'readmade', 'remove', 'symlink', 'home', 'homedeep', 'glob']) {
        assert.match(r.stdout, new RegExp(`^${name}=ok$`, 'm'), out);
      }
      for (const name of ['vscode', 'hook', 'rc', 'intogit']) assert.match(r.stdout, new RegExp(`^${name}=refused$`, 'm'), out);
      // From outside: what warn let through is there, the integrity set is as it was.
      assert.equal(fs.readFileSync(path.join(ws, 'renamed', 'x'), 'utf8'), 'b\n');
      assert.ok(!fs.existsSync(path.join(ws, 'newf')) && !fs.existsSync(path.join(ws, 'newdir')));
      assert.equal(fs.readlinkSync(path.join(ws, 'lnk')), 'renamed');
      assert.equal(fs.readFileSync(path.join(sb.home, 'newhome'), 'utf8'), 'c\n');
      assert.equal(fs.readFileSync(path.join(sb.home, 'proj', 'deep', 'y'), 'utf8'), 'd\n');
      assert.equal(fs.readFileSync(path.join(ws, 'secret1'), 'utf8'), 's\n');
      assert.ok(!fs.existsSync(path.join(ws, '.vscode')), 'warn mode made .vscode');
      assert.ok(!fs.existsSync(path.join(ws, '.git', 'hooks', 'pre-commit')), 'warn mode wrote a hook');
      assert.ok(!fs.existsSync(path.join(ws, '.git', 'renamed')), 'warn mode moved a folder into .git');
      assert.equal(fs.readFileSync(path.join(sb.home, '.bashrc'), 'utf8'), '# rc\n');
      // What enforce would block is reported as warned; nothing is reported as blocked.
      const v = r.events.filter((e) => e.type === 'violation');
      assert.ok(v.some((x) => String(x.path).endsWith('newhome') && x.action === 'warned'), JSON.stringify(v));
      assert.ok(v.some((x) => String(x.path).endsWith('secret1') && x.action === 'warned'), JSON.stringify(v));
      assert.deepEqual(v.filter((x) => x.action !== 'warned'), [], JSON.stringify(v));
    });
  }
});
