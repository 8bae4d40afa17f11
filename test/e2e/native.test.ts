// End to end, like a user, in its own window: "Run in Sandbox" only where it makes sense (the Explorer
// context menu of data files lacks it; scripts, by extension or by #! line, have it); the Monitor survives a
// reload; Run Again on a task run keeps the task's profile; one Problems row per policy-file error, worded
// like the CLI; the walkthrough opens from the Welcome page and its steps complete by doing them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { ensureCodeServer, launchBrowser, processesMatching, REPO, startCodeServer, type CodeServer } from './code-server';
import { makeWorkspace } from './fixtures';
import { contextMenu, contextMenuItems, explorerRow, openWorkbench, packageVsix, palette, settled, showProblems, terminalText } from './workbench';

const FILES: Record<string, string> = {
  'notes.txt': 'just notes\n',
  'README.md': '# readme\n',
  '.vscode/sandbox.json': '{\n  "mode": "enforce"\n}\n',
  'tool.sh': 'echo tool\n',
  'tool.py': 'print("tool")\n',
  // No extension, no x bit: only its #! line makes it a script.
  'tool': '#!/bin/sh\necho tool\n',
  // A sandbox task that tightens the profile (the user's default is moderate).
  '.vscode/tasks.json': JSON.stringify({ version: '2.0.0', tasks: [{ label: 'tool (strict)', type: 'sandbox', script: 'tool.sh', profile: 'strict', problemMatcher: [] }] }, null, 2),
};


/** Picks the row labelled exactly `label` in the open quick pick. */
async function quickPick(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name').getByText(label, { exact: true }) });
  await row.first().waitFor({ state: 'visible', timeout: 15_000 });
  await new Promise((r) => setTimeout(r, 200));
  await row.first().click();
}

/** The Sandbox Monitor pane, shown (the activity bar entry toggles the side bar: clicked only when hidden). */
async function monitorPane(page: Page): Promise<Locator> {
  const pane = page.locator('.pane', { has: page.locator('.pane-header[aria-label="Sandbox Monitor Section"]') });
  if (!(await pane.isVisible().catch(() => false))) await page.locator('.activitybar [aria-label^="Script Sandbox"], .activitybar a[aria-label^="Script Sandbox"]').first().click();
  await pane.waitFor({ timeout: 15_000 });
  return pane;
}

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

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    const file = path.join(REPO, '.vscode-test', 'screenshots', `failed-native-${this.currentTest.title.replace(/[^\w]+/g, '-').slice(0, 60)}.png`);
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
    await terminalText(page, 'exit code').waitFor({ timeout: 60_000 });
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

  it('Run Again on a task run (from the Monitor) uses the task\'s profile, as the new run\'s header shows', async () => {
    await palette(page, 'Tasks: Run Task');
    await quickPick(page, 'tool (strict)');
    // The task's run: its header names the profile and where it came from.
    await terminalText(page, /profile strict \(task, tightened\)/).waitFor({ timeout: 60_000 });
    await terminalText(page, '■ finished').waitFor({ timeout: 60_000 });
    // A plain run of the same script in between: moderate, the user's default.
    await palette(page, 'View: Show Explorer');
    await contextMenu(page, explorerRow(page, 'tool.sh'), 'Run in Sandbox');
    await page.locator('.xterm-rows:visible', { hasText: /profile moderate \(default\)/ }).filter({ hasText: '■ finished' }).first().waitFor({ timeout: 60_000 });
    // Run Again on the task's run, from its row in the Monitor, once the list has stopped changing (a row
    // re-rendered under an open context menu loses the element the menu was opened on).
    const pane = await monitorPane(page);
    await pane.locator('.monaco-list-row[data-index="1"]', { hasText: 'finished' }).waitFor({ timeout: 30_000 });
    await settled(pane.locator('.monaco-list'), 1000);
    // Newest first: the plain run, then the task's run (both are tool.sh; the header below tells them apart).
    // By data-index: a virtualised list's DOM order is not its visual order.
    await contextMenu(page, pane.locator('.monaco-list-row[data-index="1"]', { hasText: 'tool.sh' }), 'Run Again');
    // A new terminal becomes the visible one, and its header says strict, from the task.
    await page.waitForFunction(
      `[...document.querySelectorAll('.xterm-rows')].some((e) => e.offsetParent !== null && /profile strict \\(task, tightened\\)/.test(e.textContent) && !/profile moderate/.test(e.textContent))`,
      undefined,
      { timeout: 60_000 },
    );
    assert.equal(await page.locator('.xterm-rows', { hasText: /profile moderate/ }).count(), 0, 'the visible terminal is the new run\'s, not the plain run\'s');
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

  it('the walkthrough opens from the Welcome page, and each step completes by doing what it says', async () => {
    await palette(page, 'View: Show Explorer');
    await explorerRow(page, 'tool.sh').dblclick(); // a script in the editor, for "Run a first script"
    await palette(page, 'Help: Welcome');
    // VS Code may have opened the walkthrough by itself when the extension was installed: back to the list.
    const back = page.locator('.gettingStartedSlideDetails button.prev-button');
    await page.locator('.gettingStartedContainer').waitFor({ timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    if (await back.isVisible().catch(() => false)) await back.click();
    const walkthrough = page.locator('button.getting-started-category[x-dispatch*="scriptSandbox.gettingStarted"]');
    await page.locator('.gettingStartedSlideCategories').waitFor({ timeout: 15_000 });
    if (!(await walkthrough.isVisible().catch(() => false))) {
      // Only the top few are listed; the rest are one click away ("More…").
      await page.locator('.see-all-walkthroughs, [x-dispatch="seeAllWalkthroughs"]').first().click();
      await quickPick(page, 'Get started with Script Sandbox');
    } else {
      await walkthrough.click();
    }
    const stepButton = (id: string) => page.locator(`button.getting-started-step[data-step-id$="${id}"]`);
    const done = (id: string) => page.locator(`[data-done-step-id$="${id}"]`);
    await stepButton('runFirstScript').waitFor({ timeout: 30_000 });
    const steps: Array<[string, string, () => Promise<void>]> = [
      ['runFirstScript', 'Run Active File in Sandbox', async () => undefined],
      ['readViolation', 'Open Problems', async () => undefined],
      // Switch Mode asks which mode: keep enforce.
      ['switchMode', 'Switch Mode', async () => page.keyboard.press('Escape')],
      ['openAuditLog', 'Open Audit Log', async () => undefined],
    ];
    for (const [id, action, after] of steps) {
      assert.equal(await done(id).getAttribute('aria-checked'), 'false', `${id} not complete before it is done`);
      // Back to the walkthrough (the previous action may have opened an editor or a panel), then the step.
      await palette(page, 'Help: Welcome');
      const walk = page.locator('button.getting-started-category[x-dispatch*="scriptSandbox.gettingStarted"]');
      if (await walk.isVisible().catch(() => false)) await walk.click();
      await stepButton(id).click();
      const link = page.locator(`.step-description-container[x-step-description-for$="${id}"]`).getByText(action, { exact: true });
      await link.waitFor({ timeout: 15_000 });
      await link.click();
      await new Promise((r) => setTimeout(r, 1000));
      await after();
      await page.waitForFunction(`document.querySelector('[data-done-step-id$="${id}"]')?.getAttribute('aria-checked') === 'true'`, undefined, { timeout: 30_000 }).catch(async (e: Error) => {
        await palette(page, 'Help: Welcome');
        if (await walk.isVisible().catch(() => false)) await walk.click();
        if ((await done(id).getAttribute('aria-checked')) !== 'true') throw e;
      });
    }
    for (const [id] of steps) assert.equal(await done(id).getAttribute('aria-checked'), 'true', `${id} complete`);
  });
});
