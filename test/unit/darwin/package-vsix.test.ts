// `npm run package` makes one VSIX per target with only that target's koffi binary. This packages linux-x64
// for real (vsce, in a staging folder) and reads the VSIX's zip directory: exactly one koffi.node, the
// linux_x64 one; the staging of alpine-x64 (same npm package, other folder) keeps only musl_x64.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve('scripts/package-vsix.mjs');

/** Names in a zip, from its central directory (no unzip needed on the CI images). */
export function zipNames(buf: Buffer): string[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error('bad central directory entry');
    const nameLen = buf.readUInt16LE(off + 28);
    const extra = buf.readUInt16LE(off + 30);
    const comment = buf.readUInt16LE(off + 32);
    names.push(buf.toString('utf8', off + 46, off + 46 + nameLen));
    off += 46 + nameLen + extra + comment;
  }
  return names;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)).map((x) => `${e.name}/${x}`) : [e.name]));
}

describe('npm run package: one VSIX per target, one koffi binary each', function () {
  this.timeout(180000);
  let out: string;
  before(function () {
    if (!fs.existsSync('dist/extension.js')) this.skip(); // needs `node build.mjs` first (the unit script builds)
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-pkg-'));
  });
  after(() => out && fs.rmSync(out, { recursive: true, force: true }));

  it('linux-x64: the VSIX holds exactly the linux_x64 koffi.node, the bundles and no sources', () => {
    execFileSync(process.execPath, [SCRIPT, '--out', out, 'linux-x64'], { stdio: 'pipe' });
    const vsix = fs.readdirSync(out).find((f) => f.endsWith('.vsix'));
    assert.ok(vsix, 'no .vsix written');
    const names = zipNames(fs.readFileSync(path.join(out, vsix!)));
    const binaries = names.filter((n) => n.endsWith('koffi.node'));
    assert.deepEqual(binaries, ['extension/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node']);
    for (const b of ['extension', 'host', 'launcher', 'supervisor', 'cli']) assert.ok(names.includes(`extension/dist/${b}.js`), b);
    assert.ok(!names.some((n) => /(?<!\.d)\.ts$|\.(cc|map)$/.test(n) || n.includes('/src/policy/')), 'sources or maps packaged');
    assert.ok(!names.some((n) => n.includes('node_modules/zod') || n.includes('node_modules/minimatch')), 'bundled dependencies packaged twice');
    // What ships must load: koffi's index requires its JavaScript under src/koffi/src (a pruning once cut it).
    assert.ok(names.includes('extension/node_modules/koffi/src/koffi/src/static.cjs'), 'koffi JavaScript pruned');
    const r = execFileSync(process.execPath, ['-e', "process.stdout.write(typeof require('koffi').load)"], { cwd: path.join(out, 'linux-x64'), encoding: 'utf8' });
    assert.equal(r, 'function');
  });

  it('alpine-x64 staging: the shared linux-x64 package keeps only musl_x64', () => {
    execFileSync(process.execPath, [SCRIPT, '--stage-only', '--out', out, 'alpine-x64'], { stdio: 'pipe' });
    const files = walk(path.join(out, 'alpine-x64'));
    assert.deepEqual(files.filter((f) => f.endsWith('koffi.node')), ['node_modules/@koromix/koffi-linux-x64/musl_x64/koffi.node']);
  });
});
