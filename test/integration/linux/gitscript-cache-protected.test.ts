// A git-script's approval holds for a commit; its checkout and manifest sit in the user's cache. A permissive
// run could rewrite an approved script and its manifest hash, and the next `git-run` ran the new code without
// asking. The checkouts are protected like the approvals; only the extraction run may write them.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runCli, type Sandbox } from './helpers';

describe('git-script checkouts are out of a run\'s reach (real kernel)', function () {
  this.timeout(120000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb?.cleanup());

  for (const tier of ['namespaces', 'fallback'] as const) {
    it(`${tier} tier: a permissive run cannot rewrite a cached checkout or its manifest`, async () => {
      const dir = path.join(sb.home, '.cache', 'script-sandbox', 'git', 'checkouts', 'k');
      fs.mkdirSync(path.join(dir, 'c0ffee'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'c0ffee', 'run.sh'), 'echo ORIGINAL\n');
      fs.writeFileSync(path.join(dir, 'c0ffee.manifest.json'), '{}\n');
      const script = `echo 'echo TAMPERED' > ${dir}/c0ffee/run.sh; echo '{"x":1}' > ${dir}/c0ffee.manifest.json; mv ${dir}/c0ffee ${dir}/gone; echo done`;
      const r = await runCli(['run', '--workspace', sb.workspace, '--profile', 'permissive', '--', '/bin/sh', '-c', script], {
        cwd: sb.workspace,
        home: sb.home,
        env: tier === 'fallback' ? { SCRIPT_SANDBOX_NAMESPACES: '0' } : {},
      });
      assert.match(r.stdout, /done/, r.stderr);
      assert.equal(fs.readFileSync(path.join(dir, 'c0ffee', 'run.sh'), 'utf8'), 'echo ORIGINAL\n');
      assert.equal(fs.readFileSync(path.join(dir, 'c0ffee.manifest.json'), 'utf8'), '{}\n');
    });
  }
});
