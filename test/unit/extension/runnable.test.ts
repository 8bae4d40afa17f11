// Which files get "Run in Sandbox": the pure rules, the package.json `when` clauses (evaluated here the way
// VS Code evaluates them), and the interpreter a file without a `#!` line gets.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEFAULT_LANGUAGE_INTERPRETERS,
  interpreterOverrides,
  runMenuWhen,
  runnableByContent,
  runnableByName,
  RUNNABLE_CONTEXT_KEY,
} from '../../../src/extension/runnable-rules';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

/** The three alternatives of the clause, evaluated for a resource (a small evaluator for exactly this shape). */
function menuShows(when: string, r: { path: string; langId: string; runnable?: string[]; folder?: boolean }): boolean {
  const m = /^resourceScheme == file( && !explorerResourceIsFolder)? && \(resourceLangId =~ \/(.+?)\/ \|\| resourceExtname =~ \/(.+?)\/(i?) \|\| resourcePath in ([\w.]+)\)$/.exec(when);
  assert.ok(m, `unexpected when clause shape: ${when}`);
  if (m[1] && r.folder) return false;
  assert.equal(m[5], RUNNABLE_CONTEXT_KEY);
  const ext = path.extname(r.path);
  return new RegExp(m[2]!).test(r.langId) || new RegExp(m[3]!, m[4]).test(ext) || (r.runnable ?? []).includes(r.path);
}

describe('extension: Run in Sandbox only on runnable files', () => {
  it('package.json menus use the clause the rules generate', () => {
    const menus = pkg.contributes.menus;
    const find = (menu: string) => menus[menu].find((x: { command: string }) => x.command === 'scriptSandbox.runInSandbox').when;
    assert.equal(find('explorer/context'), runMenuWhen(' && !explorerResourceIsFolder'));
    for (const m of ['editor/title/run', 'editor/context', 'commandPalette']) assert.equal(find(m), runMenuWhen(), m);
  });

  const when = runMenuWhen(' && !explorerResourceIsFolder');
  const cases: Array<[string, string, boolean]> = [
    ['/ws/tool.sh', 'shellscript', true],
    ['/ws/tool.py', 'python', true],
    ['/ws/a.mjs', 'javascript', true],
    ['/ws/a.ts', 'typescript', true],
    ['/ws/a.ps1', 'powershell', true],
    ['/ws/a.bat', 'bat', true],
    ['/ws/a.rb', 'ruby', true],
    ['/ws/a.pl', 'perl', true],
    ['/ws/RUN.SH', 'plaintext', true],
    ['/ws/notes.txt', 'plaintext', false],
    ['/ws/README.md', 'markdown', false],
    ['/ws/.vscode/sandbox.json', 'jsonc', false],
    ['/ws/package.json', 'json', false],
    ['/ws/logo.png', 'plaintext', false],
    ['/ws/tool', 'plaintext', false],
  ];
  for (const [p, lang, shown] of cases) {
    it(`${shown ? 'shows' : 'hides'} the menu on ${path.basename(p)} (${lang})`, () => {
      assert.equal(menuShows(when, { path: p, langId: lang }), shown);
      assert.equal(runnableByName(p, lang), shown);
    });
  }

  it('shows it on an extension-less file once the context key lists it, never on a folder', () => {
    assert.equal(menuShows(when, { path: '/ws/tool', langId: 'plaintext', runnable: ['/ws/tool'] }), true);
    assert.equal(menuShows(when, { path: '/ws/dir.sh', langId: '', folder: true }), false);
  });

  describe('by content', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-runnable-'));
      fs.writeFileSync(path.join(dir, 'shebang'), '#!/bin/sh\necho hi\n');
      fs.writeFileSync(path.join(dir, 'plain'), 'echo hi\n');
      fs.writeFileSync(path.join(dir, 'exec'), 'echo hi\n', { mode: 0o755 });
      fs.mkdirSync(path.join(dir, '.vscode'));
      fs.writeFileSync(path.join(dir, '.vscode', 'sandbox.json'), '#!{}', { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'data.json'), '{}', { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'doc.md'), '#!x', { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'pic.png'), '#!x', { mode: 0o755 });
      fs.symlinkSync(path.join(dir, 'shebang'), path.join(dir, 'link'));
      fs.mkdirSync(path.join(dir, 'folder'), { mode: 0o755 });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const [name, want] of [
      ['shebang', true],
      ['exec', true],
      ['plain', false],
      ['.vscode/sandbox.json', false],
      ['data.json', false],
      ['doc.md', false],
      ['pic.png', false],
      ['link', false],
      ['folder', false],
      ['missing', false],
    ] as const) {
      it(`${name}: ${want ? 'runnable' : 'not runnable'}`, async () => {
        assert.equal(await runnableByContent(path.join(dir, name)), want);
      });
    }
  });

  describe('interpreter for a script without #!', () => {
    const L = DEFAULT_LANGUAGE_INTERPRETERS;
    it('defaults: python3 -u, node, bash, pwsh', () => {
      assert.deepEqual(interpreterOverrides('/ws/a.py', false, {}, L), { '.py': ['python3', '-u'] });
      assert.deepEqual(interpreterOverrides('/ws/a.js', false, {}, L), { '.js': ['node'] });
      assert.deepEqual(interpreterOverrides('/ws/a.sh', false, {}, L), { '.sh': ['bash'] });
      assert.deepEqual(interpreterOverrides('/ws/a.ps1', false, {}, L), { '.ps1': ['pwsh', '-File'] });
    });
    it('a #! line wins over the language default, the per-extension setting over both', () => {
      assert.deepEqual(interpreterOverrides('/ws/a.py', true, {}, L), {});
      assert.deepEqual(interpreterOverrides('/ws/a.py', true, { '.py': ['pypy3'] }, L), { '.py': ['pypy3'] });
    });
    it('the editor language id counts (a .txt opened as Python), a file without extension gets none', () => {
      assert.deepEqual(interpreterOverrides('/ws/a.cgi', false, {}, L, 'python'), { '.cgi': ['python3', '-u'] });
      assert.deepEqual(interpreterOverrides('/ws/tool', false, {}, L, 'python'), {});
    });
    it('package.json declares the same defaults', () => {
      assert.deepEqual(pkg.contributes.configuration.properties['scriptSandbox.languageInterpreters'].default, L);
    });
  });
});
