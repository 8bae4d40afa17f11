// Files you can read in one sitting: no source file under src/, native/ or test/ is over 400 lines. Generated
// syscall tables are data, not code, and are left out.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const MAX_LINES = 400;

const GENERATED = [/^native\/linux\/seccomp\/syscalls-[\w]+\.ts$/];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : sourceFiles(p);
    return /\.(ts|mjs|js)$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

function lineCount(file: string): number {
  const text = fs.readFileSync(file, 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('file length: every source file readable in one sitting', () => {
  const files = ['src', 'native', 'test'].flatMap((d) => sourceFiles(path.join(REPO, d))).map((f) => path.relative(REPO, f).split(path.sep).join('/'));

  it(`no file over ${MAX_LINES} lines (generated syscall tables aside)`, () => {
    assert.ok(files.length > 100, `sanity: the scan sees the sources (${files.length} files)`);
    const long = files
      .filter((f) => !GENERATED.some((g) => g.test(f)))
      .map((f) => ({ f, n: lineCount(path.join(REPO, f)) }))
      .filter(({ n }) => n > MAX_LINES)
      .map(({ f, n }) => `${f}: ${n} lines`);
    assert.deepEqual(long, [], 'split these files by job');
  });
});
