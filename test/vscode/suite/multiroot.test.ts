// Inside VS Code, a multi-root workspace (folders a and b, run-code-server.ts): each folder's settings apply
// to the scripts in that folder, and a folder's value may only tighten the user's, like a workspace's.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runScript, type RunJson } from './helpers';

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

describe('Git-scripts in a multi-root workspace', function () {
  this.timeout(180_000);
  // The extension and this suite share one vscode API object (the suite lives in the extension's folder),
  // so these stand in for the user's answers: which entry, which folder, approve the commit.
  const win = vscode.window as { -readonly [K in keyof typeof vscode.window]: (typeof vscode.window)[K] };
  const orig = { showQuickPick: win.showQuickPick, showWarningMessage: win.showWarningMessage, showWorkspaceFolderPick: win.showWorkspaceFolderPick };
  const asked = { entries: [] as string[][], folderPicks: 0 };
  function answer(entry: string, folderName?: string): void {
    win.showQuickPick = (async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
      const list = await items;
      asked.entries.push(list.map((i) => i.label));
      return list.find((i) => i.label === entry);
    }) as unknown as typeof win.showQuickPick;
    win.showWorkspaceFolderPick = (async () => {
      asked.folderPicks++;
      return folderName ? folder(folderName) : undefined;
    }) as unknown as typeof win.showWorkspaceFolderPick;
    win.showWarningMessage = ((message: string, ...rest: unknown[]) => {
      const modal = typeof rest[0] === 'object' && rest[0] !== null && (rest[0] as vscode.MessageOptions).modal;
      if (modal && /git-script/i.test(message)) return Promise.resolve(rest.find((r) => typeof r === 'string' && /^Approve/.test(r)));
      return (orig.showWarningMessage as (m: string, ...r: unknown[]) => Thenable<unknown>)(message, ...rest);
    }) as unknown as typeof win.showWarningMessage;
  }
  afterEach(async () => {
    Object.assign(win, orig);
    asked.entries = [];
    asked.folderPicks = 0;
    await vscode.workspace.getConfiguration('scriptSandbox').update('gitScripts', undefined, vscode.ConfigurationTarget.Global);
  });

  const logOf = (f: string) => fs.readFileSync(path.join(folder(f).uri.fsPath, '.sandbox', 'audit.jsonl'), 'utf8');
  type GitRun = RunJson & { workspace: string; auditPath: string; gitScript?: unknown };

  it('a git-script from folder b\'s settings runs in b (its audit log), without asking for a folder', async () => {
    answer('tidy-b');
    const r = await vscode.commands.executeCommand<GitRun | undefined>('scriptSandbox.runGitScript');
    assert.ok(r, 'the git-script ran');
    assert.ok(asked.entries[0]?.includes('tidy-b'), `offered: ${JSON.stringify(asked.entries)}`);
    assert.equal(asked.folderPicks, 0, 'one folder defines it: nothing asked');
    assert.equal(r.workspace, folder('b').uri.fsPath, 'b is the run\'s workspace, not the first folder');
    assert.ok(r.auditPath.startsWith(folder('b').uri.fsPath + path.sep), r.auditPath);
    assert.ok(logOf('b').includes(`"runId":"${r.runId}"`) && !logOf('a').includes(`"runId":"${r.runId}"`), 'recorded in b\'s log only');

    // Run Again hands the command the definition and the folder it ran in: b again, nothing asked.
    win.showQuickPick = orig.showQuickPick;
    const again = await vscode.commands.executeCommand<GitRun | undefined>('scriptSandbox.runGitScript', r.gitScript, r.workspace);
    assert.equal(again?.workspace, folder('b').uri.fsPath);
    assert.equal(asked.folderPicks, 0);
  });

  it('a user-level git-script with two folders open: one entry, and the workspace folder pick decides where it runs', async () => {
    const b = vscode.workspace.getConfiguration('scriptSandbox', folder('b').uri).inspect<Array<{ repo: string }>>('gitScripts')?.workspaceFolderValue;
    await vscode.workspace.getConfiguration('scriptSandbox').update('gitScripts', [{ name: 'tidy-user', repo: b![0]!.repo, ref: 'v1', script: 'bin/tidy.sh' }], vscode.ConfigurationTarget.Global);
    answer('tidy-user', 'a');
    const r = await vscode.commands.executeCommand<GitRun | undefined>('scriptSandbox.runGitScript');
    assert.ok(r, 'the git-script ran');
    assert.equal(asked.entries[0]?.filter((l) => l === 'tidy-user').length, 1, `one entry for both folders: ${JSON.stringify(asked.entries)}`);
    assert.equal(asked.folderPicks, 1, 'asked which folder');
    assert.equal(r.workspace, folder('a').uri.fsPath, 'runs in the folder picked');
    assert.ok(logOf('a').includes(`"runId":"${r.runId}"`), 'recorded in a\'s log');
    assert.equal(r.policy?.profile, 'strict', 'under a\'s policy (a tightens the profile)');
  });
});
