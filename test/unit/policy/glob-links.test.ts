// Deny globs through links that exist before the run (src/policy/glob-links.ts): where each link on a glob's
// way or at a match leads, and the glob again there. A tree of entries stands for the disk (the walk's only
// input); the real kernel's side is test/integration/linux/redteam-rt12.test.ts.
import * as assert from 'node:assert/strict';
import { globLinks, type LinkFs } from '../../../src/policy/glob-links';
import { withDenyGlobLinks } from '../../../src/host/deny-glob-links';
import { resolvePolicy } from '../../../src/policy';
import { decidePath } from '../../../src/policy/evaluate';

/** `dir/` a folder, `a -> t` a link, anything else a file; parents are folders. */
function tree(entries: string[]): LinkFs {
  const kinds = new Map<string, 'dir' | 'other' | 'link'>([['/', 'dir']]);
  const links = new Map<string, string>();
  for (const e of entries) {
    const [p, t] = e.split(' -> ') as [string, string | undefined];
    const clean = p.replace(/\/$/, '');
    for (let a = clean.slice(0, clean.lastIndexOf('/')); a; a = a.slice(0, a.lastIndexOf('/'))) kinds.set(a, 'dir');
    kinds.set(clean, t !== undefined ? 'link' : p.endsWith('/') ? 'dir' : 'other');
    if (t !== undefined) links.set(clean, t);
  }
  return {
    lstat: (p) => kinds.get(p) ?? null,
    readlink: (p) => links.get(p) ?? null,
    readdir: (d) => (kinds.get(d) === 'dir' ? [...kinds.keys()].filter((k) => k !== d && k.slice(0, k.lastIndexOf('/') || 1) === d).map((k) => k.slice(k.lastIndexOf('/') + 1)) : null),
  };
}

describe('policy: deny globs through links made before the run', () => {
  it("a link that is the glob's prefix: the glob again at its target, existing or not", () => {
    assert.deepEqual(globLinks(['/ws/sec/*.pem'], tree(['/ws/sec -> /ws/stage'])), { aliases: ['/ws/stage/*.pem'], origins: { '/ws/stage/*.pem': { glob: '/ws/sec/*.pem', link: '/ws/sec' } }, links: ['/ws/sec'], unknown: [] });
    assert.deepEqual(globLinks(['/ws/sec/*.pem'], tree(['/ws/sec -> stage', '/ws/stage/'])).aliases, ['/ws/stage/*.pem'], 'relative to its folder');
    assert.deepEqual(globLinks(['/ws/a/b/*.pem'], tree(['/ws/a -> /ws/stage'])).aliases, ['/ws/stage/b/*.pem'], 'above the last folder');
    assert.deepEqual(globLinks(['/ws/sec'], tree(['/ws/sec -> /ws/stage'])).aliases, ['/ws/stage'], 'a literal: the target, as a literal');
  });

  it('a link on the way below a wildcard: the rest of the glob from its depth, and from a `**` that may go on', () => {
    assert.deepEqual(globLinks(['/ws/a/*/*/*.pem'], tree(['/ws/a/ln -> /ws/stage', '/ws/a/real/'])).aliases, ['/ws/stage/*/*.pem']);
    assert.deepEqual(globLinks(['/ws/sub/**/*.key'], tree(['/ws/sub/x/ln -> ../../stage'])).aliases.sort(), ['/ws/stage/**/*.key', '/ws/stage/*.key'].sort(), "'..' along the glob's own way");
    assert.equal(globLinks(['/ws/sub/*.key'], tree(['/ws/sub/x.key -> ../y/../stage', '/ws/y/'])).unknown.length, 1, "'..' out of a folder off the way");
  });

  it('a match that is a link: its target as a literal; a link that is neither on the way nor a match: nothing', () => {
    const m = globLinks(['/ws/data/*.key'], tree(['/ws/data/x.key -> /ws/stage/k', '/ws/data/y.txt -> /elsewhere']));
    assert.deepEqual([m.aliases, m.links, m.unknown], [['/ws/stage/k'], ['/ws/data/x.key'], []]);
  });

  it('the target followed through further links the script cannot replace, and the aliases walked again (a link at the target)', () => {
    const t = tree(['/ws/sec -> /sys1/mid', '/sys1/mid -> /ws/real/', '/ws/real/c -> /ws/far']);
    const sysWritable = { replaceable: (p: string) => !p.startsWith('/ws/') };
    const chain = globLinks(['/ws/sec/*/*.pem'], t, { replaceable: (p) => p.startsWith('/ws/') });
    assert.deepEqual(chain.aliases, ['/ws/real/*/*.pem', '/ws/far/*.pem']);
    assert.deepEqual(chain.origins['/ws/far/*.pem'], { glob: '/ws/sec/*/*.pem', link: '/ws/sec' }, 'an alias of an alias stands for the glob given');
    const through = globLinks(['/ws/sec/*/*.pem'], t, sysWritable);
    assert.equal(through.unknown.length, 1, 'through a link the script may replace: unknown');
    assert.match(through.unknown[0]!.why, /\/sys1\/mid, which the script may replace/);
  });

  it('unknown too: a target through /proc (the reader decides it), a walk over its budget', () => {
    const proc = globLinks(['/ws/sec/*.pem'], tree(['/ws/sec -> /proc/self/cwd/stage', '/proc/']));
    assert.deepEqual(proc.aliases, []);
    assert.match(proc.unknown[0]!.why, /\/proc/);
    const wide = globLinks(['/ws/sec/*/*.pem'], tree(['/ws/sec/a/', '/ws/sec/b/', '/ws/sec/c -> /ws/stage']), { budget: 2 });
    assert.equal(wide.unknown.length, 1);
    assert.match(wide.unknown[0]!.why, /more than 2 entries/);
  });

  it("magic in a target's name is escaped", () => {
    assert.deepEqual(globLinks(['/ws/sec/*.pem'], tree(['/ws/sec -> /ws/st*ge'])).aliases, ['/ws/st\\*ge/*.pem']);
  });

  it("a target that cannot be known: '..' after a missing folder, a loop", () => {
    const up = globLinks(['/ws/sec/*.pem'], tree(['/ws/sec -> stage/../other', '/ws/x']));
    assert.deepEqual(up.aliases, []);
    assert.equal(up.unknown.length, 1);
    assert.match(up.unknown[0]!.why, /stage\/\.\.\/other.*missing/);
    assert.equal(globLinks(['/ws/sec/*.pem'], tree(['/ws/sec -> /ws/l2', '/ws/l2 -> /ws/sec'])).unknown.length, 1);
    assert.deepEqual(globLinks(['/ws/sec/*.pem'], tree(['/ws/sec -> /ws/real/../other', '/ws/real/']), { replaceable: () => false }).aliases, ['/ws/other/*.pem'], "'..' from a folder that exists and stays is fine");
  });

  it('withDenyGlobLinks: aliases land in the list of their glob; enforce refuses an unknown target, warn notes it; disabled untouched', () => {
    const fs = tree(['/ws/sec -> /ws/stage', '/ws/keys -> k/../x']);
    const pol = (mode: 'enforce' | 'warn' | 'disabled', deny: string[]) => resolvePolicy({ user: { mode, filesystem: { denyRead: deny, denyWrite: ['/ws/sec/*.key'] } } }, { workspace: '/ws', home: '/home/u' }).policy;
    const w = withDenyGlobLinks(pol('enforce', ['/ws/sec/*.pem']), fs);
    assert.ok(w.policy.filesystem.denyRead.includes('/ws/stage/*.pem'));
    assert.ok(!w.policy.filesystem.denyRead.includes('/ws/stage/*.key'));
    assert.ok(w.policy.filesystem.denyWrite.includes('/ws/stage/*.key'));
    assert.deepEqual(w.links, ['/ws/sec']);
    assert.deepEqual(w.policy.filesystem.linkedGlobs?.['/ws/stage/*.pem'], { glob: '/ws/sec/*.pem', link: '/ws/sec' });
    const d = decidePath(w.policy, '/ws/stage/x.pem', 'read');
    assert.equal(d.allowed, false);
    assert.match(d.reason, /denied by denyRead \/ws\/stage\/\*\.pem \(\/ws\/sec\/\*\.pem followed through the link \/ws\/sec\)/);
    assert.throws(() => withDenyGlobLinks(pol('enforce', ['/ws/keys/*.key']), fs), (e: Error & { code?: string }) => e.code === 'MECHANISM_UNAVAILABLE' && /\/ws\/keys -> k\/\.\.\/x/.test(e.message));
    assert.equal(withDenyGlobLinks(pol('warn', ['/ws/keys/*.key']), fs).notes.length, 1);
    // Replaceable is the policy's writability: a link in the home on the way to a target is unknown under
    // permissive (writes outside system paths), kept under moderate (the home is not writable there).
    const home = tree(['/ws/sec -> /home/u/l2/stage', '/home/u/l2 -> /home/u/d1', '/home/u/d1/stage/']);
    const prof = (profile: 'moderate' | 'permissive') => resolvePolicy({ user: { mode: 'enforce', profile, filesystem: { denyRead: ['/ws/sec/*.pem'] } } }, { workspace: '/ws', home: '/home/u' }).policy;
    assert.throws(() => withDenyGlobLinks(prof('permissive'), home), /goes through the link \/home\/u\/l2, which the script may replace/);
    assert.ok(withDenyGlobLinks(prof('moderate'), home).policy.filesystem.denyRead.includes('/home/u/d1/stage/*.pem'));
    // '..' out of a folder the script may replace (the workspace's stage) is unknown; out of one it may not, kept.
    assert.throws(() => withDenyGlobLinks(pol('enforce', ['/ws/sec/*.pem']), tree(['/ws/sec -> stage/../real', '/ws/stage/', '/ws/real/'])), /goes up \('\.\.'\) from \/ws\/stage/);
    assert.ok(withDenyGlobLinks(pol('enforce', ['/ws/sec/*.pem']), tree(['/ws/sec -> /usr/share/../real', '/usr/share/'])).policy.filesystem.denyRead.includes('/usr/real/*.pem'));
    // Asked of the entry itself: a deny glob on other names of its folder (`.*`) does not make it stay.
    const dots = resolvePolicy({ user: { mode: 'enforce', filesystem: { denyRead: ['/ws/sec/*.pem'], denyWrite: ['/ws/.*'] } } }, { workspace: '/ws', home: '/home/u' }).policy;
    assert.throws(() => withDenyGlobLinks(dots, tree(['/ws/sec -> stage/../real', '/ws/stage/', '/ws/real/'])), /goes up \('\.\.'\) from \/ws\/stage/);
    // A link on a literal or subtree deny's way (L for L/stage) is followed only when the script cannot replace it.
    assert.throws(() => withDenyGlobLinks(pol('enforce', ['/ws/L/stage']), tree(['/ws/L -> real', '/ws/real/stage/'])), /the link \/ws\/L on its way may be replaced/);
    assert.ok(withDenyGlobLinks(pol('enforce', ['/usr/L/stage']), tree(['/usr/L -> real', '/usr/real/stage/'])).policy.filesystem.denyRead.includes('/usr/real/stage'));
    // A link passed on the way to a target counts even on the glob's own way (rm a/M; mkdir a/M keeps the name).
    assert.throws(() => withDenyGlobLinks(pol('enforce', ['/ws/a/*/x.pem']), tree(['/ws/a/M -> ../real', '/ws/a/L -> M/sub', '/ws/real/sub/'])), /goes through the link \/ws\/a\/M/);
    // Many unknowns: five named, the rest counted.
    const many = tree(Array.from({ length: 8 }, (_, i) => `/ws/sec/l${i} -> /proc/${i}`));
    assert.throws(() => withDenyGlobLinks(pol('enforce', ['/ws/sec/*/*.pem']), many), (e: Error) => /and 3 more/.test(e.message) && e.message.length < 2000);
    const off = pol('disabled', ['/ws/sec/*.pem']);
    assert.equal(withDenyGlobLinks(off, fs).policy, off);
  });
});
