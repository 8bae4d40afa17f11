// zodJitlessBeforeLoad relies on zod adopting a config object found on globalThis when its core loads; a zod
// that stopped doing so would bring back a generated function per object schema in every launcher and CLI
// run, silently. Counted in a fresh Node (zod loaded after the call, as the entries do), against a control.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const jitless = path.join(__dirname, '../../../src/launcher/zod-jitless.js');
const zod = require.resolve('zod');

/** Functions zod generates while building and parsing an object schema twice, in a fresh process. */
function generatedFunctions(callFirst: boolean): number {
  const script = `
    ${callFirst ? `require(${JSON.stringify(jitless)}).zodJitlessBeforeLoad();` : ''}
    let made = 0;
    const F = Function;
    globalThis.Function = new Proxy(F, { construct(t, a) { made++; return Reflect.construct(t, a); } });
    const { z } = require(${JSON.stringify(zod)});
    const s = z.object({ a: z.string(), b: z.object({ c: z.number() }) });
    s.parse({ a: 'x', b: { c: 1 } });
    s.parse({ a: 'y', b: { c: 2 } });
    process.stdout.write(String(made));`;
  return Number(execFileSync(process.execPath, ['-e', script], { env: {}, encoding: 'utf8' }));
}

describe('zod without its compiled fast path', () => {
  it('generates no function when zodJitlessBeforeLoad ran before zod loaded', () => {
    assert.equal(generatedFunctions(true), 0);
  });

  it('generates them otherwise (the count above can fail)', () => {
    assert.ok(generatedFunctions(false) > 0);
  });
});
