// Inside VS Code: a run's terminal is a real pseudo-terminal. Keys sent to the run's vscode.Terminal reach
// the script's stdin through the host's pty (sendText goes to the Pseudoterminal's handleInput, as typing
// does); Ctrl+C there stops a long script and the run counts as stopped. Registered by trusted.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { api, runScript, waitFor, workspaceUri, type Api } from './helpers';

/** The terminal a run opens: a new one (the previous run's terminal of the same script is disposed). */
function newRunTerminal(name: string, before: readonly vscode.Terminal[]): Promise<vscode.Terminal> {
  return waitFor(`terminal ${name}`, () => vscode.window.terminals.find((t) => t.name === `Sandbox: ${name}` && !before.includes(t) && t.exitStatus === undefined), 20_000);
}

export function registerTerminalRuns(): void {
describe('Script Sandbox in VS Code: runs in a real terminal', function () {
  this.timeout(60_000);
  let sandbox: Api;
  before(async () => {
    sandbox = await api();
  });

  it('typing a name in the run\'s terminal reaches the script', async () => {
    const out = workspaceUri('scripts', 'greeted.txt').fsPath;
    fs.rmSync(out, { force: true });
    const before = [...vscode.window.terminals];
    const pending = runScript(workspaceUri('scripts', 'greet.sh'));
    const terminal = await newRunTerminal('greet.sh', before);
    await waitFor('greet.sh running', () => sandbox.runs().find((r) => r.status === 'running' && (r as unknown as { script: string }).script.endsWith('greet.sh')), 20_000);
    terminal.sendText('Ada', true);
    const r = await pending;
    assert.equal(r.exitCode, 0, JSON.stringify(r));
    assert.equal(fs.readFileSync(out, 'utf8').trim(), 'Ada');
  });

  it('Ctrl+C in the run\'s terminal stops a long script; the run ends by SIGINT', async () => {
    const before = [...vscode.window.terminals];
    const pending = runScript(workspaceUri('scripts', 'long.sh'));
    const terminal = await newRunTerminal('long.sh', before);
    const run = await waitFor('long.sh running', () => sandbox.runs().find((r) => r.status === 'running' && (r as unknown as { script: string }).script.endsWith('long.sh')), 20_000);
    const pid = (run as unknown as { pid: number }).pid;
    // The script has printed its line once it is exec'd and past the prompt-less start.
    await new Promise((res) => setTimeout(res, 500));
    terminal.sendText('\x03', false);
    const r = await pending;
    assert.ok((r as unknown as { signal: string | null }).signal === 'SIGINT' || r.exitCode === 130, JSON.stringify(r));
    await waitFor(`pid ${pid} gone`, () => !fs.existsSync(`/proc/${pid}`), 5000);
  });
});
}
