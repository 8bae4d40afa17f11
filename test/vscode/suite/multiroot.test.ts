// Inside VS Code, a multi-root workspace (folders a and b, run-code-server.ts): each folder's settings apply
// to the scripts in that folder, and a folder's value may only tighten the user's, like a workspace's.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runScript } from './helpers';

function folder(name: string): vscode.WorkspaceFolder {
  const f = vscode.workspace.workspaceFolders?.find((x) => x.name === name);
  if (!f) throw new Error(`no folder ${name} in ${JSON.stringify(vscode.workspace.workspaceFolders?.map((x) => x.name))}`);
  return f;
}

describe('Script Sandbox in a multi-root workspace', function () {
  it('VS Code gives each folder\'s own values (the settings are resource-scoped)', () => {
    assert.equal(vscode.workspace.workspaceFolders?.length, 2);
    assert.equal(vscode.workspace.getConfiguration('scriptSandbox', folder('a').uri).inspect('profile')?.workspaceFolderValue, 'strict');
    assert.equal(vscode.workspace.getConfiguration('scriptSandbox', folder('b').uri).inspect('mode')?.workspaceFolderValue, 'disabled');
  });

  it('a script in folder a runs under a\'s tighter profile; one in folder b under the user\'s (b\'s looser values ignored)', async () => {
    const ra = await runScript(vscode.Uri.joinPath(folder('a').uri, 'scripts', 'hello.sh'));
    assert.equal(ra.status, 'finished', JSON.stringify(ra));
    assert.equal(ra.policy?.profile, 'strict', 'folder a tightens the profile');
    assert.equal(ra.policy?.mode, 'enforce');

    const rb = await runScript(vscode.Uri.joinPath(folder('b').uri, 'scripts', 'hello.sh'));
    assert.equal(rb.status, 'finished', JSON.stringify(rb));
    assert.equal(rb.policy?.profile, 'moderate', 'folder a\'s value does not leak into b, and b may not loosen');
    assert.equal(rb.policy?.mode, 'enforce', 'a folder cannot switch the sandbox off');
    assert.ok(rb.notes.some((n) => /scriptSandbox\.mode/.test(n) && /disabled/.test(n)), `the run says b's mode was ignored: ${rb.notes.join(' | ')}`);

    // Each run is recorded in its own folder's audit log.
    const log = (f: string) => fs.readFileSync(path.join(folder(f).uri.fsPath, '.sandbox', 'audit.jsonl'), 'utf8');
    assert.ok(log('a').includes(`"runId":"${ra.runId}"`) && !log('a').includes(`"runId":"${rb.runId}"`), 'a\'s run in a\'s log only');
    assert.ok(log('b').includes(`"runId":"${rb.runId}"`), 'b\'s run in b\'s log');
  });
});
