// resolveComponents: the kernel's path walk (links where they stand, `..` after a link is the link target's
// parent), on a real directory tree used as the target's root.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveComponents } from '../../../src/host/linux/target-path';

describe('host/resolveComponents', () => {
  let root: string;
  before(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ss-tp-')));
    fs.mkdirSync(path.join(root, 'ws/.git/hooks/sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'ws/hooks'));
    fs.mkdirSync(path.join(root, 'elsewhere'));
    fs.symlinkSync('.git/hooks', path.join(root, 'ws/lnk'));
    fs.symlinkSync('/ws/.git', path.join(root, 'ws/abs')); // absolute in the target's view
    fs.symlinkSync('/elsewhere/f', path.join(root, 'ws/file-link'));
    fs.symlinkSync('loop2', path.join(root, 'ws/loop1'));
    fs.symlinkSync('loop1', path.join(root, 'ws/loop2'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("`..` after a link goes to the link target's parent, not back lexically", () => {
    assert.equal(resolveComponents(root, '/ws', 'lnk/../hooks/x', true), '/ws/.git/hooks/x');
    assert.equal(resolveComponents(root, '/ws', 'lnk/sub/../../config', true), '/ws/.git/config');
    assert.equal(resolveComponents(root, '/', '/ws/lnk/../x', true), '/ws/.git/x');
  });

  it('absolute link targets start again at the target root', () => {
    assert.equal(resolveComponents(root, '/ws', 'abs/hooks/pre-commit', true), '/ws/.git/hooks/pre-commit');
  });

  it('the last component is followed only when asked', () => {
    assert.equal(resolveComponents(root, '/ws', 'file-link', true), '/elsewhere/f');
    assert.equal(resolveComponents(root, '/ws', 'file-link', false), '/ws/file-link');
    assert.equal(resolveComponents(root, '/ws', 'lnk/../x', false), '/ws/.git/x');
  });

  it('past a missing component the rest is text; link loops end', () => {
    assert.equal(resolveComponents(root, '/ws', 'nope/a/b', true), '/ws/nope/a/b');
    assert.equal(resolveComponents(root, '/ws', './hooks//new', true), '/ws/hooks/new');
    assert.match(resolveComponents(root, '/ws', 'loop1/x', true) ?? '', /^\/ws\/loop[12]\/x$/);
    assert.equal(resolveComponents(root, '/', '/../../ws/hooks', true), '/ws/hooks');
  });

  it("procfs's self links are the target's answer, and a link that cannot be read makes the path unknown", () => {
    fs.mkdirSync(path.join(root, 'proc/77/task/78'), { recursive: true });
    fs.symlinkSync('/ws', path.join(root, 'proc/77/cwd'));
    fs.symlinkSync('/elsewhere', path.join(root, 'proc/77/task/78/cwd'));
    fs.symlinkSync('4242', path.join(root, 'proc/self')); // what the reader (the supervisor) would see
    fs.symlinkSync('4242/task/4243', path.join(root, 'proc/thread-self'));
    const self = (w: 'self' | 'thread-self') => (w === 'self' ? '77' : '77/task/78');
    assert.equal(resolveComponents(root, '/', '/proc/self/cwd/data/x.key', true, self), '/ws/data/x.key');
    assert.equal(resolveComponents(root, '/', '/proc/thread-self/cwd/x', true, self), '/elsewhere/x');
    assert.equal(resolveComponents(root, '/', '/proc/self/cwd/x', true, () => null), null);
    // Without the target's answer the reader's own would be used: the very mistake this guards against.
    assert.equal(resolveComponents(root, '/', '/proc/self/cwd/x', true), '/proc/4242/cwd/x');
  });
});
