// The extension on another OS's code path (issue 12): this window's extension forks a sandbox host whose
// backend is a fake Windows or macOS one (test/vscode/fake-os), so the host runs that OS's engine binding and
// host platform. The extension must activate as on Linux and show that backend's capability report.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FAKE_MARK, fakeReport, type FakeOs } from '../fake-os/backends';
import { api } from './helpers';

function fakeOs(): FakeOs {
  const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const { os } = JSON.parse(fs.readFileSync(path.join(ws, '.sandbox-test.json'), 'utf8')) as { os: FakeOs };
  return os;
}

async function capabilitiesPage(): Promise<string> {
  await vscode.commands.executeCommand('scriptSandbox.showCapabilities');
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse('script-sandbox:/capabilities.md'));
  return doc.getText();
}

describe('the extension over a fake Windows/macOS backend', function () {
  this.timeout(60_000);

  it('activates and its host starts on that OS\'s code path', async () => {
    const a = await api();
    await capabilitiesPage(); // the first request starts the host
    assert.ok(a.hostPid(), 'the sandbox host is running');
  });

  it('shows that backend\'s capability report', async () => {
    const os = fakeOs();
    const report = fakeReport(os);
    const text = await capabilitiesPage();
    assert.ok(text.includes(`Platform **${report.platform} ${report.arch}**, kernel ${report.kernel}.`), text);
    assert.ok(text.includes('**Enforce mode: possible.**'), text);
    assert.ok(text.includes(`Tree limits (memory, processes): **${report.treeLimits}**.`), text);
    const [kept, missing] = report.capabilities;
    assert.ok(text.includes(`| ✅ | **${kept!.name}** (needed for enforce) | ${FAKE_MARK} |`), text);
    assert.ok(text.includes(`| ❌ | **${missing!.name}** | ${FAKE_MARK}: not probed | nothing to fix: this is a test |`), text);
    assert.ok(!/linux|Landlock|seccomp/i.test(text), `nothing of this machine's own backend shows:\n${text}`);
  });
});
