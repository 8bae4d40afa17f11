// Entry of the suite that runs INSIDE VS Code (extensionTestsPath): under @vscode/test-electron where a
// VS Code can be downloaded (run-electron.ts), and in code-server here (run-code-server.ts). The workspace
// says which suite it is for in `.sandbox-test.json` ({"suite": "trusted" | "restricted"}), because the
// two need different windows (Workspace Trust cannot be changed from the API).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export function run(): Promise<void> {
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!ws) return Promise.reject(new Error('the VS Code suite needs a workspace folder'));
  const marker = path.join(ws, '.sandbox-test.json');
  if (!fs.existsSync(marker)) return Promise.reject(new Error(`${marker} missing: the runner must write it`));
  const { suite } = JSON.parse(fs.readFileSync(marker, 'utf8')) as { suite: string };
  const file = path.join(__dirname, 'suite', `${suite}.test.js`);
  if (!fs.existsSync(file)) return Promise.reject(new Error(`no suite "${suite}" (${file})`));
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.addFile(file);
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
