// Policy paths on a Windows plan: `C:/out`, `C:\out` and `\\server\share` are absolute there and must never be
// joined to the workspace as if relative (the grant would land on `C:/work/proj/C:/out`, the deny on nothing).
// The style comes from the run (its workspace, or the caller's plan), not from the OS running this test.
import * as assert from 'node:assert/strict';
import { resolvePolicy } from '../../../src/policy/resolve';
import { decidePath } from '../../../src/policy/evaluate';
import { isAbsoluteFor, pathStyleOf } from '../../../src/policy/paths';
import { SandboxError } from '../../../src/errors';
import { fileGrantsFor } from '../../../native/win32/confine-plan';
import type { PolicyInput } from '../../../src/policy/schema';

const WIN = { workspace: 'C:\\work\\proj', home: 'C:\\Users\\u' };
const win = (filesystem: PolicyInput['filesystem']) => resolvePolicy({ run: { filesystem } }, WIN).policy;

describe('policy paths on a Windows plan', () => {
  it('the style is the run\'s: a Windows workspace (as given or as resolved) is win32, a Linux one posix', () => {
    assert.equal(pathStyleOf('C:\\work\\proj'), 'win32');
    assert.equal(pathStyleOf('Z:/tmp/ws'), 'win32');
    assert.equal(pathStyleOf('\\\\server\\share\\ws'), 'win32');
    assert.equal(pathStyleOf('//server/share/ws'), 'win32');
    assert.equal(pathStyleOf('/work/proj'), 'posix');
    assert.equal(resolvePolicy({}, WIN).policy.workspace, 'C:/work/proj');
  });

  it('absoluteness is platform-aware: C:/x, C:\\x and UNC are absolute on win32 only; C:x is drive-relative', () => {
    for (const p of ['C:/out', 'C:\\out', 'c:\\out', '\\\\server\\share', '//server/share/x', '/x']) assert.equal(isAbsoluteFor(p, 'win32'), true, p);
    for (const p of ['out', 'C:out', '.\\out', '..\\x']) assert.equal(isAbsoluteFor(p, 'win32'), false, p);
    for (const p of ['C:/out', 'C:\\out', '\\\\server\\share', 'out']) assert.equal(isAbsoluteFor(p, 'posix'), false, p);
    assert.equal(isAbsoluteFor('/x', 'posix'), true);
  });

  it('allowWrite/denyWrite/allowRead/denyRead with either separator stay absolute (upper-case drive, `/`)', () => {
    const p = win({ allowWrite: ['C:/out', 'd:\\build\\**'], denyWrite: ['C:\\work\\proj\\secret'], allowRead: ['\\\\server\\share\\data'], denyRead: ['C:/keys/*.pem'] });
    assert.deepEqual(p.filesystem.allowWrite, ['C:/out', 'D:/build/**']);
    assert.deepEqual(p.filesystem.denyWrite, ['C:/work/proj/secret']);
    assert.deepEqual(p.filesystem.allowRead, ['//server/share/data']);
    assert.deepEqual(p.filesystem.denyRead, ['C:/keys/*.pem']);
  });

  it('relative paths (either separator) and ~ still resolve under the workspace and home; .. is normalised', () => {
    const p = win({ allowWrite: ['build\\out', './dist', '..\\sibling', '~/cache', '~'] });
    assert.deepEqual(p.filesystem.allowWrite, ['C:/work/proj/build/out', 'C:/work/proj/dist', 'C:/work/sibling', 'C:/Users/u/cache', 'C:/Users/u']);
  });

  it('a drive-relative C:x is refused, not guessed', () => {
    assert.throws(() => win({ allowWrite: ['C:out'] }), (e: unknown) => e instanceof SandboxError && e.code === 'POLICY_INVALID' && /relative to the current directory of drive C/.test(e.message));
  });

  it('unprotect takes a Windows path too', () => {
    const p = resolvePolicy({ run: { filesystem: { unprotect: ['C:\\Users\\u\\.aws'] } } }, WIN).policy;
    assert.deepEqual(p.filesystem.unprotect, ['C:/Users/u/.aws']);
    assert.ok(!p.filesystem.protected.includes('C:/Users/u/.aws'));
    assert.ok(p.filesystem.protected.includes('C:/Users/u/.ssh'));
  });

  it('the Windows plan grants the absolute folder itself: C:\\out, not C:\\work\\proj\\C:\\out', () => {
    const grants = fileGrantsFor(win({ allowWrite: ['C:\\out', '\\\\server\\share\\drop'] }), 'C:\\Temp\\run1');
    const writes = grants.filter((g) => g.kind === 'write').map((g) => g.path);
    assert.ok(writes.includes('C:\\out'), writes.join(' '));
    assert.ok(writes.includes('\\\\server\\share\\drop'), writes.join(' '));
    assert.ok(!writes.some((w) => /proj\\C:/i.test(w)), writes.join(' '));
  });

  it('decidePath takes a Windows absolute path as absolute', () => {
    const p = win({ denyWrite: ['C:/out'] });
    assert.equal(decidePath(p, 'C:\\out\\x.txt', 'write').allowed, false);
    assert.equal(decidePath(p, 'C:\\work\\proj\\x.txt', 'write').allowed, true);
  });

  it('on Linux nothing changes: C:/out is a workspace-relative name there', () => {
    const p = resolvePolicy({ run: { filesystem: { allowWrite: ['C:/out', '/abs'] } } }, { workspace: '/work/proj', home: '/home/u' }).policy;
    assert.deepEqual(p.filesystem.allowWrite, ['/work/proj/C:/out', '/abs']);
  });

  it('the caller\'s plan can name the style explicitly', () => {
    const p = resolvePolicy({ run: { filesystem: { allowWrite: ['C:/out'] } } }, { workspace: 'C:\\work\\proj', home: 'C:\\Users\\u', pathStyle: 'win32' }).policy;
    assert.deepEqual(p.filesystem.allowWrite, ['C:/out']);
  });
});
