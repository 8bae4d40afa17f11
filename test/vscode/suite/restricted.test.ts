// Inside VS Code, a workspace NOT trusted (Restricted Mode): runs use the strict profile and the workspace's
// own .vscode/sandbox.json (here one that tries to turn the sandbox off) is ignored.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, runScript, workspaceUri } from './helpers';

describe('Script Sandbox in VS Code (Restricted Mode)', function () {
  it('the window really is untrusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('runs with the strict profile and ignores the workspace policy file', async () => {
    await api();
    const r = await runScript(workspaceUri('scripts', 'hello.sh'));
    assert.equal(r.exitCode, 0, JSON.stringify(r));
    assert.equal(r.policy?.profile, 'strict');
    assert.notEqual(r.policy?.mode, 'disabled', 'the workspace file asked for disabled; it must be ignored');
    assert.ok(r.notes.some((n) => n.includes('Restricted Mode')), `notes: ${r.notes.join(' | ')}`);
  });

  it('still blocks what the script must not do', async () => {
    const r = await runScript(workspaceUri('scripts', 'deploy.sh'));
    const v = r.violations.find((x) => x.kind === 'file');
    assert.ok(v, JSON.stringify(r.violations));
    assert.equal(v.action, 'blocked');
  });
});
