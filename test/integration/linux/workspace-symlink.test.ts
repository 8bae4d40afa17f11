// A workspace named through a symlink (a home folder on another disk, macOS's /tmp -> /private/tmp): the kernel
// reaches the real folder, and so does the supervisor, which resolves every name physically. The policy's
// paths were the link's, so in the fallback tier (and with a deny glob in the namespace tier) the supervisor
// found a new name at the workspace root outside the workspace and refused `mkdir stage` (found by red team
// rt10). The workspace is taken by its real path now; the protected set still holds through either name.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

describe('a workspace named through a symlink (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    for (const glob of [[], ['--deny-write', 'data/*.key']]) {
      it(`mkdir, write and rename at its root work; .git/hooks stays read-only (${tier}${glob.length ? ', deny glob' : ''})`, async function () {
        this.timeout(60_000);
        const link = path.join(sb.root, 'ws-link');
        fs.symlinkSync(sb.workspace, link);
        fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks'), { recursive: true });
        fs.writeFileSync(path.join(sb.workspace, '.git', 'hooks', 'pre-commit'), 'original\n');
        const r = await runCli(['run', '--workspace', link, ...glob, '--', '/bin/sh', '-c', 'mkdir stage && echo ok > stage/f && mv stage/f f2 && echo made; echo evil > .git/hooks/pre-commit 2>/dev/null; echo evil > "$PWD/.git/hooks/pre-commit" 2>/dev/null; exit 0'], { cwd: link, home: sb.home, env: { ...env } });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /made/, `ordinary work at the root failed:\n${r.stdout}${r.stderr}`);
        assert.equal(fs.readFileSync(path.join(sb.workspace, 'f2'), 'utf8'), 'ok\n');
        assert.equal(fs.readFileSync(path.join(sb.workspace, '.git', 'hooks', 'pre-commit'), 'utf8'), 'original\n');
      });
    }
  }
});
