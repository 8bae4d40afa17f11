// The cross-platform workflow cannot run here; this checks it is valid YAML of the shape GitHub expects and
// that it keeps its promises: pinned images, Node 20, npm ci without --omit=optional, the unit tier and a
// native tier on each OS, and that the paths it runs exist in this build.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
// js-yaml comes with mocha (a dev dependency); the test needs no new package.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

const FILE = path.resolve('.github/workflows/cross-platform.yml');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}

describe('.github/workflows/cross-platform.yml', () => {
  const doc = yaml.load(fs.readFileSync(FILE, 'utf8')) as { name: string; on: unknown; jobs: Record<string, { 'runs-on': string; strategy: { matrix: { os: string[] } }; steps: Step[] }> };
  const job = doc.jobs.test;

  it('parses, with a name, triggers and one matrix job', () => {
    assert.equal(doc.name, 'cross-platform');
    assert.ok(doc.on && typeof doc.on === 'object');
    assert.equal(job['runs-on'], '${{ matrix.os }}');
  });

  it('pins the runner images (no *-latest) for Windows and macOS', () => {
    const os = job.strategy.matrix.os;
    assert.deepEqual(os, ['windows-2022', 'macos-14']);
    assert.ok(os.every((o) => !o.endsWith('-latest')));
  });

  it('Node 20, npm ci without --omit=optional (koffi ships its binary as an optional dependency)', () => {
    const node = job.steps.find((s) => s.uses?.startsWith('actions/setup-node'));
    assert.equal(String(node?.with?.['node-version']), '20');
    const ci = job.steps.find((s) => s.run?.startsWith('npm ci'));
    assert.ok(ci);
    assert.doesNotMatch(ci!.run!, /omit/);
  });

  it('runs the unit tier on both, the darwin native tier on macOS, a win32 native tier on Windows', () => {
    const runs = job.steps.map((s) => `${s.if ?? ''} :: ${s.run ?? ''}`);
    assert.ok(runs.some((r) => /test\/\.mocharc\.unit\.json/.test(r) && !r.startsWith('runner.os')));
    assert.ok(runs.some((r) => r.startsWith("runner.os == 'macOS'") && r.includes('out/test/darwin/')));
    assert.ok(runs.some((r) => r.startsWith("runner.os == 'Windows'") && r.includes('out/test/win32/')));
  });

  it('the files it runs exist in this checkout', () => {
    assert.ok(fs.existsSync('test/.mocharc.unit.json'));
    assert.ok(fs.readdirSync('test/darwin').some((f) => f.endsWith('.test.ts')));
    assert.ok(fs.readdirSync('test/win32').some((f) => f.endsWith('.test.ts')));
  });

  it('the Windows native tier runs its tests unconditionally (no skip that would hide a build without them)', () => {
    const win = job.steps.find((s) => s.if === "runner.os == 'Windows'" && s.run?.includes('out/test/win32/'));
    assert.ok(win);
    assert.doesNotMatch(win!.run!, /skipped|\bif\b/);
  });
});
