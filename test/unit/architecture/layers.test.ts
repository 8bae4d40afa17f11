// The dependency order of the source folders, stated once and checked over every import (static, type-only,
// re-export, require and dynamic import) of every file under src/ and native/:
//
//   errors ← policy ← protocol ← native ← audit ← gitscript ← host, launcher ← cli, extension
//
// A file may import its own folder's files and files of lower layers; folders of one layer (host and
// launcher, cli and extension) do not import each other. native/ is one layer: its top files are the backend
// contract and the one platform switch over the per-OS folders below it. No cycle between files anywhere.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

/** Lowest first. Each entry is a layer; a layer is one or more sibling folders. */
export const LAYERS: readonly (readonly string[])[] = [
  ['src/errors'],
  ['src/policy'],
  ['src/protocol'],
  ['native'],
  ['src/audit'],
  ['src/gitscript'],
  ['src/host', 'src/launcher'],
  ['src/cli', 'src/extension'],
];

/** The order as one line, as the README and this file's header state it. */
export function layerLine(): string {
  return LAYERS.map((l) => l.map((f) => path.basename(f)).join(', ')).join(' ← ');
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? tsFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path.join(dir, d.name)] : []));
}

function resolveLocal(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  return null;
}

/** The folder (relative to the repository) that places a file in a layer, and the layer's index. */
function placeOf(file: string): { folder: string; layer: number } | null {
  const rel = path.relative(REPO, file).split(path.sep).join('/');
  for (let i = 0; i < LAYERS.length; i++) for (const f of LAYERS[i]!) if (rel.startsWith(`${f}/`)) return { folder: f, layer: i };
  return null;
}

/** Every file and the local files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...tsFiles(path.join(REPO, 'src')), ...tsFiles(path.join(REPO, 'native'))]) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets: string[] = [];
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const t = resolveLocal(file, fileName);
      assert.ok(t, `${path.relative(REPO, file)} imports "${fileName}", which does not resolve`);
      targets.push(t);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): the cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(path.relative(REPO, w));
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('layers: the import graph follows one order', () => {
  const graph = importGraph();

  it('states the order in one line', () => {
    assert.equal(layerLine(), 'errors ← policy ← protocol ← native ← audit ← gitscript ← host, launcher ← cli, extension');
    const header = fs.readFileSync(path.join(REPO, 'test', 'unit', 'architecture', 'layers.test.ts'), 'utf8');
    assert.ok(header.includes(`//   ${layerLine()}\n`), 'the header of this file states the same order');
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    assert.ok(readme.includes(`    ${layerLine()}\n`), 'the README\'s "How it works" states the same order');
  });

  it('every source file sits in a layer', () => {
    const homeless = [...graph.keys()].filter((f) => !placeOf(f)).map((f) => path.relative(REPO, f));
    assert.deepEqual(homeless, [], 'place the new folder in LAYERS');
    assert.ok(graph.size > 100, `sanity: the scan sees the sources (${graph.size} files)`);
  });

  it('no import goes up a layer or sideways to a sibling folder', () => {
    const bad: string[] = [];
    for (const [file, targets] of graph) {
      const from = placeOf(file)!;
      for (const t of targets) {
        const to = placeOf(t);
        if (!to || to.folder === from.folder) continue;
        if (to.layer >= from.layer) bad.push(`${path.relative(REPO, file)} → ${path.relative(REPO, t)} (${from.folder} may not import ${to.folder})`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('no cycle between files', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('the checks themselves catch an upward import and a cycle', () => {
    const a = path.join(REPO, 'src', 'policy', 'a.ts');
    const b = path.join(REPO, 'src', 'policy', 'b.ts');
    assert.deepEqual(cycles(new Map([[a, [b]], [b, [a]]])), [['src/policy/a.ts', 'src/policy/b.ts']]);
    assert.ok(placeOf(path.join(REPO, 'src', 'host', 'x.ts'))!.layer > placeOf(a)!.layer);
    assert.equal(placeOf(path.join(REPO, 'src', 'nowhere', 'x.ts')), null);
  });
});
