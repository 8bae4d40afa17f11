// GlobMatcher answers exactly as minimatch() does, for every option the policy code passes, however often a
// pattern is reused and after its cache starts again; decidePath gives the same decisions with and without it.
import * as assert from 'node:assert/strict';
import { minimatch } from 'minimatch';
import { GLOB_OPTIONS, GlobMatcher } from '../../../src/policy/glob-match';
import { decidePath } from '../../../src/policy';
import { resolvePolicy } from '../../../src/policy/resolve';

const GLOBS = ['/w/data/*.key', '/w/data/**/*.key', '/w/secrets/*.pem', '/w/*.key', '/w/a/*/x.key', '/w/[ab]?/c', '/w/data/**', 'C:/Users/*/x.txt'];
const PATHS = ['/w', '/w/data', '/w/data/x.key', '/w/data/sub', '/w/data/sub/y.key', '/w/data/.hidden.key', '/w/secrets/a.pem', '/w/secrets/sub/f', '/w/a/b/x.key', '/w/ab/c', '/w/b1/c', '/w/x.key', 'C:/Users/me/x.txt', 'c:/users/me/X.TXT'];
const OPTIONS = [GLOB_OPTIONS, { ...GLOB_OPTIONS, partial: true }, { ...GLOB_OPTIONS, nocase: true }, { ...GLOB_OPTIONS, partial: true, nocase: true }];

describe('GlobMatcher', () => {
  it('matches as minimatch() for every glob, path and option set, the same pattern asked many times', () => {
    const m = new GlobMatcher();
    for (let round = 0; round < 3; round++) {
      for (const g of GLOBS) for (const p of PATHS) for (const o of OPTIONS) assert.equal(m.match(p, g, o), minimatch(p, g, o), `${p} ~ ${g} ${JSON.stringify(o)}`);
    }
  });

  it('keeps answering exactly once its cache is full and starts again', () => {
    const m = new GlobMatcher();
    for (let i = 0; i < 1200; i++) {
      const g = `/w/d${i}/*.key`;
      assert.equal(m.match(`/w/d${i}/a.key`, g, GLOB_OPTIONS), true);
      assert.equal(m.match(`/w/d${i + 1}/a.key`, g, GLOB_OPTIONS), false);
    }
  });

  it('decidePath with compiled globs decides as without', () => {
    const { policy } = resolvePolicy(
      { run: { mode: 'enforce', profile: 'moderate', filesystem: { denyRead: ['secrets/*.pem'], denyWrite: ['data/*.key', 'data/**/*.key'], allowRead: ['/opt/x/*.txt'] } } },
      { workspace: '/w', home: '/home/u' },
    );
    const m = new GlobMatcher();
    // Not vacuous: the globs decide some of these.
    assert.equal(decidePath(policy, '/w/data/sub/y.key', 'write', { globs: m }).allowed, false);
    assert.equal(decidePath(policy, '/w/secrets/a.pem', 'read', { globs: m }).allowed, false);
    for (const p of [...PATHS, '/opt/x/a.txt', '/opt/x/a.bin', '/home/u/.ssh/id_rsa', '/w/.git/config']) {
      for (const access of ['read', 'write'] as const) assert.deepEqual(decidePath(policy, p, access, { globs: m }), decidePath(policy, p, access), `${access} ${p}`);
    }
  });
});
