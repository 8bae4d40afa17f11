// The build runs the commands bundle's workload before it writes that bundle's code cache; it must work on a
// plain machine (an empty environment, no workspace) and leave nothing behind. The built bundle itself, in a
// fresh Node: real disk, real policy, real plan compile.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const bundle = path.join(__dirname, '../../../../dist/cli-main.js');

describe('the commands bundle code-cache workload', () => {
  it('resolves the default policy and compiles a plan in a fresh Node, leaving no temp folder', () => {
    const mine = () => new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('script-sandbox-code-cache-')));
    const before = mine();
    const out = execFileSync(process.execPath, ['-e', `require(${JSON.stringify(bundle)}).codeCacheWorkload(); process.stdout.write('done')`], { env: {}, encoding: 'utf8' });
    assert.equal(out, 'done');
    assert.deepEqual([...mine()].filter((n) => !before.has(n)), []);
  });
});
