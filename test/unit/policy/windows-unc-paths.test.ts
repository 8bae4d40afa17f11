// The protected set and path rules of a Windows plan whose workspace is a UNC share (`\\server\share\ws`) or
// a drive (`C:\…`, Wine's `Z:\…`). path.posix.normalize turns `//server/share/ws` into `/server/share/ws`,
// a folder on the current drive: the protected `.git` and `.vscode` then lay outside the workspace, the run's
// ACL grants carried no deny-write ACE for them, and every rule on the share missed. Names compare
// case-insensitively on Windows (NTFS, SMB), and a policy may spell a path with either separator.
import * as assert from 'node:assert/strict';
import { resolvePolicy } from '../../../src/policy/resolve';
import { decidePath } from '../../../src/policy/evaluate';
import { protectedPaths, protectedSet } from '../../../src/policy/protected-set';
import { globCovers, globNames, isUnder, normalizePolicyPath } from '../../../src/policy/paths';
import { fileGrantsFor } from '../../../native/win32/confine-plan';
import type { PolicyInput } from '../../../src/policy/schema';

const resolveAt = (workspace: string, home: string, run: PolicyInput = {}) => resolvePolicy({ run: { mode: 'enforce', profile: 'moderate', ...run } }, { workspace, home }).policy;
const abs = (p: ReturnType<typeof resolveAt>) => protectedPaths(p).map((e) => e.abs);

describe('Windows policy paths: UNC shares, drives, case and separators', () => {
  for (const ws of ['\\\\server\\share\\ws', '//server/share/ws', '\\\\server\\share\\ws\\', '//server/share/x/../ws']) {
    it(`a UNC workspace ${ws} keeps its // in the protected set (no /server/… on the current drive)`, () => {
      const p = resolveAt(ws, '\\\\server\\home\\u');
      assert.equal(p.workspace, '//server/share/ws');
      const set = abs(p);
      assert.ok(set.includes('//server/share/ws/.git'), set.join(' '));
      assert.ok(set.includes('//server/share/ws/.vscode'), set.join(' '));
      assert.ok(set.includes('//server/home/u/.ssh'), set.join(' '));
      assert.ok(!set.some((x) => /^\/server\//.test(x)), set.join(' '));
      // Matched back to its ALWAYS_PROTECTED entry: .git keeps its reason and its writable objects/refs/logs.
      const git = protectedPaths(p).find((e) => e.abs === '//server/share/ws/.git');
      assert.equal(git?.display, '.git');
      assert.deepEqual(git?.writableInside, ['objects', 'refs', 'logs'].map((w) => `//server/share/ws/.git/${w}`));
      assert.ok(protectedSet(p).some((e) => e.abs === '//server/share/ws/.git'));
    });
  }

  it('the run\'s ACL grants on a UNC workspace deny writes to its protected .git and .vscode', () => {
    const grants = fileGrantsFor(resolveAt('\\\\server\\share\\ws', 'C:\\Users\\u'), 'C:\\Temp\\run1');
    const denies = grants.filter((g) => g.kind === 'deny').map((g) => g.path);
    assert.ok(denies.includes('\\\\server\\share\\ws\\.git'), denies.join(' '));
    assert.ok(denies.includes('\\\\server\\share\\ws\\.vscode'), denies.join(' '));
    assert.ok(grants.some((g) => g.kind === 'write' && g.path === '\\\\server\\share\\ws\\.git\\objects'));
  });

  it('decidePath on a UNC workspace: the workspace is writable, its .git/hooks and .vscode are not', () => {
    const p = resolveAt('\\\\server\\share\\ws', 'C:\\Users\\u');
    assert.equal(decidePath(p, '\\\\server\\share\\ws\\src\\a.ts', 'write').allowed, true);
    assert.equal(decidePath(p, '//server/share/ws/.git/hooks/pre-commit', 'write').allowed, false);
    assert.equal(decidePath(p, '\\\\server\\share\\ws\\.vscode\\settings.json', 'write').allowed, false);
    assert.equal(decidePath(p, '//server/share/other/x', 'write').allowed, false);
  });

  it('C:\\ and Wine\'s Z:\\ workspaces: protected entries under the workspace and home, drive letter upper-case', () => {
    for (const [ws, home, d] of [['C:\\work\\proj', 'C:\\Users\\u', 'C'], ['z:\\tmp\\ws', 'Z:\\home\\u', 'Z']] as const) {
      const p = resolveAt(ws, home);
      const set = abs(p);
      assert.ok(set.includes(`${d}:/${ws.slice(3).replace(/\\/g, '/')}/.git`), set.join(' '));
      assert.ok(set.includes(`${d}:/${home.slice(3).replace(/\\/g, '/')}/.ssh`), set.join(' '));
    }
  });

  it('names compare case-insensitively on Windows: a different spelling is still protected, still unprotected, still named', () => {
    const p = resolveAt('C:\\Work\\Proj', 'C:\\Users\\U');
    assert.equal(decidePath(p, 'c:\\work\\proj\\.GIT\\hooks\\pre-commit', 'write').allowed, false);
    assert.equal(decidePath(p, 'C:\\WORK\\PROJ\\src\\a.ts', 'write').allowed, true);
    assert.equal(decidePath(p, '\\\\SERVER\\Share\\x', 'write').allowed, false);
    const un = resolveAt('C:\\Work\\Proj', 'C:\\Users\\U', { filesystem: { unprotect: ['c:\\users\\u\\.AWS'] } });
    assert.ok(!protectedSet(un).some((e) => /\.aws$/i.test(e.abs)), 'unprotect in another case did not release ~/.aws');
    assert.ok(globNames('c:/users/u/.SSH', 'C:/Users/U/.ssh'));
    assert.ok(isUnder('//SERVER/share/ws/a', '//server/Share/ws'));
    // Linux stays case-sensitive.
    assert.equal(isUnder('/Home/u/.ssh', '/home/u'), false);
    assert.equal(globCovers('/home/u/*.key', '/home/u/A.KEY'), false);
  });

  it('globs with either separator: deny lists match Windows paths in any case and on UNC shares', () => {
    const p = resolveAt('C:\\work\\proj', 'C:\\Users\\u', { filesystem: { denyWrite: ['data\\*.key', '\\\\server\\share\\ws\\**', 'C:/Keys/**/*.pem'] } });
    assert.deepEqual(p.filesystem.denyWrite, ['C:/work/proj/data/*.key', '//server/share/ws/**', 'C:/Keys/**/*.pem']);
    assert.equal(decidePath(p, 'C:\\work\\proj\\data\\a.key', 'write').allowed, false);
    assert.equal(decidePath(p, 'c:/WORK/proj/DATA/B.KEY', 'write').allowed, false);
    assert.equal(decidePath(p, '\\\\server\\share\\ws\\f', 'write').allowed, false);
    assert.equal(decidePath(p, 'C:\\keys\\a\\b\\x.PEM', 'write').allowed, false);
    assert.equal(decidePath(p, 'C:\\work\\proj\\data\\a.txt', 'write').allowed, true);
    assert.ok(globCovers('//server/share/ws/**', '//server/share/ws/sub/f'));
    assert.ok(globCovers('//server/share/ws/*.key', '//server/share/ws/a.key'));
  });

  it('normalizePolicyPath keeps a UNC root and normalises the rest; a Linux path loses doubled slashes as before', () => {
    assert.equal(normalizePolicyPath('//server/share/ws/./a/../b/'), '//server/share/ws/b');
    assert.equal(normalizePolicyPath('C:/work//proj/'), 'C:/work/proj');
    assert.equal(normalizePolicyPath('/home//u/'), '/home/u');
    assert.equal(normalizePolicyPath('///etc/passwd'), '/etc/passwd');
  });
});

describe('git discovery on a Windows workspace', () => {
  it('the walk for a containing repository ends at the drive or share root (it never ended for C:\\…)', () => {
    const seen: string[] = [];
    const fs = { kind: (p: string) => (seen.push(p), seen.length > 200 ? 'dir' : null), readFile: () => null, readdir: () => null } as never;
    for (const ws of ['C:\\work\\proj', '\\\\server\\share\\ws\\sub']) {
      seen.length = 0;
      protectedSet(resolveAt(ws, 'C:\\Users\\u'), fs);
      assert.ok(seen.length < 200, `the walk did not end: ${seen.slice(0, 12).join(' ')} …`);
    }
    // The drive root's and the share root's .git are still looked for; nothing above them.
    seen.length = 0;
    protectedSet(resolveAt('C:\\work\\proj', 'C:\\Users\\u'), fs);
    assert.ok(seen.includes('C:/.git') && seen.includes('C:/work/.git'), seen.join(' '));
    seen.length = 0;
    protectedSet(resolveAt('\\\\server\\share\\ws\\sub', 'C:\\Users\\u'), fs);
    assert.ok(seen.includes('//server/share/.git') && !seen.some((p) => p === '//server/.git' || p === '/.git'), seen.join(' '));
  });

  it('a Windows workspace inside a repository: the outer repository\'s .git is protected', () => {
    const fs = { kind: (p: string) => (p === 'C:/work/.git' ? 'dir' : null), readFile: () => null, readdir: () => null } as never;
    const set = protectedSet(resolveAt('C:\\work\\proj', 'C:\\Users\\u'), fs).map((e) => e.abs);
    assert.ok(set.includes('C:/work/.git'), set.join(' '));
  });
});

describe('git metadata of a Windows workspace in the run\'s ACL grants', () => {
  /** A workspace C:/work/proj (or a share) whose .git/config sets core.hooksPath, and a submodule. */
  const repoFs = (ws: string, hooksPath: string) => {
    const files: Record<string, string> = {
      [`${ws}/.git/config`]: `[core]\n\thooksPath = ${hooksPath}\n`,
      [`${ws}/.gitmodules`]: '[submodule "lib"]\n\tpath = vendor/lib\n',
      [`${ws}/vendor/lib/.git`]: 'gitdir: ../../.git/modules/lib\n',
    };
    const dirs = new Set([`${ws}/.git`, `${ws}/.git/modules/lib`]);
    return { readFile: (p: string) => files[p] ?? null, kind: (p: string) => (p in files ? 'file' : dirs.has(p) ? 'dir' : null), readdir: () => null } as never;
  };

  for (const [given, ws, win] of [
    ['C:\\work\\proj', 'C:/work/proj', 'C:\\work\\proj'],
    ['\\\\server\\share\\proj', '//server/share/proj', '\\\\server\\share\\proj'],
  ] as const) {
    it(`core.hooksPath (husky's .husky/_), and a submodule's .git file resolve under ${given}, and are denied`, () => {
      const p = resolveAt(given, 'C:\\Users\\u');
      const set = protectedSet(p, repoFs(ws, '.husky/_')).map((e) => e.abs);
      for (const x of [`${ws}/.husky/_`, `${ws}/.husky`, `${ws}/vendor/lib/.git`]) assert.ok(set.includes(x), `${x} not in ${set.join(' ')}`);
      assert.ok(!set.some((x) => x.includes(process.cwd())), set.join(' '));
      const denies = fileGrantsFor(p, 'C:\\Temp\\run1', protectedSet(p, repoFs(ws, '.husky/_'))).filter((g) => g.kind === 'deny').map((g) => g.path);
      for (const x of ['.husky\\_', '.husky', 'vendor\\lib\\.git']) assert.ok(denies.includes(`${win}\\${x}`), `${x} not denied: ${denies.join(' ')}`);
    });
  }

  it('an absolute Windows hooksPath (either separator) is taken as it is, not joined to the host\'s folder', () => {
    const p = resolveAt('C:\\work\\proj', 'C:\\Users\\u');
    // In git config a backslash is an escape: D:\hooks is written D:\\hooks (or D:/hooks).
    for (const v of ['D:\\\\hooks', 'D:/hooks']) assert.ok(protectedSet(p, repoFs('C:/work/proj', v)).some((e) => e.abs === 'D:/hooks'), v);
    assert.ok(protectedSet(p, repoFs('C:/work/proj', '/hooks')).some((e) => e.abs === 'C:/hooks'));
  });
});
