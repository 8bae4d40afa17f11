// Driving the workbench like a user, for e2e files other than ui.test.ts (which keeps its own copies):
// wait for extensions, Explorer rows, a settled context menu, the command palette, Problems rows.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { REPO, sleep, type CodeServer } from './code-server';

/** Builds the VSIX (npm run package) and returns its path. */
export function packageVsix(): string {
  // This machine's target only (npm run package builds every target and fetches their koffi binaries).
  const target = `${process.platform}-${process.arch}`;
  const out = path.join(REPO, 'out', 'e2e-package');
  fs.rmSync(out, { recursive: true, force: true });
  execFileSync(process.execPath, ['build.mjs'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  execFileSync(process.execPath, ['scripts/package-vsix.mjs', '--out', out, target], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  const vsix = fs.readdirSync(out).filter((f) => /^script-sandbox-.*\.vsix$/.test(f));
  assert.equal(vsix.length, 1, `one VSIX for ${target} in ${out}: ${vsix.join(', ')}`);
  return path.join(out, vsix[0]!);
}

export async function openWorkbench(page: Page, cs: CodeServer, ws: string): Promise<void> {
  await page.goto(`${cs.url}?folder=${encodeURIComponent(ws)}`);
  await waitForWorkbench(page);
}

export async function waitForWorkbench(page: Page): Promise<void> {
  // Menus only gain extension items once extensions are loaded; an open menu never does.
  await page.waitForFunction(() => performance.getEntriesByName('code/didLoadExtensions').length > 0, undefined, { timeout: 60_000 });
  await palette(page, 'View: Show Explorer');
  await page.locator('.explorer-folders-view').waitFor({ timeout: 30_000 });
}

export function explorerRow(page: Page, name: string): Locator {
  return page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);
}

/** Waits until the element has not moved or changed for `ms`. */
export async function settled(l: Locator, ms = 250): Promise<void> {
  let last = '';
  let since = Date.now();
  for (const t0 = Date.now(); Date.now() - t0 < 10_000; await sleep(50)) {
    const box = JSON.stringify(await l.boundingBox());
    const html = await l.innerHTML();
    if (box + html !== last) {
      last = box + html;
      since = Date.now();
    } else if (Date.now() - since >= ms) return;
  }
}

/** The visible item labels of a row's context menu (the menu is closed again). */
export async function contextMenuItems(page: Page, row: Locator): Promise<string[]> {
  await row.waitFor({ timeout: 15_000 });
  await row.click({ button: 'right' });
  const menu = page.locator('.monaco-menu').last();
  await menu.waitFor({ timeout: 10_000 });
  await settled(menu);
  const labels = await menu.locator('[role="menuitem"] .action-label').allInnerTexts();
  await page.keyboard.press('Escape');
  await menu.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  return labels.map((l) => l.trim()).filter(Boolean);
}

/** Right-clicks `row` and chooses the menu item labelled exactly `item`. */
export async function contextMenu(page: Page, row: Locator, item: string): Promise<void> {
  await row.waitFor({ timeout: 15_000 });
  await row.click({ button: 'right' });
  const menu = page.locator('.monaco-menu').last();
  await menu.waitFor({ timeout: 10_000 });
  await settled(menu);
  await menu.locator('[role="menuitem"]').filter({ has: page.locator('.action-label', { hasText: new RegExp(`^${item}$`) }) }).first().click();
}

export async function palette(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('.quick-input-box input');
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name').getByText(title, { exact: true }) });
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press(attempt === 1 ? 'F1' : 'Control+Shift+P');
      await widget.waitFor({ state: 'visible', timeout: 5_000 });
      await input.evaluate((el, v) => {
        const i = el as unknown as { value: string; dispatchEvent(e: Event): boolean };
        i.value = v;
        i.dispatchEvent(new Event('input', { bubbles: true }));
      }, `>${title}`);
      await row.first().waitFor({ state: 'visible', timeout: 5_000 });
      await sleep(200);
      await row.first().click();
      return;
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
}

export async function showProblems(page: Page): Promise<void> {
  if (await page.locator('.markers-panel').isVisible().catch(() => false)) return;
  await palette(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  await page.locator('.markers-panel').waitFor({ timeout: 10_000 });
}

/**
 * Text in the terminal on screen. Terminals that are not shown keep their rows in the page (hidden), so an
 * unqualified match can be an earlier run's terminal: it never becomes visible (a timeout), or it satisfies a
 * check the current run never met.
 */
export function terminalText(page: Page, text: string | RegExp): Locator {
  return page.locator('.xterm-rows:visible', { hasText: text }).first();
}
