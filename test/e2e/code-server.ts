// Starts code-server (VS Code for the browser, installed by setup-code-server.mjs) and Chromium for the
// VS Code tiers, as ../shared/vscode-e2e.md describes. Everything lives in one run folder, and stop() kills
// code-server's whole process group (its file watcher survives a plain SIGTERM).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CHROMIUM = '/usr/bin/chromium';

/** Installs code-server when missing (idempotent) and returns its entry script; throws when it cannot. */
export function ensureCodeServer(): string {
  const out = execFileSync(process.execPath, [path.join(REPO, 'test', 'e2e', 'setup-code-server.mjs'), '--print-path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const entry = out.trim().split('\n').pop()!;
  if (!fs.existsSync(entry)) throw new Error(`code-server entry ${entry} missing after setup`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing (apt-get install chromium)`);
  return entry;
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  userDataDir: string;
  extensionsDir: string;
  runDir: string;
  log(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  workspace: string;
  /** Leave Workspace Trust on (Restricted Mode for a new folder). */
  trust?: boolean;
  /** A VSIX to install into the extensions dir first. */
  vsix?: string;
  settings?: Record<string, unknown>;
  runDir?: string;
}

export async function startCodeServer(entry: string, opts: StartOptions): Promise<CodeServer> {
  const runDir = opts.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-cs-'));
  const userDataDir = path.join(runDir, 'user-data');
  const extensionsDir = path.join(runDir, 'extensions');
  const config = path.join(runDir, 'config.yaml');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(config, 'auth: none\n');
  writeSettings(userDataDir, { ...BASE_SETTINGS, ...opts.settings });
  const env = {
    ...process.env,
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
    XDG_CONFIG_HOME: path.join(runDir, 'xdg-config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg-data'),
  };
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--config', config];
  if (opts.vsix) {
    execFileSync(process.execPath, [entry, ...common, '--install-extension', opts.vsix], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  }
  const args = [entry, '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check', ...(opts.trust ? [] : ['--disable-workspace-trust']), ...common, opts.workspace];
  const child: ChildProcess = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const onData = (d: Buffer) => {
    log += d.toString();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`code-server did not start within 60 s:\n${log}`)), 60_000);
    const check = () => {
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`code-server exited (${code}) before listening:\n${log}`));
    });
  });
  const pid = child.pid!;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    pid,
    userDataDir,
    extensionsDir,
    runDir,
    log: () => log,
    async stop() {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        return;
      }
      const t0 = Date.now();
      while (Date.now() - t0 < 5000 && alive(-pid)) await sleep(100);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
}

/** Quiet start-up; the DOM terminal renderer, so tests can read the terminal's text (no GPU here). */
export const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.startupPrompt': 'never',
  'terminal.integrated.gpuAcceleration': 'off',
};

export function writeSettings(userDataDir: string, settings: Record<string, unknown>): void {
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function launchBrowser(profileDir: string): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Processes whose command line mentions `needle` (e.g. the workspace path), as "pid cmdline". */
export function processesMatching(needle: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const state = /State:\s+(\w)/.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      if (cmd.includes(needle) && state !== 'Z') out.push(`${d} ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Descendants of a pid (transitively), from /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}
