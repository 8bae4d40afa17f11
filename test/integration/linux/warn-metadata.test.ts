// Fallback tier, warn mode: chmod/utimes/xattr have no Landlock right, so nothing but the syscall filter keeps
// them off the integrity set. Reporting them and letting them through (warn's usual answer) turned a dormant
// hook live (`chmod +x .git/hooks/pre-commit`, then the user's next commit ran it) and loosened the audit
// key's mode. Observed from outside: modes and times unchanged.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './helpers';
import { useSandbox } from './use-sandbox';

describe('fallback tier, warn mode: metadata of the integrity set is kept (real kernel)', function () {
  this.timeout(120000);
  const sb = useSandbox({
    git: true,
    setup: (sb) => {
      fs.writeFileSync(path.join(sb.workspace, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\necho dormant\n', { mode: 0o644 });
      fs.chmodSync(path.join(sb.workspace, '.git', 'hooks', 'pre-commit'), 0o644);
    },
  });

  it('chmod +x of a dormant hook, touch of .git/config and chmod of the git folder fail', async () => {
    const hook = path.join(sb.workspace, '.git', 'hooks', 'pre-commit');
    const config = path.join(sb.workspace, '.git', 'config');
    const before = { hook: fs.statSync(hook).mode, config: fs.statSync(config).mtimeMs, git: fs.statSync(path.join(sb.workspace, '.git')).mode };
    const script = 'chmod +x .git/hooks/pre-commit; touch -d 2000-01-01 .git/config; chmod 777 .git; echo done';
    const r = await runCli(['run', '--workspace', sb.workspace, '--mode', 'warn', '--', '/bin/sh', '-c', script], {
      cwd: sb.workspace,
      home: sb.home,
      env: { SCRIPT_SANDBOX_NAMESPACES: '0' },
    });
    assert.match(r.stdout, /done/, r.stderr);
    const after = { hook: fs.statSync(hook).mode, config: fs.statSync(config).mtimeMs, git: fs.statSync(path.join(sb.workspace, '.git')).mode };
    assert.deepEqual(after, before);
  });
});
