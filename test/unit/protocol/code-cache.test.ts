// The code cache runs only for the build it was made from: V8 checks no more than the source's length, so a
// cache left from another build of a same-length bundle would run that build's code. Real files, real V8.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireWithCodeCache, writeCodeCache } from '../../../src/protocol/code-cache';

describe('launcher code cache', () => {
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
});
