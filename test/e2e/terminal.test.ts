// End to end, like a user, in the run's terminal: a script asks for a name and the user types it; a Python
// script's first line shows before its sleep ends (a real terminal, so line-buffered); Ctrl+C in the terminal
// stops a long script and the run ends as "stopped". Same code-server + Chromium set-up as ui.test.ts.
import { contextMenu, explorerRow, packageVsix, palette, terminalText } from './workbench';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureCodeServer, launchBrowser, processesMatching, REPO, sleep, startCodeServer, type CodeServer } from './code-server';
import { makeWorkspace } from './fixtures';

const EXTRA = {
  'scripts/slow.py': ['import time', 'print("first line, then a pause")', 'time.sleep(4)', 'print("second line after the pause")', ''].join('\n'),
};

describe('Script Sandbox end to end: runs in a real terminal', function () {
  this.timeout(120_000);
  let cs: CodeServer;
  let browser: BrowserContext;
  let page: Page;
  let ws: string;

  before(async function () {
    this.timeout(300_000);
    const entry = ensureCodeServer();
    const vsix = packageVsix();
    ws = makeWorkspace('e2e-term', EXTRA);
    for (const f of Object.keys(EXTRA)) fs.chmodSync(path.join(ws, f), 0o755);
    cs = await startCodeServer(entry, { workspace: ws, vsix, settings: { 'scriptSandbox.mode': 'enforce' } });
    browser = await launchBrowser(path.join(cs.runDir, 'chromium'));
    page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${cs.url}?folder=${encodeURIComponent(ws)}`);
    await page.waitForFunction(() => performance.getEntriesByName('code/didLoadExtensions').length > 0, undefined, { timeout: 60_000 });
    await palette(page, 'View: Show Explorer');
    await page.locator('.explorer-folders-view').waitFor({ timeout: 30_000 });
    await explorerRow(page, 'scripts').click();
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    const file = path.join(REPO, '.vscode-test', 'screenshots', `failed-terminal-${this.currentTest.title.replace(/[^\w]+/g, '-').slice(0, 60)}.png`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file }).catch(() => undefined);
    console.log(`    screenshot of the failure: ${file}`);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    const left = ws ? processesMatching(ws) : [];
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
    if (cs) fs.rmSync(cs.runDir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no process of the workspace survives the server');
  });

  it('an interactive script asks for a name; typing it in the run\'s terminal gets the greeting back', async () => {
    await contextMenu(page, explorerRow(page, 'greet.sh'), 'Run in Sandbox');
    await terminalText(page, 'What is your name?').waitFor({ timeout: 30_000 });
    await focusTerminal(page);
    await page.keyboard.type('Ada');
    await page.keyboard.press('Enter');
    await terminalText(page, 'Hello, Ada, from the sandbox').waitFor({ timeout: 20_000 });
    await terminalText(page, '■ finished').waitFor({ timeout: 20_000 });
  });

  it('a Python script shows its first line before its sleep ends', async () => {
    await contextMenu(page, explorerRow(page, 'slow.py'), 'Run in Sandbox');
    await terminalText(page, 'first line, then a pause').waitFor({ timeout: 30_000 });
    assert.equal(await terminalText(page, 'second line after the pause').count(), 0, 'the second line is not there yet: the first was not held back until the end');
    await terminalText(page, 'second line after the pause').waitFor({ timeout: 20_000 });
  });

  it('Ctrl+C in the terminal stops a long script and the run ends as "stopped"', async () => {
    await contextMenu(page, explorerRow(page, 'long.sh'), 'Run in Sandbox');
    await terminalText(page, 'working for a while').waitFor({ timeout: 30_000 });
    await sleep(500);
    await focusTerminal(page);
    await page.keyboard.press('Control+C');
    await terminalText(page, '■ stopped').waitFor({ timeout: 20_000 });
    assert.equal(processesMatching(path.join(ws, 'scripts', 'long.sh')).length, 0, 'nothing of the run is left');
  });
});


/** The visible terminal takes the keys (a click on its text area, as a user would). */
async function focusTerminal(page: Page): Promise<void> {
  const t = page.locator('.terminal-wrapper.active .xterm, .terminal-wrapper .xterm').last();
  await t.click();
  await sleep(200);
}





