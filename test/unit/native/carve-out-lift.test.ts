// Lifting a carve-out to the whole rule of another grant that covers it must leave every path's effective
// rights (the union of the rules on it and its ancestors, after the expansion) exactly as they were, and must
// not happen where the covering rule is split, weaker, or reached through a symlink.
import * as assert from 'node:assert/strict';
import { liftCoveredCarveOuts } from '../../../native/linux/carve-out-lift';
import { landlockPlan } from '../../../native/linux/compile-plan';
import { expandCarveOuts } from '../../../native/linux/carve-outs';
import type { Grant } from '../../../src/policy/fs-model-types';
import type { LandlockAccess, LandlockRule } from '../../../src/protocol/plan';

const R: LandlockAccess[] = ['execute', 'read_file', 'read_dir'];
const W: LandlockAccess[] = [...R, 'write_file', 'make_reg', 'remove_file'];

/** A tree without symlinks: every directory and file, by path. */
const DIRS = ['/', '/etc', '/tmp', '/tmp/a', '/tmp/ws', '/tmp/ws/.sandbox', '/tmp/ws/src', '/home', '/home/u'];
const FILES = ['/etc/shadow', '/etc/hosts', '/tmp/b', '/tmp/ws/.sandbox/log', '/tmp/ws/src/x', '/home/u/f'];
const fake = {
  readdir: (d: string) => (DIRS.includes(d) ? [...DIRS, ...FILES].filter((p) => p !== d && p.slice(0, p.lastIndexOf('/') || 1) === d).map((p) => p.slice(p.lastIndexOf('/') + 1)) : null),
  isDir: (p: string) => DIRS.includes(p),
  realpath: (p: string) => (DIRS.includes(p) || FILES.includes(p) ? p : null),
};

function effective(rules: LandlockRule[], p: string): string {
  const have = new Set<string>();
  for (const r of rules) if (r.path === p || r.path === '/' || p.startsWith(r.path + '/')) r.access.forEach((a) => have.add(a));
  return [...have].sort().join(',');
}

const expand = (rules: LandlockRule[], cuts: string[]) => expandCarveOuts(rules, cuts, fake.readdir, fake.isDir, fake.realpath);

describe('liftCoveredCarveOuts', () => {
  const grants = (): Grant[] => [
    { paths: ['/'], access: R, except: ['/etc/shadow', '/tmp/ws/.sandbox'] },
    { paths: ['/tmp'], access: W, except: [] },
  ];

  it('replaces a carve-out inside a stronger whole rule by that rule, with the same effective rights everywhere', () => {
    const lifted = liftCoveredCarveOuts(grants(), fake.realpath);
    assert.deepEqual(lifted[0]!.except, ['/etc/shadow', '/tmp']);
    assert.deepEqual(lifted[1]!.except, []);
    const before = landlockPlan(grants(), expand, []).rules;
    const after = landlockPlan(grants(), expand, [], undefined, fake.realpath).rules;
    assert.ok(after.length < before.length, `${after.length} rules, not fewer than ${before.length}`);
    for (const p of [...DIRS, ...FILES, '/tmp/new', '/tmp/ws/new', '/etc/new', '/new']) assert.equal(effective(after, p), effective(before, p), p);
  });

  it('lifts to the highest covering path (the workspace grant inside /tmp covers it too)', () => {
    const g: Grant[] = [grants()[0]!, { paths: ['/tmp/ws'], access: W, except: ['/etc'] }, grants()[1]!];
    assert.deepEqual(liftCoveredCarveOuts(g, fake.realpath)[0]!.except, ['/etc/shadow', '/tmp']);
  });

  it('keeps the carve-out where the covering grant carves something at, above or below its path', () => {
    for (const e of ['/tmp/ws', '/tmp', '/tmp/a', '/']) {
      const g: Grant[] = [grants()[0]!, { paths: ['/tmp'], access: W, except: [e] }];
      assert.deepEqual(liftCoveredCarveOuts(g, fake.realpath)[0]!.except, ['/etc/shadow', '/tmp/ws/.sandbox'], e);
    }
  });

  it('keeps the carve-out where the covering grant lacks one of its rights', () => {
    const g: Grant[] = [grants()[0]!, { paths: ['/tmp'], access: ['read_file', 'read_dir', 'write_file'], except: [] }];
    assert.deepEqual(liftCoveredCarveOuts(g, fake.realpath)[0]!.except, ['/etc/shadow', '/tmp/ws/.sandbox']);
  });

  it('keeps the carve-out where it resolves elsewhere (a symlink on its way) or the covering path is not canonical', () => {
    const linkedWs = (p: string) => (p.startsWith('/tmp/ws') ? p.replace('/tmp/ws', '/home/u') : fake.realpath(p));
    assert.deepEqual(liftCoveredCarveOuts(grants(), linkedWs)[0]!.except, ['/etc/shadow', '/tmp/ws/.sandbox']);
    const linkedTmp = (p: string) => (p.startsWith('/tmp') ? '/private' + p : fake.realpath(p));
    assert.deepEqual(liftCoveredCarveOuts(grants(), linkedTmp)[0]!.except, ['/etc/shadow', '/tmp/ws/.sandbox']);
  });

  it('lifts a carve-out that does not exist yet below a canonical folder of the covering path', () => {
    const g: Grant[] = [{ paths: ['/'], access: R, except: ['/tmp/ws/missing/deeper'] }, grants()[1]!];
    assert.deepEqual(liftCoveredCarveOuts(g, fake.realpath)[0]!.except, ['/tmp']);
  });
});
