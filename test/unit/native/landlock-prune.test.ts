// Dropping Landlock rules that other rules already cover must leave every path's effective rights (the
// union of the rules on it and its ancestors) exactly as they were.
import * as assert from 'node:assert/strict';
import { pruneCoveredRules } from '../../../native/linux/landlock-prune';
import type { LandlockAccess, LandlockRule } from '../../../src/protocol/plan';

const R: LandlockAccess[] = ['execute', 'read_file', 'read_dir'];
const W: LandlockAccess[] = [...R, 'write_file', 'make_reg', 'remove_file'];
const all = () => true;

/** The rights Landlock gives `p`: the union over the rules on `p` and its ancestors. */
function effective(rules: LandlockRule[], p: string): string {
  const have = new Set<string>();
  for (const r of rules) if (r.path === p || r.path === '/' || p.startsWith(r.path + '/')) r.access.forEach((a) => have.add(a));
  return [...have].sort().join(',');
}

describe('pruneCoveredRules', () => {
  it('drops a rule its ancestor covers, keeps one that adds rights', () => {
    const rules = [
      { path: '/tmp', access: W },
      { path: '/tmp/a', access: R },
      { path: '/tmp/b', access: [...W, 'make_sock'] as LandlockAccess[] },
      { path: '/etc/hosts', access: R },
    ];
    assert.deepEqual(pruneCoveredRules(rules, all).map((r) => r.path), ['/tmp', '/tmp/b', '/etc/hosts']);
  });

  it('adds up the rights of several ancestors and of rules on the same path', () => {
    const rules = [
      { path: '/', access: ['read_file'] as LandlockAccess[] },
      { path: '/w', access: ['write_file'] as LandlockAccess[] },
      { path: '/w', access: ['read_dir'] as LandlockAccess[] },
      { path: '/w/x/y', access: ['read_file', 'write_file', 'read_dir'] as LandlockAccess[] },
    ];
    const out = pruneCoveredRules(rules, all);
    assert.deepEqual(out.map((r) => r.path), ['/', '/w']);
    assert.deepEqual(new Set(out[1]!.access), new Set(['write_file', 'read_dir']));
  });

  it('never drops a rule on a non-canonical path, nor counts a non-canonical ancestor', () => {
    const rules = [
      { path: '/tmp', access: W },
      { path: '/tmp/link', access: R },
      { path: '/data', access: W },
      { path: '/data/x', access: R },
    ];
    const canonical = (p: string) => p !== '/tmp/link' && p !== '/data';
    assert.deepEqual(pruneCoveredRules(rules, canonical).map((r) => r.path), ['/tmp', '/tmp/link', '/data', '/data/x']);
  });

  it('leaves every effective right unchanged (random rule sets)', () => {
    const paths = ['/', '/a', '/a/b', '/a/b/c', '/a/d', '/e', '/e/f', '/e/f/g'];
    const rights: LandlockAccess[] = ['read_file', 'read_dir', 'write_file', 'execute'];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 300; i++) {
      const rules: LandlockRule[] = Array.from({ length: 1 + rnd(6) }, () => ({ path: paths[rnd(paths.length)]!, access: rights.filter(() => rnd(2) === 1) })).filter((r) => r.access.length);
      const out = pruneCoveredRules(rules, all);
      for (const p of [...paths, '/a/b/c/z', '/zz']) assert.equal(effective(out, p), effective(rules, p), `${p} in ${JSON.stringify(rules)}`);
      assert.ok(out.length <= rules.length);
    }
  });
});
