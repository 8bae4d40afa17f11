// End to end, like a user, in its own window: "Run in Sandbox" only where it makes sense (the Explorer
// context menu of data files lacks it; scripts, by extension or by #! line, have it).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureCodeServer, launchBrowser, processesMatching, startCodeServer, type CodeServer } from './code-server';
import { makeWorkspace } from './fixtures';
import { contextMenuItems, explorerRow, openWorkbench, packageVsix, palette } from './workbench';

const FILES: Record<string, string> = {
  'notes.txt': 'just notes\n',
  'README.md': '# readme\n',
  '.vscode/sandbox.json': '{\n  "mode": "enforce"\n}\n',
  'tool.sh': 'echo tool\n',
  'tool.py': 'print("tool")\n',
  // No extension, no x bit: only its #! line makes it a script.
  'tool': '#!/bin/sh\necho tool\n',
};

describe('Script Sandbox feels native (code-server + Chromium)', function () {
  this.timeout(120_000);
  let cs: CodeServer;
  let browser: BrowserContext;
  let page: Page;
  let ws: string;

  before(async function () {
    this.timeout(300_000);
    const entry = ensureCodeServer();
    const vsix = packageVsix();
    ws = makeWorkspace('e2e-native', FILES);
    cs = await startCodeServer(entry, { workspace: ws, vsix, settings: { 'scriptSandbox.mode': 'enforce' } });
    browser = await launchBrowser(path.join(cs.runDir, 'chromium'));
    page = browser.pages()[0] ?? (await browser.newPage());
    await openWorkbench(page, cs, ws);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    const left = ws ? processesMatching(ws) : [];
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
    if (cs) fs.rmSync(cs.runDir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no process of the workspace survives the server');
  });

  it('the Explorer context menu has Run in Sandbox on tool.sh, tool.py and an extension-less #! file, not on notes.txt, README.md, sandbox.json', async () => {
    await palette(page, 'View: Show Explorer');
    // The extension activates after start-up and publishes the runnable-files key after its first scan.
    const menuOf = async (name: string) => (await contextMenuItems(page, explorerRow(page, name))).includes('Run in Sandbox');
    const t0 = Date.now();
    while (!(await menuOf('tool')) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 500));
    for (const name of ['tool.sh', 'tool.py', 'tool']) assert.equal(await menuOf(name), true, `${name} has Run in Sandbox`);
    for (const name of ['notes.txt', 'README.md']) assert.equal(await menuOf(name), false, `${name} has no Run in Sandbox`);
    await explorerRow(page, '.vscode').click();
    assert.equal(await menuOf('sandbox.json'), false, 'sandbox.json has no Run in Sandbox');
  });
});
