// Runs the in-VS Code suite (test/vscode/index.ts) inside code-server: the web workbench takes
// extensionDevelopmentPath/extensionTestsPath from its URL, runs the suite in the remote extension host and
// reports through window.codeAutomationLog / codeAutomationExit. Two windows: a trusted workspace and a
// Restricted Mode one. Fails (never skips) when code-server or Chromium cannot be had.
// Usage: node out/test/vscode/run-code-server.js [trusted|restricted|native|multiroot|fake-win32|fake-darwin ...]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import { ensureCodeServer, launchBrowser, processesMatching, REPO, sleep, startCodeServer } from '../e2e/code-server';
import { makeGitScriptRepo, makeWorkspace, withBashrcRestored } from '../e2e/fixtures';
import { makeFakeOsExtension } from './fake-os/extension-dir';

const SUITE_TIMEOUT_MS = 6 * 60_000;
/** The workbench's own start-up chatter, forwarded with the suite's console; not worth a CI log. */
const WORKBENCH_NOISE = /^(Ignoring fetching additional builtin extensions|Updating additional builtin extensions cache|Creating a socket|Resolving connection token|Resolved connection token|\[Service Worker\]|ChatSessionStore)/;

const TASKS_JSON = JSON.stringify(
  {
    version: '2.0.0',
    tasks: [
      { label: 'hello in sandbox', type: 'sandbox', script: 'scripts/hello.sh', profile: 'strict' },
      // tasks.json is the workspace's too: this one tries to switch the sandbox off for its run.
      { label: 'escape task', type: 'sandbox', script: 'scripts/escape.sh', mode: 'disabled', profile: 'permissive' },
    ],
  },
  null,
  2,
);

/** What a repository might ship in its own .vscode/settings.json to switch the sandbox off: every trusted
 *  test runs under it, and the user's settings (mode enforce) must still hold. */
const WORKSPACE_SETTINGS = { 'scriptSandbox.mode': 'disabled', 'scriptSandbox.profile': 'permissive', 'scriptSandbox.filesystem.allowWrite': ['~'] };

/** Files of the "native" suite (menus, policy file, monitor): what a repository typically holds besides scripts. */
const NATIVE_FILES: Record<string, string> = {
  'notes.txt': 'just notes\n',
  'README.md': '# readme\n',
  'tool.py': 'print("tool")\n',
  'bin/tool': '#!/bin/sh\necho tool\n',
  'data.json': '{}\n',
  '.vscode/tasks.json': JSON.stringify({ version: '2.0.0', tasks: [{ label: 'tool (strict)', type: 'sandbox', script: 'bin/tool', profile: 'strict' }] }, null, 2),
};

/**
 * The "multiroot" suite's window: two folders in a .code-workspace. Folder a tightens the profile to strict;
 * folder b tries to switch the sandbox off and loosen the profile (ignored, tighten-only like a workspace),
 * and defines a git-script in its own settings (a file:// repository made here, removed with the root).
 */
function multiRootWorkspace(): { root: string; file: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-vscode-multiroot-'));
  const repo = makeGitScriptRepo();
  fs.renameSync(repo.dir, path.join(root, 'repo'));
  const url = `file://${path.join(root, 'repo', 'tools.git')}`;
  const a = makeWorkspace('multiroot-a', {
    '.sandbox-test.json': JSON.stringify({ suite: 'multiroot' }),
    '.vscode/settings.json': JSON.stringify({ 'scriptSandbox.profile': 'strict' }, null, 2),
  });
  const b = makeWorkspace('multiroot-b', {
    '.vscode/settings.json': JSON.stringify({ 'scriptSandbox.mode': 'disabled', 'scriptSandbox.profile': 'permissive', 'scriptSandbox.gitScripts': [{ name: 'tidy-b', repo: url, ref: 'v1', script: 'bin/tidy.sh' }] }, null, 2),
  });
  fs.renameSync(a, path.join(root, 'a'));
  fs.renameSync(b, path.join(root, 'b'));
  const file = path.join(root, 'multi.code-workspace');
  fs.writeFileSync(file, JSON.stringify({ folders: [{ path: 'a' }, { path: 'b' }], settings: {} }, null, 2));
  return { root, file };
}

/** The "fake-win32" / "fake-darwin" suites: the extension with a host over that OS's fake backend. */
const FAKE_OS_SUITES: Record<string, 'win32' | 'darwin'> = { 'fake-win32': 'win32', 'fake-darwin': 'darwin' };

function workspaceFor(suite: string): string {
  const fake = FAKE_OS_SUITES[suite];
  const extra: Record<string, string> = { '.sandbox-test.json': JSON.stringify(fake ? { suite: 'fake-os', os: fake } : { suite }) };
  if (suite === 'trusted') {
    extra['.vscode/tasks.json'] = TASKS_JSON;
    extra['.vscode/settings.json'] = JSON.stringify(WORKSPACE_SETTINGS, null, 2);
  }
  if (suite === 'native') Object.assign(extra, NATIVE_FILES);
  // What an untrusted repository might ship to switch the sandbox off: Restricted Mode must ignore it.
  if (suite === 'restricted') extra['.vscode/sandbox.json'] = JSON.stringify({ mode: 'disabled', profile: 'permissive' });
  return makeWorkspace(`vscode-${suite}`, extra);
}

async function runSuite(entry: string, suite: string): Promise<number> {
  const multi = suite === 'multiroot' ? multiRootWorkspace() : null;
  const ws = multi ? multi.root : workspaceFor(suite);
  const fake = FAKE_OS_SUITES[suite];
  const extensionDir = fake ? await makeFakeOsExtension(REPO, fake) : REPO;
  const cs = await startCodeServer(entry, { workspace: multi ? multi.file : ws, trust: suite === 'restricted' });
  const browser = await launchBrowser(path.join(cs.runDir, 'chromium'));
  const t0 = Date.now();
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const exit = new Promise<number>((resolve) => {
      // The workbench forwards the extension host's console as printf-style arguments.
      void page.exposeFunction('codeAutomationLog', (_level: string, args: unknown[]) => {
        const line = util.format(...(Array.isArray(args) ? args : [args]));
        if (!WORKBENCH_NOISE.test(line)) process.stdout.write(`${line}\n`);
      });
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionDir)],
      ['extensionTestsPath', remote(path.join(REPO, 'out', 'test', 'vscode', 'index.js'))],
      ['skipWelcome', 'true'],
    ];
    const open = multi ? `workspace=${encodeURIComponent(multi.file)}` : `folder=${encodeURIComponent(ws)}`;
    await page.goto(`${cs.url}?${open}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exit, new Promise<number>((r) => (timer = setTimeout(() => r(-1), SUITE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    process.stdout.write(`\n[${suite}] suite exited with ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    if (code === -1) process.stdout.write(`[${suite}] TIMEOUT; code-server log:\n${cs.log().slice(-4000)}\n`);
    return code;
  } finally {
    await browser.close().catch(() => undefined);
    await cs.stop();
    // Closing the window and stopping the server must take the sandbox host and every run with them.
    await sleep(1000);
    const left = [...processesMatching(ws), ...(fake ? processesMatching(extensionDir) : [])];
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(cs.runDir, { recursive: true, force: true });
    if (left.length) {
      process.stdout.write(`[${suite}] FAIL: processes left behind:\n  ${left.join('\n  ')}\n`);
      process.exitCode = 1;
    }
  }
}

async function main(): Promise<void> {
  const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['trusted', 'restricted', 'native', 'multiroot', ...Object.keys(FAKE_OS_SUITES)];
  let entry: string;
  try {
    entry = ensureCodeServer();
  } catch (e) {
    process.stdout.write(`code-server is not available, so the VS Code suite cannot run: ${(e as Error).message}\n0 passing\n1 failing\n`);
    process.exit(1);
  }
  let failed = 0;
  for (const suite of suites) {
    const code = await withBashrcRestored(() => runSuite(entry, suite));
    if (code !== 0) failed++;
  }
  if (failed) process.exitCode = 1;
}

void main().catch((e) => {
  process.stdout.write(`run-code-server: ${(e as Error).stack ?? e}\n1 failing\n`);
  process.exit(1);
});
