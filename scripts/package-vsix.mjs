// `npm run package`: one VSIX per target platform, each with only its own koffi binary. For every target a
// staging folder gets dist/, media/, the manifest and of node_modules only koffi's JavaScript and the one
// @koromix/koffi-<os>-<arch> package folder that target loads (alpine-x64 keeps musl_x64 and drops linux_x64
// from the shared linux-x64 package), then `vsce package --target` runs there. A binary package that is not
// installed here (npm installs only this machine's) is fetched with `npm pack` from the registry.
//
//   node scripts/package-vsix.mjs [--stage-only] [--out DIR] [target ...]     (default: every target)
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** vsce target → the koffi binary package and the folder inside it that this target loads. */
export const TARGETS = Object.freeze({
  'win32-x64': { pkg: '@koromix/koffi-win32-x64', dir: 'win32_x64' },
  'win32-arm64': { pkg: '@koromix/koffi-win32-arm64', dir: 'win32_arm64' },
  'darwin-x64': { pkg: '@koromix/koffi-darwin-x64', dir: 'darwin_x64' },
  'darwin-arm64': { pkg: '@koromix/koffi-darwin-arm64', dir: 'darwin_arm64' },
  'linux-x64': { pkg: '@koromix/koffi-linux-x64', dir: 'linux_x64' },
  'linux-arm64': { pkg: '@koromix/koffi-linux-arm64', dir: 'linux_arm64' },
  'alpine-x64': { pkg: '@koromix/koffi-linux-x64', dir: 'musl_x64' },
});

/** Top-level entries of the repository the VSIX needs (.vscodeignore then trims them). */
const REPO_ENTRIES = ['package.json', '.vscodeignore', 'dist', 'media', 'LICENSE', 'LICENSE.txt', 'README.md'];
/** koffi's own folder minus its C sources and docs: the loader is JavaScript, the binary is in @koromix. */
const KOFFI_SKIP = new Set(['doc', 'vendor', 'lib', 'cnoke.cjs', 'build']);

function koffiVersion() {
  return JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'koffi', 'package.json'), 'utf8')).version;
}

/**
 * Extracts an npm tarball (gzip'd ustar: regular files and folders only) into `dest`. In JavaScript because
 * the `tar` on a Windows runner's PATH may be GNU tar, which reads `D:\\…` as a remote host.
 */
export function untgz(tgz, dest) {
  const buf = zlib.gunzipSync(tgz);
  const str = (off, len) => buf.toString('utf8', off, off + len).replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= buf.length; ) {
    const name = str(off, 100);
    if (!name) break;
    const size = parseInt(str(off + 124, 12).trim() || '0', 8);
    const type = str(off + 156, 1) || '0';
    const prefix = str(off + 345, 155);
    const rel = path.posix.normalize(prefix ? `${prefix}/${name}` : name);
    if (rel.startsWith('..') || path.posix.isAbsolute(rel)) throw new Error(`tarball entry outside the folder: ${rel}`);
    const target = path.join(dest, ...rel.split('/'));
    if (type === '5') fs.mkdirSync(target, { recursive: true });
    else if (type === '0') {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, buf.subarray(off + 512, off + 512 + size));
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
}

/** The binary package's folder: the installed one, or one unpacked from `npm pack` into a cache. */
function binaryPackage(pkg, cache) {
  const installed = path.join(REPO, 'node_modules', pkg);
  if (fs.existsSync(path.join(installed, 'package.json'))) return installed;
  const dest = path.join(cache, pkg.replace('/', '+'));
  if (!fs.existsSync(path.join(dest, 'package', 'package.json'))) {
    fs.mkdirSync(dest, { recursive: true });
    // npm is npm.cmd on Windows, which only a shell can start.
    const win = process.platform === 'win32';
    const out = execFileSync(win ? 'npm.cmd' : 'npm', ['pack', `${pkg}@${koffiVersion()}`, '--silent', '--pack-destination', dest], { cwd: dest, encoding: 'utf8', shell: win }).trim().split('\n').pop().trim();
    untgz(fs.readFileSync(path.join(dest, out)), dest);
  }
  return path.join(dest, 'package');
}

/** Builds the staging folder of one target and returns it. */
export function stage(target, outDir, cache = path.join(os.tmpdir(), 'script-sandbox-koffi-cache')) {
  const t = TARGETS[target];
  if (!t) throw new Error(`unknown target ${target}; one of ${Object.keys(TARGETS).join(', ')}`);
  const dir = path.join(outDir, target);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const e of REPO_ENTRIES) if (fs.existsSync(path.join(REPO, e))) fs.cpSync(path.join(REPO, e), path.join(dir, e), { recursive: true });
  // Only koffi at run time: everything else is bundled into dist/ by esbuild. Its optional binary packages
  // other than this target's are left out of the manifest so `npm list` (vsce) does not look for them.
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  manifest.dependencies = { koffi: manifest.dependencies.koffi };
  delete manifest.devDependencies;
  delete manifest.scripts;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  const koffiSrc = path.join(REPO, 'node_modules', 'koffi');
  const koffiDst = path.join(dir, 'node_modules', 'koffi');
  fs.mkdirSync(koffiDst, { recursive: true });
  for (const e of fs.readdirSync(koffiSrc)) if (!KOFFI_SKIP.has(e)) fs.cpSync(path.join(koffiSrc, e), path.join(koffiDst, e), { recursive: true });
  const km = JSON.parse(fs.readFileSync(path.join(koffiDst, 'package.json'), 'utf8'));
  km.optionalDependencies = { [t.pkg]: km.optionalDependencies[t.pkg] };
  delete km.scripts;
  fs.writeFileSync(path.join(koffiDst, 'package.json'), JSON.stringify(km, null, 2) + '\n');
  // The C sources under src/koffi/src are not needed either; its JavaScript (static.cjs, trampolines.cjs) is:
  // koffi's index requires it at load time.
  const koffiC = path.join(koffiDst, 'src', 'koffi', 'src');
  for (const e of fs.readdirSync(koffiC)) if (!/\.c?js$/.test(e)) fs.rmSync(path.join(koffiC, e), { recursive: true, force: true });
  const binSrc = binaryPackage(t.pkg, cache);
  const binDst = path.join(dir, 'node_modules', t.pkg);
  fs.mkdirSync(binDst, { recursive: true });
  for (const e of fs.readdirSync(binSrc)) {
    const isBinaryDir = fs.statSync(path.join(binSrc, e)).isDirectory();
    if (!isBinaryDir || e === t.dir) fs.cpSync(path.join(binSrc, e), path.join(binDst, e), { recursive: true });
  }
  if (!fs.existsSync(path.join(binDst, t.dir))) throw new Error(`${t.pkg} has no ${t.dir} folder`);
  return dir;
}

/** Every koffi.node below a folder, relative to it. */
export function koffiBinaries(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'koffi.node') out.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

function main(argv) {
  const stageOnly = argv.includes('--stage-only');
  const oi = argv.indexOf('--out');
  const outDir = path.resolve(oi >= 0 ? argv[oi + 1] : path.join(REPO, 'out', 'package'));
  const targets = argv.filter((a, i) => !a.startsWith('--') && !(oi >= 0 && i === oi + 1));
  const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
  const vsce = path.join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce');
  for (const target of targets.length ? targets : Object.keys(TARGETS)) {
    const dir = stage(target, outDir);
    console.log(`${target}: staged ${dir} (${koffiBinaries(dir).join(', ')})`);
    if (stageOnly) continue;
    const vsix = path.join(outDir, `script-sandbox-${target}-${version}.vsix`);
    execFileSync(process.execPath, [vsce, 'package', '--allow-missing-repository', '--no-update-package-json', '--readme-path', 'media/README-vsix.md', '--target', target, '--out', vsix], { cwd: dir, stdio: 'inherit' });
    console.log(`${target}: ${vsix}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
