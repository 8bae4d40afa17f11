// The carve-out expansion cache must answer exactly what a fresh expansion of the disk answers, after every
// kind of change a script (or anyone) can make between two runs: an entry added, removed, renamed, a
// directory swapped for a symlink, a carve-out appearing. Real directories in a temp folder; the clock is
// moved ahead so the listings count as settled (older than RACY_MS) and are cached.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diskFs, expandCarveOutsOnDisk } from '../../../native/linux/carve-outs';
import { cachedExpansion, RACY_MS } from '../../../native/linux/carve-out-cache';
import type { LandlockAccess, LandlockRule } from '../../../src/protocol/plan';

const R: LandlockAccess[] = ['read_file', 'read_dir'];

/** Lets the kernel's coarse clock move on, so a change gets a ctime other than the listing's (kernels without
 *  fine-grained timestamps; the cache itself guards this case with RACY_MS, which the fake clock skips). */
function tick(): void {
  const until = Date.now() + 25;
  while (Date.now() < until);
}

describe('carve-out expansion cache', () => {
  let root: string;
  let rules: LandlockRule[];
  let cuts: string[];
  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ss-cocache-')));
    for (const d of ['home/.ssh', 'home/code/.git/hooks', 'home/docs', 'etc']) fs.mkdirSync(path.join(root, d), { recursive: true });
    for (const f of ['home/.ssh/id', 'home/.bashrc', 'home/code/a.py', 'etc/passwd', 'etc/shadow']) fs.writeFileSync(path.join(root, f), 'x');
    rules = [{ path: root, access: R }];
    cuts = [path.join(root, 'home/.ssh'), path.join(root, 'etc/shadow'), path.join(root, 'home/code/.git/hooks'), path.join(root, 'home/.netrc')];
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A cache whose clock runs far ahead: every listing is old enough to be stored. */
  const settled = () => cachedExpansion(diskFs, 512, () => Date.now() + 10 * RACY_MS);
  const sorted = (rs: LandlockRule[]) => [...rs].sort((a, b) => a.path.localeCompare(b.path));
  const same = (c: ReturnType<typeof cachedExpansion>) => assert.deepEqual(sorted(c.expand(rules, cuts)), sorted(expandCarveOutsOnDisk(rules, cuts)));

  it('answers from the cache when nothing changed, with the same rules', () => {
    const c = settled();
    same(c);
    const misses = c.stats.misses;
    same(c);
    assert.equal(c.stats.misses, misses, 'second pass listed a directory again');
    assert.ok(c.stats.hits > 0);
  });

  it('sees an entry added, removed or renamed', () => {
    const c = settled();
    same(c);
    tick();
    fs.writeFileSync(path.join(root, 'home/new.txt'), 'x');
    same(c);
    tick();
    fs.rmSync(path.join(root, 'home/docs'), { recursive: true });
    same(c);
    tick();
    fs.renameSync(path.join(root, 'etc/passwd'), path.join(root, 'etc/passwd2'));
    same(c);
  });

  it('sees a directory swapped for a symlink to a carve-out (no rule may follow it)', () => {
    const c = settled();
    same(c);
    tick();
    fs.rmSync(path.join(root, 'home/docs'), { recursive: true });
    fs.symlinkSync(path.join(root, 'home/.ssh'), path.join(root, 'home/docs'));
    const out = c.expand(rules, cuts);
    assert.deepEqual(sorted(out), sorted(expandCarveOutsOnDisk(rules, cuts)));
    assert.ok(!out.some((r) => r.path === path.join(root, 'home/docs')), 'a rule on the symlink would grant the carve-out');
  });

  it('sees a missing carve-out appear and a carved directory replaced', () => {
    const c = settled();
    same(c);
    tick();
    fs.writeFileSync(path.join(root, 'home/.netrc'), 'secret');
    const out = c.expand(rules, cuts);
    assert.ok(!out.some((r) => r.path === path.join(root, 'home/.netrc')));
    same(c);
    tick();
    fs.rmSync(path.join(root, 'home/code/.git/hooks'), { recursive: true });
    fs.writeFileSync(path.join(root, 'home/code/.git/hooks'), 'now a file');
    same(c);
  });

  it('answers the realpaths of rule roots and carve-outs from unchanged listings, and sees each change on the way', async () => {
    const asked: string[] = [];
    const c = cachedExpansion({ ...diskFs, realpath: (p) => (asked.push(p), diskFs.realpath(p)) }, 512, () => Date.now() + 10 * RACY_MS);
    // Carve-outs below directories the expansion does not list itself, missing ones included.
    cuts.push(path.join(root, 'home/docs/deep/secret'), path.join(root, 'home/docs/missing/x'));
    fs.mkdirSync(path.join(root, 'home/docs/deep'));
    fs.writeFileSync(path.join(root, 'home/docs/deep/secret'), 'x');
    const compile = async () => {
      await new Promise((r) => setImmediate(r)); // a new compile: the per-compile answers are dropped
      asked.length = 0;
      same(c);
    };
    await compile();
    await compile();
    assert.deepEqual(asked, [], 'an unchanged tree without symlinks needs no realpath from the disk');
    // A directory on a carve-out's way swapped for a symlink: the carve-out now lies where the link leads.
    tick();
    fs.renameSync(path.join(root, 'home/docs'), path.join(root, 'etc/docs'));
    fs.symlinkSync(path.join(root, 'etc/docs'), path.join(root, 'home/docs'));
    await compile();
    const out = c.expand(rules, cuts);
    assert.ok(!out.some((r) => r.path === path.join(root, 'etc/docs') || r.path === path.join(root, 'etc/docs/deep/secret')), 'the moved carve-out got a rule');
    assert.ok(asked.length > 0, 'a symlink on the way is resolved by the disk');
    // A missing carve-out's directory appears, then the carve-out itself.
    tick();
    fs.mkdirSync(path.join(root, 'etc/docs/missing'));
    await compile();
    tick();
    fs.writeFileSync(path.join(root, 'etc/docs/missing/x'), 'secret');
    await compile();
    assert.ok(!c.expand(rules, cuts).some((r) => r.path === path.join(root, 'etc/docs/missing/x')));
    // A directory on the way replaced by a file, and back.
    tick();
    fs.rmSync(path.join(root, 'home/code'), { recursive: true });
    fs.writeFileSync(path.join(root, 'home/code'), 'now a file');
    await compile();
    tick();
    fs.rmSync(path.join(root, 'home/code'));
    fs.mkdirSync(path.join(root, 'home/code/.git/hooks'), { recursive: true });
    await compile();
  });

  it('does not store a listing whose directory changed within RACY_MS', () => {
    const c = cachedExpansion(diskFs);
    same(c);
    same(c);
    assert.equal(c.stats.hits, 0, 'fresh directories were cached');
    assert.ok(c.stats.unstored > 0);
  });
});
