// expandCarveOuts over a fake tree: Landlock can only grant, so exceptions become grants on siblings.
import * as assert from 'node:assert/strict';
import { expandCarveOuts } from '../../../native/linux/carve-outs';
import { LANDLOCK_FILE_ACCESS, accessBits } from '../../../native/linux/landlock';
import { FILE_ACCESS } from '../../../src/policy/fs-access';
import type { LandlockAccess, LandlockRule } from '../../../src/protocol/plan';

/** A fake file system: directories map to their entries; anything else listed is a file. */
const TREE: Record<string, string[]> = {
  '/': ['etc', 'home', 'usr', 'bin'],
  '/etc': ['passwd', 'shadow', 'ssl', 'hosts'],
  '/etc/ssl': ['certs', 'private'],
  '/etc/ssl/certs': ['ca.pem'],
  '/etc/ssl/private': ['key.pem'],
  '/home': ['u'],
  '/home/u': ['.ssh', 'code', '.bashrc', 'link-to-home'],
  '/home/u/.ssh': ['id_ed25519'],
  '/home/u/code': ['a.py'],
  '/usr': ['lib'],
  '/usr/lib': [],
  '/unlistable': ['x'],
};
const SYMLINKS: Record<string, string> = { '/bin': '/usr/bin', '/home/u/link-to-home': '/home/u' };

const readdir = (d: string) => (d === '/unlistable' ? null : (TREE[d] ?? null));
const isDir = (p: string) => p in TREE;
const EXISTS = new Set<string>([
  ...Object.keys(TREE),
  ...Object.entries(TREE).flatMap(([d, names]) => names.map((n) => (d === '/' ? '' : d) + '/' + n)),
]);
const realpathWith =
  (links: Record<string, string>) =>
  (p: string): string | null => {
    for (const [link, target] of Object.entries(links)) {
      if (p === link || p.startsWith(link + '/')) return realpathWith(links)(target + p.slice(link.length));
    }
    return EXISTS.has(p) ? p : null;
  };
const realpath = realpathWith(SYMLINKS);

const R: LandlockAccess[] = ['read_file', 'read_dir'];
const W: LandlockAccess[] = ['write_file', 'make_reg'];
const paths = (rules: LandlockRule[]) => rules.map((r) => r.path).sort();

describe('expandCarveOuts', function () {
  it('returns the rules unchanged without carve-outs', function () {
    const rules = [{ path: '/etc', access: R }];
    assert.deepEqual(expandCarveOuts(rules, [], readdir, isDir), rules);
  });

  it('replaces a rule on the parent by rules on the other children', function () {
    const out = expandCarveOuts([{ path: '/etc', access: R }], ['/etc/shadow'], readdir, isDir);
    assert.deepEqual(paths(out), ['/etc/hosts', '/etc/passwd', '/etc/ssl']);
    // The directory keeps the rule's rights; the files get those a rule on a file may carry.
    assert.deepEqual(Object.fromEntries(out.map((r) => [r.path, r.access])), { '/etc/hosts': ['read_file'], '/etc/passwd': ['read_file'], '/etc/ssl': R });
  });

  it('gives an entry that is not a directory only the rights a rule on a file may carry', function () {
    const all: LandlockAccess[] = ['execute', 'write_file', 'read_file', 'read_dir', 'remove_dir', 'remove_file', 'make_reg', 'make_dir', 'make_sym', 'refer', 'truncate', 'ioctl_dev'];
    const out = expandCarveOuts([{ path: '/home/u', access: all }], ['/home/u/.ssh'], readdir, isDir, realpath);
    const byPath = Object.fromEntries(out.map((r) => [r.path, r.access]));
    assert.deepEqual(byPath['/home/u/.bashrc'], ['execute', 'write_file', 'read_file', 'truncate', 'ioctl_dev']);
    assert.deepEqual(byPath['/home/u/code'], all);
    // The same rights as the kernel's list of rights valid on a file (landlock.ts LANDLOCK_FILE_ACCESS).
    assert.equal(accessBits(FILE_ACCESS), LANDLOCK_FILE_ACCESS);
  });

  it('gives a file no rule when none of the rule\'s rights applies to a file', function () {
    const out = expandCarveOuts([{ path: '/etc', access: ['read_dir', 'make_reg'] }], ['/etc/shadow'], readdir, isDir);
    assert.deepEqual(out, [{ path: '/etc/ssl', access: ['read_dir', 'make_reg'] }]);
  });

  it('recurses down to a deep carve-out, which gets nothing', function () {
    const out = expandCarveOuts([{ path: '/', access: R }], ['/etc/ssl/private/key.pem', '/home/u/.ssh'], readdir, isDir);
    assert.deepEqual(paths(out), [
      '/bin',
      '/etc/hosts',
      '/etc/passwd',
      '/etc/shadow',
      '/etc/ssl/certs',
      '/home/u/.bashrc',
      '/home/u/code',
      '/home/u/link-to-home',
      '/usr',
    ]);
  });

  it('leaves rules that do not contain a carve-out alone, and drops rules inside one', function () {
    const out = expandCarveOuts(
      [
        { path: '/usr', access: R },
        { path: '/home/u/.ssh/id_ed25519', access: W },
        { path: '/home/u/.ssh', access: W },
      ],
      ['/home/u/.ssh'],
      readdir,
      isDir,
    );
    assert.deepEqual(out, [{ path: '/usr', access: R }]);
  });

  it('a rule equal to a carve-out grants nothing', function () {
    assert.deepEqual(expandCarveOuts([{ path: '/etc/shadow', access: R }], ['/etc/shadow'], readdir, isDir), []);
  });

  it('keeps the rights of each rule through the expansion', function () {
    const out = expandCarveOuts(
      [
        { path: '/etc', access: R },
        { path: '/home/u', access: W },
      ],
      ['/etc/shadow', '/home/u/.ssh'],
      readdir,
      isDir,
    );
    const byPath = Object.fromEntries(out.map((r) => [r.path, r.access]));
    assert.deepEqual(byPath['/etc/passwd'], ['read_file']);
    assert.equal(byPath['/home/u/code'], W);
    assert.deepEqual(byPath['/home/u/.bashrc'], ['write_file']);
    assert.equal(byPath['/etc/shadow'], undefined);
    assert.equal(byPath['/home/u/.ssh'], undefined);
  });

  it('grants nothing under a directory it cannot list (fail closed)', function () {
    const out = expandCarveOuts([{ path: '/unlistable', access: R }], ['/unlistable/x'], readdir, isDir);
    assert.deepEqual(out, []);
  });

  it('normalises doubled slashes, dot steps and trailing slashes in every spelling', function () {
    for (const cut of ['/etc//shadow', '/etc/./shadow', '/etc/shadow/', '/etc/ssl/../shadow', '/etc/shadow/.', '//etc/shadow', '/etc/ssl/certs/../../shadow/']) {
      const out = expandCarveOuts([{ path: '/etc/', access: R }], [cut], readdir, isDir);
      assert.deepEqual(paths(out), ['/etc/hosts', '/etc/passwd', '/etc/ssl'], cut);
    }
  });

  it('normalises trailing slashes and dots', function () {
    const out = expandCarveOuts([{ path: '/etc/', access: R }], ['/etc/./ssl/../shadow'], readdir, isDir);
    assert.deepEqual(paths(out), ['/etc/hosts', '/etc/passwd', '/etc/ssl']);
  });

  describe('with realpath (the on-disk variant)', function () {
    it('skips symlinked children: a rule on the link would follow it to the carve-out', function () {
      const out = expandCarveOuts([{ path: '/home', access: R }], ['/home/u/.ssh'], readdir, isDir, realpath);
      assert.deepEqual(paths(out), ['/home/u/.bashrc', '/home/u/code']);
    });

    it('resolves the rule path before comparing it with the carve-outs', function () {
      const rp = realpathWith({ ...SYMLINKS, '/h': '/home' });
      const out = expandCarveOuts([{ path: '/h', access: R }], ['/home/u/.ssh'], readdir, isDir, rp);
      assert.deepEqual(paths(out), ['/home/u/.bashrc', '/home/u/code']);
    });

    it('keeps a rule that does not resolve (apply reports it as skipped)', function () {
      const out = expandCarveOuts([{ path: '/nowhere', access: R }], ['/etc/shadow'], readdir, isDir, realpath);
      assert.deepEqual(paths(out), ['/nowhere']);
    });

    // The launcher opens `exact` rules with RESOLVE_NO_SYMLINKS: a name flipped to a link after the compile
    // (a concurrent run) then gets no rule instead of the link target's (landlock-rule-race.test.ts).
    it('every rule leaves canonical and exact: expanded children, resolved rules, and missing ones', function () {
      const out = expandCarveOuts(
        [
          { path: '/home', access: R },
          { path: '/etc/ssl/certs', access: R },
          { path: '/home/u/link-to-home/not-yet', access: W },
        ],
        ['/home/u/.ssh'],
        readdir,
        isDir,
        realpath,
      );
      assert.deepEqual(
        out.map((r) => [r.path, r.exact]),
        [
          ['/home/u/.bashrc', true],
          ['/home/u/code', true],
          ['/etc/ssl/certs', true],
          // Missing when the compile looked (the re-attack's bypass: it was opened following a link made there
          // later): its existing ancestor resolved (link-to-home -> /home/u), the tail as named, opened exactly.
          ['/home/u/not-yet', true],
        ],
      );
    });

    it('without carve-outs too, rules are resolved and exact', function () {
      const out = expandCarveOuts([{ path: '/home/u/link-to-home/code', access: R }, { path: '/home/u/missing', access: W }], [], readdir, isDir, realpath);
      assert.deepEqual(out.map((r) => [r.path, r.exact]), [['/home/u/code', true], ['/home/u/missing', true]]);
    });
  });
});

describe('diskModelFs (the filesystem model\'s reads of git metadata)', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const path = require('node:path') as typeof import('node:path');
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  const { diskModelFs } = require('../../../native/linux/carve-outs') as typeof import('../../../native/linux/carve-outs');

  it('reads at most 64 KiB, never blocks on a FIFO, and follows symlinks as git does', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'model-fs-'));
    try {
      fs.writeFileSync(path.join(d, 'big'), Buffer.alloc(1024 * 1024, 0x61));
      assert.equal(diskModelFs.readFile(path.join(d, 'big'))!.length, 64 * 1024);
      execFileSync('mkfifo', [path.join(d, 'fifo')]);
      assert.equal(diskModelFs.readFile(path.join(d, 'fifo')), null);
      assert.equal(diskModelFs.kind(path.join(d, 'fifo')), 'other');
      fs.mkdirSync(path.join(d, 'real-git'));
      fs.symlinkSync(path.join(d, 'real-git'), path.join(d, '.git'));
      assert.equal(diskModelFs.kind(path.join(d, '.git')), 'dir');
      assert.equal(diskModelFs.kind(path.join(d, 'missing')), null);
      assert.equal(diskModelFs.readFile(path.join(d, 'real-git')), null);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
