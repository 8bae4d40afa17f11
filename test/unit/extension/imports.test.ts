// House rule 8: the extension never imports koffi or anything under native/ (they load a native library
// into VS Code's extension host), and the host and launcher never import vscode. Checked transitively over
// the TypeScript sources, following relative imports, plus the built bundle.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveLocal(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  return null;
}

/** Every module reachable from `entry`: local files as paths, packages by name; with one import chain each. */
function closure(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = entries.map((e) => ({ file: e, chain: [path.relative(REPO, e)] }));
  for (const e of queue) seen.set(e.file, e.chain);
  while (queue.length) {
    const { file, chain } = queue.shift()!;
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) {
        const target = resolveLocal(file, spec);
        assert.ok(target, `${path.relative(REPO, file)} imports "${spec}", which does not resolve`);
        if (!seen.has(target)) {
          const c = [...chain, path.relative(REPO, target)];
          seen.set(target, c);
          queue.push({ file: target, chain: c });
        }
      } else if (!seen.has(spec)) seen.set(spec, [...chain, spec]);
    }
  }
  return seen;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? tsFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

const forbiddenForExtension = (m: string) => m === 'koffi' || m.startsWith('koffi/') || m.startsWith(path.join(REPO, 'native') + path.sep);

describe('import rules (house rule 8)', () => {
  it('src/extension/** reaches neither koffi nor native/, transitively', () => {
    const reached = closure(tsFiles(path.join(REPO, 'src', 'extension')));
    const bad = [...reached].filter(([m]) => forbiddenForExtension(m)).map(([, chain]) => chain.join(' → '));
    assert.deepEqual(bad, []);
    assert.ok(reached.has('vscode'), 'sanity: the scan does see the extension\'s imports');
  });

  it('the host and launcher never import vscode, transitively', () => {
    const reached = closure([path.join(REPO, 'src', 'host', 'main.ts'), path.join(REPO, 'src', 'launcher', 'main.ts')]);
    const bad = [...reached].filter(([m]) => m === 'vscode' || m.startsWith(path.join(REPO, 'src', 'extension') + path.sep)).map(([, chain]) => chain.join(' → '));
    assert.deepEqual(bad, []);
  });

  it('the built extension bundle does not load koffi', () => {
    const bundle = path.join(REPO, 'dist', 'extension.js');
    assert.ok(fs.existsSync(bundle), `${bundle} missing: run node build.mjs (npm test does)`);
    assert.doesNotMatch(fs.readFileSync(bundle, 'utf8'), /require\(["']koffi["']\)/);
  });
});
