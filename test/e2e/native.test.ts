// End to end, like a user, in its own window: "Run in Sandbox" only where it makes sense (the Explorer
// context menu of data files lacks it; scripts, by extension or by #! line, have it).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureCodeServer, launchBrowser, processesMatching, REPO, startCodeServer, type CodeServer } from './code-server';
import { makeWorkspace } from './fixtures';
import { contextMenu, contextMenuItems, explorerRow, openWorkbench, packageVsix, palette, showProblems } from './workbench';

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

  it('after Developer: Reload Window the Monitor still lists the earlier run', async () => {
    await contextMenu(page, explorerRow(page, 'tool.sh'), 'Run in Sandbox');
    await page.locator('.xterm-rows', { hasText: 'exit code' }).first().waitFor({ timeout: 60_000 });
    const monitorRow = async () => {
      const pane = page.locator('.pane', { has: page.locator('.pane-header[aria-label="Sandbox Monitor Section"]') });
      // The activity bar entry toggles the side bar: click it only when the Monitor is not showing.
      if (!(await pane.isVisible().catch(() => false))) await page.locator('.activitybar [aria-label^="Script Sandbox"], .activitybar a[aria-label^="Script Sandbox"]').first().click();
      await pane.locator('.monaco-list-row', { hasText: 'tool.sh' }).first().waitFor({ timeout: 30_000 });
    };
    await monitorRow();
    await Promise.all([page.waitForNavigation({ timeout: 60_000 }), palette(page, 'Developer: Reload Window')]);
    await page.waitForFunction(() => performance.getEntriesByName('code/didLoadExtensions').length > 0, undefined, { timeout: 60_000 });
    await new Promise((r) => setTimeout(r, 2000));
    try {
      await monitorRow();
    } catch (e) {
      const shot = path.join(REPO, '.vscode-test', 'screenshots', 'failed-native-reload.png');
      fs.mkdirSync(path.dirname(shot), { recursive: true });
      await page.screenshot({ path: shot }).catch(() => undefined);
      throw new Error(`${(e as Error).message}\nscreenshot: ${shot}`);
    }
  });

  it('a broken sandbox.json: exactly one Problems row per error at its line, and the CLI prints the same text', async () => {
    const file = path.join(ws, '.vscode', 'sandbox.json');
    fs.writeFileSync(file, '{\n  "mode": "block",\n  "netwrok": {},\n  "limits": { "cpuSeconds": 1.5 }\n}\n');
    await palette(page, 'View: Show Explorer');
    await explorerRow(page, 'sandbox.json').click();
    await showProblems(page);
    const rows = page.locator('.markers-panel .monaco-list-row', { has: page.locator('.marker-message') });
    await page.locator('.markers-panel .marker-message', { hasText: 'netwrok' }).waitFor({ timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 3000)); // VS Code's own JSON check has had its turn too
    const seen: Array<{ message: string; line: string; source: string }> = [];
    for (let i = 0; i < (await rows.count()); i++) {
      const row = rows.nth(i);
      seen.push({ message: (await row.locator('.marker-message').innerText()).trim(), line: (await row.locator('.marker-line').innerText()).trim(), source: (await row.locator('.marker-source').innerText().catch(() => '')).trim() });
    }
    assert.equal(seen.length, 3, `one row per error: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen.map((x) => /Ln (\d+)/.exec(x.line)?.[1]).sort(), ['2', '3', '4']);
    const r = spawnSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'explain', '--workspace', ws], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    for (const x of seen) {
      const line = /Ln (\d+), Col (\d+)/.exec(x.line)!;
      assert.ok(r.stderr.includes(`${file}:${line[1]}:${line[2]}: ${x.message}`), `the CLI says "${x.message}" at ${line[1]}:${line[2]}:\n${r.stderr}`);
    }
  });
});

