// Installs code-server (VS Code 1.99.3 for the browser, from the npm registry) into .vscode-test/code-server,
// doing by hand what its postinstall would (it refuses root and downloads ripgrep). Idempotent: a marker file
// records a finished install, so a second call takes well under a second. Any failure exits non-zero with
// the step that failed: the VS Code tiers then fail rather than skip.
// Usage: node test/e2e/setup-code-server.mjs [--print-path]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CODE_SERVER_VERSION = '4.99.4';
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const root = path.join(repo, '.vscode-test', 'code-server');
const pkg = path.join(root, 'node_modules', 'code-server');
const marker = path.join(root, '.ready');
const APT_PACKAGES = ['libkrb5-dev', 'ripgrep', 'chromium'];

function run(step, cmd, args, opts = {}) {
  process.stderr.write(`setup-code-server: ${step}\n`);
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...opts });
  } catch (e) {
    if (opts.allowFailure) return false;
    const stderr = e.stderr ? String(e.stderr).split('\n').slice(-15).join('\n') : '';
    throw new Error(`${step} failed (${cmd} ${args.join(' ')}): ${e.message.split('\n')[0]}\n${stderr}`);
  }
  return true;
}

function ensureAptPackages() {
  const missing = APT_PACKAGES.filter((p) => {
    try {
      execFileSync('dpkg', ['-s', p], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (!missing.length) return;
  if (process.getuid?.() !== 0) throw new Error(`apt packages missing and not root to install them: ${missing.join(' ')} (run: apt-get install -y ${missing.join(' ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get update', 'apt-get', ['update', '-q'], { env });
  run(`apt-get install ${missing.join(' ')}`, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
}

function symlink(target, at) {
  fs.rmSync(at, { force: true });
  fs.symlinkSync(target, at);
}

/** The native modules the server loads; each must require() in this Node. */
const NATIVE = ['kerberos', 'native-watchdog', 'node-pty', '@parcel/watcher', '@vscode/spdlog', '@vscode/deviceid'];

function checkNativeModules() {
  const vs = path.join(pkg, 'lib', 'vscode');
  const script = NATIVE.map((m) => `require(${JSON.stringify(m)});`).join('') + `require(${JSON.stringify(path.join(root, 'node_modules', 'argon2'))});`;
  run('check that native modules load', process.execPath, ['-e', script], { cwd: vs });
}

function install() {
  ensureAptPackages();
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'code-server-for-tests', private: true }, null, 2));
  run(`npm install code-server@${CODE_SERVER_VERSION}`, 'npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], { cwd: root });
  const vs = path.join(pkg, 'lib', 'vscode');
  run('npm install (lib/vscode)', 'npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: vs });
  // node-pty's post-build compile_commands step fails after pty.node is built: judged by checkNativeModules.
  run('npm rebuild native modules (lib/vscode)', 'npm', ['rebuild', ...NATIVE], { cwd: vs, allowFailure: true });
  const rgDir = path.join(vs, 'node_modules', '@vscode', 'ripgrep', 'bin');
  fs.mkdirSync(rgDir, { recursive: true });
  fs.copyFileSync('/usr/bin/rg', path.join(rgDir, 'rg'));
  fs.chmodSync(path.join(rgDir, 'rg'), 0o755);
  symlink('node_modules', path.join(vs, 'node_modules.asar'));
  symlink('code-linux.sh', path.join(vs, 'bin', 'remote-cli', 'code-server'));
  symlink('browser-linux.sh', path.join(vs, 'bin', 'helpers', 'browser.sh'));
  run('npm install (lib/vscode/extensions)', 'npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: path.join(vs, 'extensions') });
  run('npm rebuild argon2', 'npm', ['rebuild', 'argon2'], { cwd: root });
  checkNativeModules();
  const version = execFileSync(process.execPath, [path.join(pkg, 'out', 'node', 'entry.js'), '--version'], { encoding: 'utf8' });
  if (!version.includes(CODE_SERVER_VERSION)) throw new Error(`code-server --version printed "${version.trim()}", expected ${CODE_SERVER_VERSION}`);
  fs.writeFileSync(marker, version);
}

export function codeServerEntry() {
  return path.join(pkg, 'out', 'node', 'entry.js');
}

export function ensureCodeServer() {
  const t0 = Date.now();
  if (fs.existsSync(marker) && fs.existsSync(codeServerEntry()) && fs.readFileSync(marker, 'utf8').includes(CODE_SERVER_VERSION)) {
    ensureAptPackages(); // chromium may have been removed since; cheap when present
    return codeServerEntry();
  }
  install();
  process.stderr.write(`setup-code-server: installed in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  return codeServerEntry();
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  try {
    const entry = ensureCodeServer();
    if (process.argv.includes('--print-path')) process.stdout.write(entry + '\n');
  } catch (e) {
    process.stderr.write(`setup-code-server: FAILED: ${e.message}\n`);
    process.exit(1);
  }
}
