// The host reaches an OS through one seam (issue 12): native/index.ts is the only reader of process.platform,
// and the host's OS-neutral files (src/host/*.ts) import no per-OS module, native (native/<os>/) or host
// (src/host/<os>/), except the one table that pairs them (bindings.ts) and the files listed below as not yet
// moved behind it. See src/host/engine-parts.ts for the seam itself.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const OSES = ['linux', 'win32', 'darwin'];

/**
 * Top-level host files that still import per-OS code, and why. Each should move under src/host/<os>/ (or lose
 * the import) in a later wave; the test fails when an entry is stale so the list only shrinks.
 */
const NOT_YET_BEHIND_THE_SEAM: Record<string, string> = {
  'bindings.ts': 'the table of host bindings: its job is to name each OS',
  'watchdog.ts': 'shared by the Linux fallback tier and macOS; reads ProcInfo, which should move to a neutral native type',
};

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? tsFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path.join(dir, d.name)] : []));
}

function perOsImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const rel = path.relative(REPO, path.resolve(path.dirname(file), fileName)).split(path.sep).join('/');
    if (OSES.some((o) => rel === `native/${o}` || rel.startsWith(`native/${o}/`) || rel === `src/host/${o}` || rel.startsWith(`src/host/${o}/`))) out.push(rel);
  }
  return out;
}

describe('the backend seam: one platform switch, an OS-neutral host', () => {
  it('process.platform is read only in native/index.ts', () => {
    const readers = [...tsFiles(path.join(REPO, 'src')), ...tsFiles(path.join(REPO, 'native'))]
      .filter((f) => /\bprocess\.platform\b/.test(fs.readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '')))
      .map((f) => path.relative(REPO, f).split(path.sep).join('/'));
    assert.deepEqual(readers, ['native/index.ts']);
  });

  it('src/host/*.ts import no per-OS module (outside the listed, not yet moved files)', () => {
    const hostDir = path.join(REPO, 'src', 'host');
    const top = fs.readdirSync(hostDir).filter((n) => n.endsWith('.ts'));
    const bad = top.filter((n) => !(n in NOT_YET_BEHIND_THE_SEAM)).flatMap((n) => perOsImports(path.join(hostDir, n)).map((t) => `src/host/${n} → ${t}`));
    assert.deepEqual(bad, [], 'put OS-specific host code under src/host/<os>/ and reach it through its binding (bindings.ts)');
    const stale = Object.keys(NOT_YET_BEHIND_THE_SEAM).filter((n) => !top.includes(n) || perOsImports(path.join(hostDir, n)).length === 0);
    assert.deepEqual(stale, [], 'these moved or no longer import per-OS code: take them off the list');
  });

  it('the engine, runner and run session in particular stay OS-neutral', () => {
    for (const n of ['engine.ts', 'engine-parts.ts', 'runner.ts', 'run-session.ts', 'main.ts', 'platform.ts']) {
      assert.deepEqual(perOsImports(path.join(REPO, 'src', 'host', n)), [], n);
      assert.ok(!(n in NOT_YET_BEHIND_THE_SEAM), n);
    }
  });
});

describe('no fake backend in the product', () => {
  it('dist/host.js and dist/cli-main.js hold no fake backend and no switch to one', function () {
    const bundles = ['host.js', 'cli-main.js'].map((b) => path.join(REPO, 'dist', b));
    if (!bundles.every((b) => fs.existsSync(b))) this.skip(); // not built (the unit tier runs after node build.mjs)
    for (const b of bundles) {
      const text = fs.readFileSync(b, 'utf8');
      // The extension-host test's fakes (test/vscode/fake-os) live only in the bundle it makes for itself.
      for (const mark of ['fakeWin32Backend', 'fakeDarwinBackend', 'extension-host test', 'SCRIPT_SANDBOX_FAKE']) assert.ok(!text.includes(mark), `${path.basename(b)} contains "${mark}"`);
    }
  });
});
