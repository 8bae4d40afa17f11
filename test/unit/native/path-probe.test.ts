// The supervisor's path walk asks libc directly (native/linux/path-probe.ts) instead of node:fs: both must
// give the walk the same answers, or a decision would change with the speed-up. Checked on a real tree with
// the cases the walk meets: files, directories, links (dangling, to directories, absolute, at the longest
// length), missing names, a name below a file (ENOTDIR), a trailing slash, and procfs's magic links.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPathProbe, type PathProbeAt } from '../../../native/linux/path-probe';
import { nodeFsProbe, resolveComponents, resolveInTree, RootFdTree, RootLinkTree } from '../../../src/host/linux/target-path';

describe('native/path-probe: libc answers as node:fs does', function () {
  let root: string;
  let probe: PathProbeAt;
  before(function () {
    try {
      probe = loadPathProbe();
    } catch {
      this.skip(); // no C library to bind (not Linux): the probe is only used by the Linux supervisor
    }
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ss-probe-')));
    fs.mkdirSync(path.join(root, 'ws/.git/hooks'), { recursive: true });
    fs.writeFileSync(path.join(root, 'ws/file'), 'x');
    fs.symlinkSync('.git/hooks', path.join(root, 'ws/lnk'));
    fs.symlinkSync('/nowhere/at/all', path.join(root, 'ws/dangling'));
    fs.symlinkSync('x'.repeat(4095), path.join(root, 'ws/longest'));
    fs.symlinkSync('ünïcødé/ß', path.join(root, 'ws/utf8'));
  });
  after(() => root && fs.rmSync(root, { recursive: true, force: true }));

  const cases = ['ws', 'ws/file', 'ws/lnk', 'ws/lnk/', 'ws/dangling', 'ws/longest', 'ws/utf8', 'ws/missing', 'ws/file/below', 'ws/.git/hooks', 'ws/lnk/../file'];

  it('kind: missing, link or other, for every case', () => {
    for (const c of cases) assert.equal(probe.kind(path.join(root, c) + (c.endsWith('/') ? '/' : '')), nodeFsProbe.kind(path.join(root, c) + (c.endsWith('/') ? '/' : '')), c);
    assert.equal(probe.kind(path.join(root, 'ws/lnk')), 'link');
    assert.equal(probe.kind(path.join(root, 'ws/lnk') + '/'), 'other');
    assert.equal(probe.kind(path.join(root, 'ws/file/below')), 'missing');
  });

  it("readlink: a link's text, null for what is no link or missing", () => {
    for (const c of cases) assert.equal(probe.readlink(path.join(root, c)), nodeFsProbe.readlink(path.join(root, c)), c);
    assert.equal(probe.readlink(path.join(root, 'ws/longest'))?.length, 4095);
    assert.equal(probe.readlink(path.join(root, 'ws/utf8')), 'ünïcødé/ß');
  });

  it("procfs's magic links (the supervisor's /proc/<pid>/cwd, root and fd reads)", () => {
    for (const p of ['/proc/self/cwd', `/proc/${process.pid}/cwd`, `/proc/${process.pid}/root/`, `/proc/${process.pid}/fd/0`, '/proc/999999999/cwd']) {
      assert.equal(probe.kind(p), nodeFsProbe.kind(p), p);
      assert.equal(probe.readlink(p), nodeFsProbe.readlink(p), p);
    }
  });

  it('the walk reaches the same paths with either', () => {
    for (const [p, follow] of [['lnk/../file', true], ['dangling', true], ['dangling', false], ['lnk/x/y', true], ['file/below', true], ['/ws/lnk/new', true]] as const) {
      assert.equal(resolveComponents(root, '/ws', p, follow, undefined, probe), resolveComponents(root, '/ws', p, follow, undefined, nodeFsProbe), p);
    }
  });

  // The worker walks an enforce run's tree from an fd of its root instead of through /proc/<pid>/root.
  it('from an fd of the root: the same answers and the same walk as through the root as a path', () => {
    for (const dir of [root, `/proc/${process.pid}/root${root}`]) {
      const fd = probe.openDir(dir);
      assert.ok(fd >= 0, dir);
      try {
        const atFd = new RootFdTree(probe, fd);
        const underPath = new RootLinkTree(probe, dir);
        for (const c of cases) {
          const abs = '/' + c.replace(/\/$/, '');
          assert.equal(atFd.kind(abs), underPath.kind(abs), c);
          assert.equal(atFd.readlink(abs), underPath.readlink(abs), c);
        }
        for (const [base, p, follow] of [['/ws', 'file', true], ['/ws', 'lnk', true], ['/ws', 'lnk', false], ['/ws', 'lnk/../file', true], ['/ws', 'dangling', true], ['/ws', 'missing', true], ['/ws', 'file/below', true], ['/', '/ws/lnk/new', true], ['/', '//ws//lnk/./x', false], ['/ws', '../ws/utf8', true]] as const) {
          assert.equal(resolveInTree(atFd, base, p, follow), resolveInTree(underPath, base, p, follow), p);
        }
      } finally {
        probe.close(fd);
      }
    }
    assert.equal(probe.openDir(path.join(root, 'ws/missing')), -1);
  });
});
