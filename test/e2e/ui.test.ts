// End to end, like a user: code-server with the packaged VSIX installed offline, driven by Playwright in
// Chromium. Right-click a script → Run in Sandbox → Problems; the Sandbox Monitor; warn mode from settings;
// an invalid workspace policy; and nothing left running after the extension is disabled or the window goes.
// Screenshots of the key states go to media/.
import { contextMenu, explorerRow, openWorkbench, packageVsix, showProblems, terminalText } from './workbench';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { descendants, ensureCodeServer, launchBrowser, processesMatching, REPO, sleep, startCodeServer, type CodeServer } from './code-server';
import { GIT_SCRIPT_VIOLATION_LINE, makeGitScriptRepo, makeWorkspace, VIOLATION_LINES } from './fixtures';

// Tests do not rewrite tracked files unless asked: screenshots go to .vscode-test/ by default.
const MEDIA = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(REPO, 'media') : path.join(REPO, '.vscode-test', 'screenshots');

describe('Script Sandbox end to end (code-server + Chromium)', function () {
  this.timeout(120_000);
  let cs: CodeServer;
  let browser: BrowserContext;
  let page: Page;
  let ws: string;
  let bashrc: Buffer | null;
  let gitRepo: { url: string; dir: string } | undefined;
  const rc = path.join(os.homedir(), '.bashrc');

  before(async function () {
    this.timeout(300_000);
    bashrc = fs.existsSync(rc) ? fs.readFileSync(rc) : null;
    const entry = ensureCodeServer();
    const vsix = packageVsix();
    ws = makeWorkspace('e2e');
    gitRepo = makeGitScriptRepo();
    cs = await startCodeServer(entry, {
      workspace: ws,
      vsix,
      settings: { 'scriptSandbox.mode': 'enforce', 'scriptSandbox.gitScripts': [{ name: 'tidy-tools', repo: gitRepo.url, ref: 'v1', script: 'bin/tidy.sh' }] },
    });
    const installed = fs.readdirSync(cs.extensionsDir).filter((d) => d.startsWith('script-sandbox.script-sandbox-'));
    assert.equal(installed.length, 1, `the VSIX installed offline into ${cs.extensionsDir}`);
    browser = await launchBrowser(path.join(cs.runDir, 'chromium'));
    page = browser.pages()[0] ?? (await browser.newPage());
    await openWorkbench(page, cs, ws);
  });

  // A failing step leaves what the window showed (notifications included) for whoever reads the log.
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    const file = path.join(REPO, '.vscode-test', 'screenshots', `failed-${this.currentTest.title.replace(/[^\w]+/g, '-').slice(0, 60)}.png`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file }).catch(() => undefined);
    console.log(`    screenshot of the failure: ${file}`);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    if (bashrc) fs.writeFileSync(rc, bashrc);
    else fs.rmSync(rc, { force: true });
    const left = ws ? processesMatching(ws) : [];
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
    if (gitRepo) fs.rmSync(gitRepo.dir, { recursive: true, force: true });
    if (cs) fs.rmSync(cs.runDir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no process of the workspace survives the server');
  });

  it('Run in Sandbox from the Explorer puts the violation in Problems at the right line', async () => {
    await explorerRow(page, 'scripts').click();
    await contextMenu(page, explorerRow(page, 'deploy.sh'), 'Run in Sandbox');
    const terminal = page.locator('.terminal-wrapper, .xterm').first();
    await terminal.waitFor({ timeout: 20_000 });
    await terminalText(page, 'BLOCKED').waitFor({ timeout: 30_000 });
    await terminalText(page, 'exit code').waitFor({ timeout: 30_000 });
    await shot(page, 'terminal-run.png');

    await showProblems(page);
    const row = problemRow(page, '.bashrc');
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await row.locator('.marker-icon.error').count(), 1, 'an error (blocked)');
    assert.match(await row.locator('.marker-source').innerText(), /sandbox/);
    assert.match(await row.locator('.marker-line').innerText(), new RegExp(`Ln ${VIOLATION_LINES['deploy.sh']},`));
    await shot(page, 'problems-violation.png', true);
  });

  it('the Sandbox Monitor shows the run with its violation', async () => {
    await page.locator('.activitybar [aria-label^="Script Sandbox"], .activitybar a[aria-label^="Script Sandbox"]').first().click();
    const pane = page.locator('.pane', { has: page.locator('.pane-header[aria-label="Sandbox Monitor Section"]') });
    await pane.waitFor({ timeout: 15_000 });
    const run = pane.locator('.monaco-list-row', { hasText: 'deploy.sh' }).first();
    await run.waitFor({ timeout: 15_000 });
    assert.match(await run.innerText(), /1 violation/);
    if ((await run.getAttribute('aria-expanded')) !== 'true') await run.click();
    await pane.locator('.monaco-list-row', { hasText: 'Violations (1)' }).waitFor({ timeout: 10_000 });
    await pane.locator('.monaco-list-row', { hasText: '.bashrc' }).first().waitFor({ timeout: 10_000 });
    await shot(page, 'monitor.png');
  });

  it('switching mode to warn in settings makes the next run finish with warnings instead of blocks', async () => {
    // In the Settings UI, as a user would (code-server does not watch settings.json for outside edits).
    await palette(page, 'Preferences: Open Settings (UI)');
    await page.locator('.settings-editor').waitFor({ timeout: 15_000 });
    await sleep(500);
    await page.keyboard.type('scriptSandbox.mode');
    const select = page.locator('.settings-editor select[aria-label="scriptSandbox.mode"]');
    await select.waitFor({ timeout: 15_000 });
    await sleep(300);
    await select.click();
    await page.locator('.select-box-dropdown-list-container .monaco-list-row', { hasText: /^warn/ }).first().click();
    await page.locator('.statusbar-item', { hasText: 'Sandbox: warn (user)' }).waitFor({ timeout: 15_000 });
    await shot(page, 'settings-mode.png');
    await page.keyboard.press('Control+W'); // close the Settings editor
    await palette(page, 'View: Show Explorer');
    await contextMenu(page, explorerRow(page, 'deploy.sh'), 'Run in Sandbox');
    await terminalText(page, 'WARNED').waitFor({ timeout: 30_000 });
    await terminalText(page, 'exit code 0').waitFor({ timeout: 30_000 });
    await showProblems(page);
    const row = problemRow(page, '.bashrc');
    await row.locator('.marker-icon.warning').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('.markers-panel .monaco-list-row .marker-icon.error').count(), 0, 'no blocked (error) diagnostics in warn');
    await shot(page, 'warn-mode.png');
  });

  it('an invalid .vscode/sandbox.json shows an error in Problems', async () => {
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.vscode', 'sandbox.json'), '{\n  "mode": "block",\n  "network": { "preset": "default" }\n}\n');
    try {
      await palette(page, 'Go to File...', 'sandbox.json');
      // VS Code's own JSON-schema check may list a warning for the same key: take the sandbox's row.
      const row = page
        .locator('.markers-panel .monaco-list-row', { has: page.locator('.marker-message', { hasText: 'mode' }) })
        .filter({ has: page.locator('.marker-source', { hasText: 'sandbox' }) })
        .first();
      await showProblems(page);
      await row.waitFor({ timeout: 15_000 });
      // The list re-renders when VS Code's own JSON check reports: wait on the row's parts, not a snapshot.
      await row.locator('.marker-icon.error').waitFor({ timeout: 10_000 });
      assert.match(await row.locator('.marker-line').innerText({ timeout: 10_000 }), /Ln 2, Col 3/);
      await shot(page, 'policy-error.png');
    } finally {
      await palette(page, 'View: Close All Editors');
      fs.rmSync(path.join(ws, '.vscode', 'sandbox.json'), { force: true });
    }
  });

  it('a workspace policy that loosens the user\'s asks once, then applies', async () => {
    // The user enforces; the workspace asks for warn. Approval is stored for this content of the file.
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.vscode', 'sandbox.json'), '{ "mode": "warn" }\n');
    await palette(page, 'Preferences: Open Settings (UI)');
    await page.keyboard.type('scriptSandbox.mode');
    const select = page.locator('.settings-editor select[aria-label="scriptSandbox.mode"]');
    await select.waitFor({ timeout: 15_000 });
    await sleep(300);
    await select.click();
    await page.locator('.select-box-dropdown-list-container .monaco-list-row', { hasText: /^enforce/ }).first().click();
    await page.locator('.statusbar-item', { hasText: /Sandbox: enforce \((user|default)\)/ }).waitFor({ timeout: 15_000 });
    await page.keyboard.press('Control+W');
    await palette(page, 'View: Show Explorer');
    try {
      await contextMenu(page, explorerRow(page, 'deploy.sh'), 'Run in Sandbox');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 15_000 });
      assert.match(await dialog.innerText(), /loosens your sandbox policy[\s\S]*mode \(enforce → warn\)/);
      await shot(page, 'loosening-approval.png', true);
      await dialog.locator('.monaco-button', { hasText: 'Allow for This Workspace' }).click();
      await terminalText(page, 'Loosening approved').waitFor({ timeout: 15_000 });
      await terminalText(page, 'WARNED').waitFor({ timeout: 30_000 });
      // Approved once: the next run does not ask again.
      await contextMenu(page, explorerRow(page, 'deploy.sh'), 'Run in Sandbox');
      await terminalText(page, 'approved').waitFor({ timeout: 30_000 });
      assert.equal(await dialog.count(), 0, 'no second approval dialog');
    } finally {
      fs.rmSync(path.join(ws, '.vscode', 'sandbox.json'), { force: true });
    }
  });

  it('a git-script from the command palette: fetched, approved, run read-only, its violation in Problems', async () => {
    await palette(page, 'Script Sandbox: Run Git Script in Sandbox');
    const item = page.locator('.quick-input-list .monaco-list-row', { hasText: 'tidy-tools' }).first();
    await item.waitFor({ timeout: 15_000 });
    await item.click();
    // First run of this commit: the approval names the commit and the policy it will get.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    assert.match(await dialog.innerText(), /tidy-tools[\s\S]*[0-9a-f]{12}/);
    await shot(page, 'git-script-approval.png', true);
    await dialog.locator('.monaco-button', { hasText: 'Approve and Run' }).click();
    await terminalText(page, 'BLOCKED').waitFor({ timeout: 30_000 });
    await terminalText(page, 'tidy finished').waitFor({ timeout: 30_000 });
    await showProblems(page);
    const row = problemRow(page, 'tidy.sh');
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await row.locator('.marker-icon.error').count(), 1, 'an error (blocked)');
    assert.match(await row.locator('.marker-line').innerText(), new RegExp(`Ln ${GIT_SCRIPT_VIOLATION_LINE},`));
    await shot(page, 'git-script-violation.png', true);
  });

  it('closing the window leaves no host, launcher or script behind', async () => {
    await palette(page, 'View: Show Explorer');
    await contextMenu(page, explorerRow(page, 'long.sh'), 'Run in Sandbox');
    const tree = await waitForRunTree(cs, 'long.sh');
    await page.close();
    await assertAllGone(tree, 'after the window closed');
  });

  it('disabling the extension leaves no host, launcher or script behind', async () => {
    // A new window on the same server: the extension host of the closed one is gone.
    page = await browser.newPage();
    await openWorkbench(page, cs, ws);
    await contextMenu(page, explorerRow(page, 'long.sh'), 'Run in Sandbox');
    const tree = await waitForRunTree(cs, 'long.sh');
    await palette(page, 'Extensions: Disable All Installed Extensions');
    // code-server applies a disable on reload: the Extensions view offers "Reload Window" on the extension.
    await palette(page, 'View: Show Extensions');
    const reloaded = page.waitForEvent('load', { timeout: 60_000 });
    await page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'Script Sandbox' }).locator('.action-label', { hasText: 'Reload Window' }).first().click({ timeout: 15_000 });
    await assertAllGone(tree, 'after disabling the extension');
    await reloaded;
  });
});







async function palette(page: Page, title: string, filter?: string): Promise<void> {
  if (filter) {
    // Quick open (files): type the name, take the first match.
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await setInput(input, filter);
    await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
    await sleep(300);
    await page.keyboard.press('Enter');
    return;
  }
  // The command palette sometimes opens behind a closing menu or a terminal that kept the key: retry
  // from a clean state instead of waiting on a row that never becomes visible.
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('.quick-input-box input');
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name').getByText(title, { exact: true }) });
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press(attempt === 1 ? 'F1' : 'Control+Shift+P');
      await widget.waitFor({ state: 'visible', timeout: 5_000 });
      await setInput(input, `>${title}`);
      await row.first().click({ timeout: 5_000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

/**
 * Sets a quick input's text on the element itself. Typing (or Playwright's fill) goes to whatever has focus,
 * and when the widget closes under it the text lands in an open editor, which auto-save then writes.
 */
async function setInput(input: Locator, text: string): Promise<void> {
  await input.waitFor({ state: 'visible', timeout: 5_000 });
  await input.evaluate((el, v) => {
    const i = el as unknown as { value: string; dispatchEvent(e: Event): boolean };
    i.value = v;
    i.dispatchEvent(new Event('input', { bubbles: true }));
  }, text);
}


function problemRow(page: Page, text: string): Locator {
  return page.locator('.markers-panel .monaco-list-row', { has: page.locator('.marker-message', { hasText: text }) }).first();
}

/** A screenshot (into media/ with UPDATE_SCREENSHOTS=1); toasts are cleared first unless they are the point. */
async function shot(page: Page, name: string, keepNotifications = false): Promise<void> {
  if (!keepNotifications) await palette(page, 'Notifications: Clear All Notifications');
  await sleep(300);
  await page.screenshot({ path: path.join(MEDIA, name) });
}

/** The sandbox host of this server (by its path in the extensions dir) and everything under it. */
async function waitForRunTree(cs: CodeServer, script: string): Promise<number[]> {
  const t0 = Date.now();
  for (;;) {
    const hosts = processesMatching(path.join(cs.extensionsDir)).filter((l) => l.includes('dist/host.js'));
    // Every host of this server: an earlier window's host may still be shutting down.
    for (const line of hosts) {
      const host = Number(line.trim().split(' ')[0]);
      const tree = [host, ...descendants(host)];
      const cmds = tree.map((p) => cmdline(p));
      if (cmds.some((c) => c.includes(script)) && cmds.some((c) => c.startsWith('sleep'))) return tree;
    }
    if (Date.now() - t0 > 30_000) throw new Error(`no sandbox host running ${script} after 30 s: ${JSON.stringify(hosts)}`);
    await sleep(200);
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

async function assertAllGone(pids: number[], when: string): Promise<void> {
  const t0 = Date.now();
  let alive: string[] = [];
  while (Date.now() - t0 < 15_000) {
    alive = pids.filter((p) => cmdline(p) !== '').map((p) => `${p} ${cmdline(p)}`);
    if (!alive.length) return;
    await sleep(200);
  }
  assert.fail(`processes still running ${when}:\n  ${alive.join('\n  ')}`);
}
