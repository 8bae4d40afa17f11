// Files in HOME that run later outside the sandbox, and the git-script approvals, stay unwritable even when
// the permissive profile makes HOME writable. Seen from outside: the files are unchanged after the run.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runIn, type Sandbox } from './helpers';

describe('protected programs and approvals in HOME (permissive)', function () {
  this.timeout(60000);
  let sb: Sandbox;
  beforeEach(() => (sb = makeSandbox()));
  afterEach(() => sb.cleanup());

  it('a script cannot write ~/.local/bin/git or the git-script approvals file, directly or by rename', async () => {
    const bin = path.join(sb.home, '.local', 'bin');
    const cache = path.join(sb.home, '.cache', 'script-sandbox', 'git');
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(cache, { recursive: true });
    fs.mkdirSync(path.join(sb.home, '.cache', 'pip'));
    const approvals = path.join(cache, 'approvals.json');
    fs.writeFileSync(approvals, '{}\n');
    const script = [
      'printf "#!/bin/sh\\necho pwned\\n" > "$HOME/.local/bin/git" && echo wrote-bin',
      'echo \'{"evil":1}\' > "$HOME/.cache/script-sandbox/git/approvals.json" && echo wrote-approvals',
      'echo \'{"evil":2}\' > "$HOME/.cache/script-sandbox/git/new.json" && mv -f "$HOME/.cache/script-sandbox/git/new.json" "$HOME/.cache/script-sandbox/git/approvals.json" && echo renamed-approvals',
      'echo ok > "$HOME/.cache/pip/ok.txt" && echo wrote-home',
    ].join('\n');
    const r = await runIn(sb, ['--profile', 'permissive'], ['/bin/sh', '-c', script]);
    // The profile does make HOME's folders writable (a sibling cache here; in the fallback tier a folder holding a
    // protected entry only keeps its other children writable): the protection is specific, not a read-only HOME.
    assert.match(r.stdout, /wrote-home/, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /wrote-bin|wrote-approvals|renamed-approvals/, `stdout: ${r.stdout}`);
    assert.ok(!fs.existsSync(path.join(bin, 'git')), '~/.local/bin/git was created');
    assert.equal(fs.readFileSync(approvals, 'utf8'), '{}\n');
  });
});
