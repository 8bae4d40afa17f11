// The Wine tier for `script-sandbox explain` on a Windows workspace (Node for Windows, dist/cli.js). git
// discovery walked up from Z:/…/ws as Z:/… → Z: → . → . and never ended: explain hung on every Windows
// workspace. It must print the protected set, with the repository that contains the workspace.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, wineReady, workspace, z } from './wine-env';

describe('Wine tier: explain on a Windows workspace', function () {
  this.timeout(300_000);
  before(function () {
    if (!wineReady()) this.skip();
  });

  it('ends, and names the workspace\'s .git and the .git of the repository around it', function () {
    const ws = workspace();
    fs.mkdirSync(path.join(ws, '.git'));
    fs.mkdirSync(path.join(ws, '..', '.git'));
    const r = cli(ws, ['explain', '--workspace', z(ws)]);
    assert.equal(r.status, 0, `explain did not end or failed (status ${r.status}): ${r.err}`);
    const text = r.out.slice(r.out.indexOf('{'));
    JSON.parse(text);
    const wsPolicy = z(ws).replace(/\\/g, '/');
    const outer = z(path.dirname(ws)).replace(/\\/g, '/');
    assert.ok(text.includes(`${wsPolicy}/.git (git metadata`), text.slice(0, 2000));
    assert.ok(text.includes(`${outer}/.git (git directory of the repository that contains the workspace`), text.slice(0, 4000));
  });
});
