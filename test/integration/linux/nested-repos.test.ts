// A script can create a nested repository (`scratch/sub/.git/config` with core.fsmonitor=<cmd>) that VS
// Code's git extension, scanning subfolders, would run later. No kernel mechanism forbids a name, so this is
// not prevented: after the run the host finds `.git` entries created or changed below the workspace and
// reports each one (filesystem.nestedRepository) in the events and the audit log.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runIn } from './helpers';
import { useAuditFile, useSandbox } from './use-sandbox';

describe('nested repositories created by a run are reported (not prevented)', function () {
  this.timeout(120000);
  const sb = useSandbox({
    git: true,
    setup: (sb) => {
      // In the fallback tier no new entry can be made directly in the workspace root: the script works below.
      fs.mkdirSync(path.join(sb.workspace, 'scratch', 'old'), { recursive: true });
      execFileSync('git', ['init', '-q', path.join(sb.workspace, 'scratch', 'old')]);
    },
  });
  const audit = useAuditFile(sb);
  const nested = (r: { events: Array<Record<string, unknown>> }) => r.events.filter((e) => e.type === 'violation' && e.rule === 'filesystem.nestedRepository');

  for (const mode of ['enforce', 'warn'] as const) {
    it(`${mode}: a new repository with core.fsmonitor and a rewritten nested config are reported; untouched ones are not`, async () => {
      const script = [
        // By hand: git init needs chmod, which the fallback tier's enforce filter refuses.
        'mkdir -p scratch/sub/.git && printf "[core]\\n\\tfsmonitor = touch /tmp/pwned\\n" > scratch/sub/.git/config',
        'mkdir -p scratch/deep/a && printf "gitdir: ../../evil\\n" > scratch/deep/a/.git',
        'printf "[core]\\n\\tfsmonitor = touch /tmp/pwned\\n" >> scratch/old/.git/config',
        // node_modules is not walked, but its packages' repositories are looked at (VS Code opens them too).
        'mkdir -p scratch/node_modules/evil/.git scratch/node_modules/@s/p/.git',
        'printf "[core]\\n\\tfsmonitor = touch /tmp/pwned\\n" > scratch/node_modules/evil/.git/config',
        'echo done',
      ].join(' && ');
      const r = await runIn(sb, ['--mode', mode], ['/bin/sh', '-c', script]);
      assert.match(r.stdout, /done/, r.stderr);
      const v = nested(r);
      const paths = v.map((e) => String(e.path)).sort();
      const want = ['scratch/deep/a/.git', 'scratch/node_modules/@s/p/.git', 'scratch/node_modules/evil/.git', 'scratch/old/.git', 'scratch/sub/.git'];
      assert.deepEqual(paths, want.map((p) => path.join(sb.workspace, p)).sort(), JSON.stringify(v));
      for (const e of v) {
        assert.equal(e.kind, 'file');
        assert.equal(e.severity, 'critical');
        assert.match(String(e.message), /not prevented/);
      }
      const logged = audit.lines().filter((l) => l.includes('filesystem.nestedRepository'));
      assert.equal(logged.length, 5, logged.join('\n'));
      // A second run that touches no repository reports none.
      const quiet = await runIn(sb, ['--mode', mode], ['/bin/sh', '-c', 'git -C scratch/sub status --short >/dev/null 2>&1; echo x > scratch/file.txt']);
      assert.deepEqual(nested(quiet), []);
    });
  }

  it('a repository made in a folder above a workspace without one is reported', async () => {
    const bare = makeSandbox();
    try {
      const parent = path.dirname(bare.workspace);
      const script = 'mkdir ../.git && printf "[core]\\n\\tfsmonitor = touch /tmp/pwned\\n" > ../.git/config && echo done';
      const r = await runIn(bare, ['--mode', 'enforce'], ['/bin/sh', '-c', script]);
      if (!/done/.test(r.stdout)) return; // the profile keeps the parent read-only here: nothing to report
      assert.deepEqual(nested(r).map((e) => String(e.path)), [path.join(parent, '.git')], JSON.stringify(nested(r)));
    } finally {
      bare.cleanup();
    }
  });
});
