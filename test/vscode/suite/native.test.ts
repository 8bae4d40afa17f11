// Inside VS Code: what makes the extension feel native — menus only on runnable files (the context key the
// extension maintains), and the interpreter settings. The workspace holds NATIVE_FILES (run-code-server.ts).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

  it('Open Workspace Policy File creates a commented starter file when there is none', async () => {
    const uri = workspaceUri('.vscode', 'sandbox.json');
    assert.ok(!fs.existsSync(uri.fsPath), 'no policy file yet');
    await vscode.commands.executeCommand('scriptSandbox.openPolicyFile');
    const editor = await until('the policy file in an editor', async () => vscode.window.activeTextEditor?.document.uri.fsPath === uri.fsPath).then(() => vscode.window.activeTextEditor!);
    assert.match(editor.document.getText(), /^\/\/ Script Sandbox: this workspace's policy/);
    assert.ok(fs.existsSync(uri.fsPath), 'written to disk');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(vscode.languages.getDiagnostics(uri).map((d) => d.message), [], 'the starter file has no problems');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a broken policy file: exactly one diagnostic per problem, on its line, with the text the CLI prints', async () => {
    const uri = workspaceUri('.vscode', 'sandbox.json');
    const text = ['{', '  // typos a user makes', '  "mode": "block",', '  "limits": { "cpuSeconds": 1.5 },', '  "netwrok": {}', '}', ''].join('\n');
    fs.writeFileSync(uri.fsPath, text);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    await until('three sandbox diagnostics', async () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'sandbox').length === 3);
    // VS Code's JSON support has had time to validate the open file against the contributed schema too.
    await new Promise((r) => setTimeout(r, 3000));
    const all = vscode.languages.getDiagnostics(uri);
    assert.deepEqual(
      all.map((d) => [d.range.start.line + 1, d.source]).sort(),
      [
        [3, 'sandbox'],
        [4, 'sandbox'],
        [5, 'sandbox'],
      ],
      `one diagnostic per problem: ${all.map((d) => `${d.range.start.line + 1} ${d.source}: ${d.message}`).join(' | ')}`,
    );
    const unknown = all.find((d) => d.range.start.line === 4)!;
    assert.equal(unknown.message, 'unknown key "netwrok" (did you mean "network"?)');
    // Each is an error whose code is the CLI's, linked to the README section on the file's format.
    for (const d of all) {
      assert.equal(d.severity, vscode.DiagnosticSeverity.Error, d.message);
      const code = d.code as { value: string; target: vscode.Uri };
      assert.equal(code.value, 'POLICY_INVALID', d.message);
      assert.ok(code.target instanceof vscode.Uri, `a link: ${JSON.stringify(d.code)}`);
      const heading = fs.readFileSync(code.target.fsPath, 'utf8').split('\n')[Number(/^L(\d+)$/.exec(code.target.fragment)?.[1]) - 1];
      assert.equal(heading, '#### Policy file format', `the link opens the section: ${code.target.toString()}`);
    }
    // The CLI, on the same file: the same messages at the same positions.
    const ext = vscode.extensions.getExtension('script-sandbox.script-sandbox')!;
    const r = spawnSync(process.execPath, [path.join(ext.extensionPath, 'dist', 'cli.js'), 'explain', '--workspace', workspaceUri().fsPath], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    assert.equal(r.status, 2, r.stderr);
    for (const d of all) assert.ok(r.stderr.includes(`${uri.fsPath}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`), `CLI says "${d.message}" at the same place:\n${r.stderr}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(uri.fsPath);
  });

  it('Run Again on a task run repeats it with the task\'s profile', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'sandbox' });
    const task = tasks.find((t) => t.name === 'tool (strict)');
    assert.ok(task, `the task is listed: ${tasks.map((t) => t.name).join(', ')}`);
    const before = sandbox.runs().length;
    await vscode.tasks.executeTask(task);
    await until('the task run finished', async () => sandbox.runs().length > before && sandbox.runs()[0]!.status === 'finished');
    const taskRun = sandbox.runs()[0]!;
    assert.equal(taskRun.policy?.profile, 'strict', 'the task asked for strict');
    const again = await vscode.commands.executeCommand<{ policy?: { profile: string }; runId: string }>('scriptSandbox.runAgain', taskRun.runId);
    assert.ok(again, 'Run Again started a run');
    assert.notEqual(again.runId, taskRun.runId);
    assert.equal(again.policy?.profile, 'strict', 'Run Again keeps the task profile (the user default is moderate)');
  });

  it('the Monitor badge counts runs with violations while the view is hidden, and clears when it is shown', async () => {
    await vscode.commands.executeCommand('workbench.view.explorer');
    const before = sandbox.badge();
    const r = await vscode.commands.executeCommand<{ violations: unknown[] }>('scriptSandbox.runInSandbox', workspaceUri('scripts', 'deploy.sh'));
    assert.ok(r && r.violations.length > 0, 'deploy.sh has a violation');
    await until('the badge counts it', async () => sandbox.badge() === before + 1);
    await vscode.commands.executeCommand('scriptSandbox.monitor.focus');
    await until('the badge cleared', async () => sandbox.badge() === 0);
  });
});
