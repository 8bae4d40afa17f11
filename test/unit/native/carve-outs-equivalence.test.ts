// expandCarveOuts decides its cut tests once per directory (a busy /tmp has a thousand children); this checks it
// against the plain per-child form it replaced (every child tested against every carve-out) on random trees,
// carve-outs and rules: the same rules, in the same order, with and without realpath and file-less folders.
import * as assert from 'node:assert/strict';
import { expandCarveOuts } from '../../../native/linux/carve-outs';
import type { LandlockAccess, LandlockRule } from '../../../src/protocol/plan';
import { FILE_ACCESS } from '../../../src/policy/fs-access';

const isAncestorOrSelf = (a: string, b: string): boolean => a === b || b.startsWith(a === '/' ? '/' : a + '/');

/** The per-child expansion as it was (no realpath resolution of rules: the trees here have no links). */
function reference(rules: LandlockRule[], cuts: string[], readdir: (d: string) => string[] | null, isDir: (p: string) => boolean, noFileRules: string[]): LandlockRule[] {
  const out: LandlockRule[] = [];
  const fileless = new Set(noFileRules);
  const expandDir = (dir: string, access: LandlockRule['access']): void => {
    if (cuts.includes(dir)) return;
    const names = readdir(dir);
    if (names === null) return;
    for (const name of [...names].sort()) {
      const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (isDir(child)) {
        if (cuts.some((c) => isAncestorOrSelf(child, c))) expandDir(child, access);
        else if (!cuts.some((c) => isAncestorOrSelf(c, child))) out.push({ path: child, access });
        continue;
      }
      if (cuts.includes(child) || fileless.has(dir)) continue;
      // A non-directory entry gets the rights a rule on a file may carry, and no rule when none is left.
      const fileAccess = access.filter((a) => (FILE_ACCESS as readonly string[]).includes(a));
      if (fileAccess.length) out.push({ path: child, access: fileAccess });
    }
  };
  for (const rule of rules) {
    const p = rule.path;
    if (cuts.some((c) => isAncestorOrSelf(c, p))) continue;
    if (cuts.some((c) => isAncestorOrSelf(p, c))) {
      if (isDir(p)) expandDir(p, rule.access);
      continue;
    }
    out.push(rule);
  }
  return out;
}

/** Deterministic PRNG (mulberry32), so a failure names its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTree(r: () => number): Record<string, string[]> {
  const tree: Record<string, string[]> = { '/': [] };
  const grow = (dir: string, depth: number) => {
    const n = Math.floor(r() * 6);
    for (let i = 0; i < n; i++) {
      // Names that share prefixes ("a", "ab", "a.b") catch a test on string prefixes instead of path steps.
      const name = ['a', 'ab', 'a.b', 'b', 'c', 'dd'][Math.floor(r() * 6)]! + (r() < 0.3 ? String(i) : '');
      if (tree[dir]!.includes(name)) continue;
      tree[dir]!.push(name);
      const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (depth < 4 && r() < 0.5) {
        tree[child] = [];
        grow(child, depth + 1);
      }
    }
  };
  grow('/', 0);
  return tree;
}

describe('expandCarveOuts: per-directory cut tests, same result as the per-child form', () => {
  it('on 500 random trees, carve-out sets and rules', () => {
    const rights: LandlockAccess[][] = [['read_file', 'read_dir'], ['read_dir'], ['execute', 'write_file', 'make_reg', 'remove_file']];
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const R = rights[seed % rights.length]!;
      const tree = randomTree(r);
      const all = ['/', ...Object.entries(tree).flatMap(([d, ns]) => ns.map((n) => (d === '/' ? `/${n}` : `${d}/${n}`)))];
      const pick = () => all[Math.floor(r() * all.length)]!;
      const cuts = [...new Set(Array.from({ length: 1 + Math.floor(r() * 4) }, () => (r() < 0.15 ? `${pick() === '/' ? '' : pick()}/missing` : pick())))].filter((c) => c !== '/');
      const rules: LandlockRule[] = [...new Set(['/', ...Array.from({ length: Math.floor(r() * 3) }, pick)])].map((path) => ({ path, access: R }));
      const noFile = r() < 0.3 ? [pick()] : [];
      const readdir = (d: string) => tree[d] ?? null;
      const isDir = (p: string) => p in tree;
      const got = expandCarveOuts(rules, cuts, readdir, isDir, undefined, noFile);
      assert.deepEqual(got, reference(rules, cuts, readdir, isDir, noFile), `seed ${seed}: cuts ${JSON.stringify(cuts)} rules ${JSON.stringify(rules.map((x) => x.path))}`);
    }
  });
});
