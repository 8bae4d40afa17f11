// Inside VS Code: what makes the extension feel native — menus only on runnable files (the context key the
// extension maintains), and the interpreter settings. The workspace holds NATIVE_FILES (run-code-server.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, workspaceUri, type Api } from './helpers';

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Script Sandbox feels native (menus, settings)', function () {
  let sandbox: Api;
  before(async () => {
    sandbox = await api();
  });

  it('lists extension-less scripts with a #! line or the x bit in the runnable-files context key, never data files', async () => {
    const list = await sandbox.runnableFiles();
    const ws = workspaceUri().fsPath;
    assert.ok(list.includes(path.join(ws, 'bin', 'tool')), `bin/tool (shebang) listed: ${JSON.stringify(list)}`);
    for (const not of ['notes.txt', 'README.md', 'data.json', '.vscode/sandbox.json', 'tool.py']) assert.ok(!list.includes(path.join(ws, not)), `${not} not listed`);
  });

  it('follows the file system: a new executable file is added, a deleted one removed', async () => {
    const p = workspaceUri('later').fsPath;
    fs.writeFileSync(p, 'echo later\n', { mode: 0o755 });
    await until('the new file listed (file watcher)', async () => (await sandbox.runnableFiles()).includes(p));
    fs.rmSync(p);
    await until('the deleted file gone', async () => !(await sandbox.runnableFiles()).includes(p));
  });

  it('adds a file when it is saved with a #! line', async () => {
    const uri = workspaceUri('saved-later');
    fs.writeFileSync(uri.fsPath, 'plain text\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    assert.ok(!(await sandbox.runnableFiles()).includes(uri.fsPath));
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '#!/bin/sh\n'));
    await doc.save();
    await until('the saved file listed', async () => (await sandbox.runnableFiles()).includes(uri.fsPath));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    fs.rmSync(uri.fsPath);
  });

  it('offers per-language interpreters with defaults in the settings', () => {
    const cfg = vscode.workspace.getConfiguration('scriptSandbox');
    const li = cfg.get<Record<string, string[]>>('languageInterpreters')!;
    assert.deepEqual(li.python, ['python3', '-u']);
    assert.deepEqual(li.javascript, ['node']);
    assert.deepEqual(li.shellscript, ['bash']);
    assert.deepEqual(li.powershell?.[0], 'pwsh');
  });
});
