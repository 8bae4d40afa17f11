// The code cache runs only for the build it was made from: V8 checks no more than the source's length, so a
// cache left from another build of a same-length bundle would run that build's code. Real files, real V8.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireWithCodeCache, writeCodeCache } from '../../../src/protocol/code-cache';

describe('bundle code cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-cache-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const bundle = (id: string, value: number) => `/*build ${id}*/\nmodule.exports = { value: ${value} };\n`;
  const A = 'a'.repeat(32);
  const B = 'b'.repeat(32);

  it('a cache from another build of a same-length bundle is not used', () => {
    const file = path.join(dir, 'm.js');
    fs.writeFileSync(file, bundle(A, 1));
    writeCodeCache(file);
    assert.equal((requireWithCodeCache(file) as { value: number }).value, 1);
    fs.writeFileSync(file, bundle(B, 2)); // rebuilt, same length, the old cache left beside it
    assert.equal((requireWithCodeCache(file) as { value: number }).value, 2);
  });

  it('a bundle without a build id loads without a cache, and the build refuses to make one for it', () => {
    const file = path.join(dir, 'plain.js');
    fs.writeFileSync(file, 'module.exports = { value: 3 };\n');
    assert.equal((requireWithCodeCache(file) as { value: number }).value, 3);
    assert.throws(() => writeCodeCache(file), /no build id/);
  });

  it("runs the bundle's codeCacheWorkload before writing, and the functions it compiled are in the cache", () => {
    const body = (withWorkload: boolean) =>
      `/*build ${A}*/\nfunction heavy(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }\n` +
      `module.exports = { ran: [], ${withWorkload ? 'codeCacheWorkload' : 'codeCacheWorkloaX'}() { module.exports.ran.push(heavy(10)); } };\n`;
    const sizes: number[] = [];
    for (const withWorkload of [false, true]) {
      const file = path.join(dir, `w${withWorkload}.js`);
      fs.writeFileSync(file, body(withWorkload));
      writeCodeCache(file);
      sizes.push(fs.statSync(`${file}.cache`).size);
    }
    // Same length of source; only the run of the workload compiled heavy() (and the workload) into the cache.
    assert.ok(sizes[1]! > sizes[0]!, `cache with the workload ${sizes[1]} B, without ${sizes[0]} B`);
    assert.deepEqual((requireWithCodeCache(path.join(dir, 'wtrue.js')) as { ran: number[] }).ran, [], 'the workload runs at build time only');
  });

  it('a failing workload is said and the cache is still written', () => {
    const file = path.join(dir, 'fails.js');
    fs.writeFileSync(file, `/*build ${A}*/\nmodule.exports = { codeCacheWorkload() { throw new Error('no disk'); }, value: 4 };\n`);
    const said: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => (said.push(String(s)), true)) as typeof process.stderr.write;
    try {
      writeCodeCache(file);
    } finally {
      process.stderr.write = write;
    }
    assert.match(said.join(''), /fails\.js: its workload failed \(no disk\)/);
    assert.ok(fs.existsSync(`${file}.cache`));
    assert.equal((requireWithCodeCache(file) as { value: number }).value, 4);
  });
});
