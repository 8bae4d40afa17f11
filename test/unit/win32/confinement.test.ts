// File confinement on Windows, the pure parts: SID and ACL bytes (what the kernel reads), the token's structs,
// the grants a policy turns into, the crash journal's replay, and the case-insensitive environment.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import koffi from 'koffi';
import { newRunSid, sidFromBytes, sidToBytes } from '../../../native/win32/sid';
import { AceFlag, AceType, encodeAce, encodeAcl, FileAccess, namesSid, parseAcl, withAce, withoutSid } from '../../../native/win32/acl';
import { FILETIME, SID_AND_ATTRIBUTES, sidAndAttributesArray, TOKEN_DEFAULT_DACL, TOKEN_GROUPS_HEADER, TOKEN_USER } from '../../../native/win32/token-structs';
import { defaultDacl, RESTRICTED_TOKEN_FLAGS, restrictingSids } from '../../../native/win32/restricted-token';
import { aceFor } from '../../../native/win32/file-grants';
import { fileGrantsFor, isUnderWin } from '../../../native/win32/confine-plan';
import { readJournals, replayJournals, writeJournal } from '../../../native/win32/acl-journal';
import { envNamesForPolicy, environmentBlock, windowsEnv } from '../../../native/win32/command-line';
import { compileWin32Plan, win32Refusal, win32Restrictions } from '../../../native/win32/compile-plan';
import { resolvePolicy } from '../../../src/policy/resolve';
import type { PolicyInput } from '../../../src/policy/schema';

const hex = (b: Buffer) => b.toString('hex');

describe('win32 SIDs as bytes', function () {
  it('S-1-1-0 (Everyone) and S-1-5-18 (SYSTEM) encode as winnt.h lays them out', function () {
    assert.equal(hex(sidToBytes('S-1-1-0')), '0101' + '000000000001' + '00000000');
    assert.equal(hex(sidToBytes('S-1-5-18')), '0101' + '000000000005' + '12000000');
  });
  it('a user SID with five sub-authorities: 28 bytes, sub-authorities little-endian, round trip', function () {
    const s = 'S-1-5-21-3623811015-3361044348-30300820-1013';
    const b = sidToBytes(s);
    assert.equal(b.length, 28);
    assert.equal(hex(b), '0105' + '000000000005' + '15000000' + 'c7f7fed7' + '7c7755c8' + '945ace01' + 'f5030000');
    assert.equal(sidFromBytes(b), s);
  });
  it('a 48-bit identifier authority is big-endian; malformed or out-of-range SIDs are refused', function () {
    assert.equal(hex(sidToBytes('S-1-281474976710655')), '0100ffffffffffff');
    assert.throws(() => sidToBytes('S-1-5-4294967296'), /out of range/);
    assert.throws(() => sidToBytes('S-2-5'), /not a SID/);
    assert.throws(() => sidToBytes('S-1-5' + '-1'.repeat(16)), /out of range/);
  });
  it('a run SID is S-1-15-3 with four random sub-authorities, different each run', function () {
    const fixed = newRunSid(() => Buffer.from('01000000020000000300000004000000', 'hex'));
    assert.equal(fixed, 'S-1-15-3-1-2-3-4');
    assert.notEqual(newRunSid(), newRunSid());
    assert.equal(sidToBytes(newRunSid()).length, 8 + 4 * 5); // sub-authorities 3, r1..r4
  });
});

describe('win32 ACLs as bytes', function () {
  const RUN = 'S-1-15-3-1-2-3-4';
  const USER = 'S-1-5-21-1-2-3-1001';
  it('ACCESS_ALLOWED_ACE: type, flags, size, mask, SID', function () {
    const ace = encodeAce(AceType.ACCESS_ALLOWED, AceFlag.OBJECT_INHERIT | AceFlag.CONTAINER_INHERIT, FileAccess.MODIFY, 'S-1-1-0');
    assert.equal(hex(ace), '00' + '03' + '1400' + 'bf011300' + '010100000000000100000000');
  });
  it('ACL header: revision 2, size, count; an empty ACL is 8 bytes', function () {
    assert.equal(hex(encodeAcl([])), '02000800' + '00000000');
    const acl = encodeAcl([encodeAce(AceType.ACCESS_ALLOWED, 0, FileAccess.GENERIC_ALL, 'S-1-5-18')]);
    // ACL 28 bytes = header 8 + ACE 20 (header 4, mask 4, SID 12)
    assert.equal(hex(acl), '02001c00' + '01000000' + '00001400' + '00000010' + '0101000000000005' + '12000000');
    assert.equal(acl.length, 28);
  });
  it('an allow goes after the explicit ACEs and before the inherited ones; a deny goes first', function () {
    const explicitDeny = encodeAce(AceType.ACCESS_DENIED, 0, 0x2, 'S-1-5-32-546');
    const explicitAllow = encodeAce(AceType.ACCESS_ALLOWED, 0, FileAccess.GENERIC_ALL, USER);
    const inherited = encodeAce(AceType.ACCESS_ALLOWED, AceFlag.INHERITED | 3, FileAccess.GENERIC_ALL, 'S-1-5-18');
    const base = encodeAcl([explicitDeny, explicitAllow, inherited]);
    const withAllow = parseAcl(withAce(base, AceType.ACCESS_ALLOWED, 3, FileAccess.MODIFY, RUN)).aces;
    assert.deepEqual(withAllow.map((a) => a.sid), ['S-1-5-32-546', USER, RUN, 'S-1-5-18']);
    assert.deepEqual(withAllow.map((a) => a.raw), [explicitDeny, explicitAllow, encodeAce(0, 3, FileAccess.MODIFY, RUN), inherited]);
    const withDeny = parseAcl(withAce(base, AceType.ACCESS_DENIED, 3, FileAccess.WRITE_AND_DELETE, RUN)).aces;
    assert.deepEqual(withDeny.map((a) => [a.type, a.sid]), [[1, RUN], [1, 'S-1-5-32-546'], [0, USER], [0, 'S-1-5-18']]);
  });
  it('removing the run SID restores the original bytes exactly, explicit and inherited copies alike; unknown ACE types pass through', function () {
    const objectAce = Buffer.from('05021800' + '00000000' + '00000000' + '0101000000000005' + '12000000', 'hex'); // ACCESS_ALLOWED_OBJECT_ACE, opaque here
    const base = encodeAcl([encodeAce(0, 0, FileAccess.GENERIC_ALL, USER), objectAce]);
    const granted = withAce(withAce(base, 0, 3, FileAccess.MODIFY, RUN), 1, 3, FileAccess.WRITE_AND_DELETE, RUN);
    assert.equal(namesSid(granted, RUN), true);
    const { acl, removed } = withoutSid(granted, RUN);
    assert.equal(removed, 2);
    assert.equal(hex(acl), hex(base));
    assert.equal(parseAcl(acl).aces[1].sid, null);
    assert.equal(namesSid(acl, RUN.toLowerCase().replace('s-', 'S-')), false);
  });
  it('a malformed ACL is refused, not guessed', function () {
    assert.throws(() => parseAcl(Buffer.from('0200', 'hex')), /short header/);
    const bad = encodeAcl([encodeAce(0, 0, 1, USER)]);
    bad.writeUInt16LE(200, 10); // ACE size beyond the ACL
    assert.throws(() => parseAcl(bad), /ACE size/);
  });
  it('grant kinds: write = Modify inherited by files and folders; deny = write, delete, WRITE_DAC/OWNER but not SYNCHRONIZE or READ_CONTROL', function () {
    assert.deepEqual(aceFor('write'), { type: 0, flags: 3, mask: 0x1301bf });
    const d = aceFor('deny');
    assert.equal(d.type, 1);
    assert.equal(d.mask, 0xd0156);
    assert.equal(d.mask & 0x100000, 0);
    assert.equal(d.mask & 0x20000, 0);
  });
});

describe('win32 restricted token structs', function () {
  it('SID_AND_ATTRIBUTES = 16 (Sid 0, Attributes 8); TOKEN_USER = 16; TOKEN_GROUPS groups at 8; TOKEN_DEFAULT_DACL = 8; FILETIME = 8', function () {
    assert.equal(koffi.sizeof(SID_AND_ATTRIBUTES), 16);
    assert.equal(koffi.offsetof(SID_AND_ATTRIBUTES, 'Attributes'), 8);
    assert.equal(koffi.sizeof(TOKEN_USER), 16);
    assert.equal(koffi.offsetof(TOKEN_GROUPS_HEADER, 'Groups'), 8);
    assert.equal(koffi.sizeof(TOKEN_DEFAULT_DACL), 8);
    assert.equal(koffi.sizeof(FILETIME), 8);
  });
  it('SidsToRestrict: one 16-byte entry per SID address, attributes 0', function () {
    const b = sidAndAttributesArray([0x1122334455667788n, 0x10n]);
    assert.equal(hex(b), '8877665544332211' + '00000000' + '00000000' + '1000000000000000' + '0000000000000000');
  });
  it('flags DISABLE_MAX_PRIVILEGE | LUA_TOKEN | WRITE_RESTRICTED; restricting SIDs: run, logon, Everyone (never the user SID)', function () {
    assert.equal(RESTRICTED_TOKEN_FLAGS, 0x1 | 0x4 | 0x8);
    assert.deepEqual(restrictingSids('S-1-15-3-1-2-3-4', 'S-1-5-5-0-999'), ['S-1-15-3-1-2-3-4', 'S-1-5-5-0-999', 'S-1-1-0']);
    assert.deepEqual(restrictingSids('S-1-15-3-1-2-3-4', null), ['S-1-15-3-1-2-3-4', 'S-1-1-0']);
  });
  it('the default DACL grants GENERIC_ALL to the user, SYSTEM and the run SID, byte for byte', function () {
    const d = defaultDacl('S-1-5-21-1-2-3-1001', 'S-1-15-3-1-2-3-4');
    const expect = encodeAcl(['S-1-5-21-1-2-3-1001', 'S-1-5-18', 'S-1-15-3-1-2-3-4'].map((s) => encodeAce(0, 0, 0x10000000, s)));
    assert.equal(hex(d), hex(expect));
    assert.equal(d.readUInt16LE(2), 8 + (8 + 28) + (8 + 12) + (8 + 28)); // user and run SIDs have 5 sub-authorities
  });
});

const CTX = { workspace: 'C:\\Users\\me\\proj', home: 'C:\\Users\\me' };
const pol = (run: PolicyInput) => resolvePolicy({ run }, CTX).policy;
const TMP = 'C:\\Users\\me\\AppData\\Local\\Temp\\ss-r1';

describe('win32 grants from the policy', function () {
  it('enforce moderate: write on the workspace and run temp; protected paths inside the workspace denied, git objects/refs/logs writable again', function () {
    const g = fileGrantsFor(pol({ mode: 'enforce', profile: 'moderate' }), TMP);
    const writes = g.filter((x) => x.kind === 'write').map((x) => x.path);
    const denies = g.filter((x) => x.kind === 'deny').map((x) => x.path);
    assert.deepEqual(writes.slice(0, 2), ['C:\\Users\\me\\proj', TMP]);
    assert.ok(denies.includes('C:\\Users\\me\\proj\\.git'), denies.join(' '));
    assert.ok(denies.includes('C:\\Users\\me\\proj\\.vscode'), denies.join(' '));
    assert.ok(writes.includes('C:\\Users\\me\\proj\\.git\\objects'), writes.join(' '));
    assert.ok(!denies.some((d) => d.toLowerCase().includes('.ssh')), 'protected paths outside the grants need no deny (nothing grants them)');
    // allows come first so a deny's propagation keeps the explicit allows below it
    assert.ok(g.findIndex((x) => x.kind === 'deny') > g.map((x) => x.kind).lastIndexOf('write'));
  });
  it('read-only: only the run temp; denyWrite inside a grant is a deny on its literal prefix; allowWrite adds a grant', function () {
    assert.deepEqual(fileGrantsFor(pol({ mode: 'enforce', profile: 'moderate', filesystem: { readOnly: true } }), TMP).filter((x) => x.kind === 'write').map((x) => x.path), [TMP]);
    const g = fileGrantsFor(pol({ mode: 'enforce', profile: 'moderate', filesystem: { denyWrite: ['secrets/**'], allowWrite: ['~/out'] } }), TMP);
    assert.ok(g.some((x) => x.kind === 'deny' && x.path === 'C:\\Users\\me\\proj\\secrets'));
    assert.ok(g.some((x) => x.kind === 'write' && x.path === 'C:\\Users\\me\\out'));
  });
  it('no token (no grants) in warn, disabled and permissive', function () {
    assert.deepEqual(fileGrantsFor(pol({ mode: 'warn', profile: 'moderate' }), TMP), []);
    assert.deepEqual(fileGrantsFor(pol({ mode: 'disabled' }), TMP), []);
    assert.deepEqual(fileGrantsFor(pol({ mode: 'enforce', profile: 'permissive' }), TMP), []);
  });
  it('containment is case-insensitive and separator-agnostic, as NTFS names are', function () {
    assert.equal(isUnderWin('c:/users/ME/proj/x', 'C:\\Users\\me\\proj'), true);
    assert.equal(isUnderWin('C:\\Users\\me\\project', 'C:\\Users\\me\\proj'), false);
  });
  it('the report says enforced only when the probe measured it; refusals follow', function () {
    const p = pol({ mode: 'enforce', profile: 'moderate', filesystem: { readOnly: true } });
    const unverified = { enforced: false, detail: 'Wine: a probe wrote outside every grant' };
    const verified = { enforced: true, detail: 'probe refused' };
    const st = (fc: typeof verified) => Object.fromEntries(win32Restrictions(p, fc).map((x) => [x.name, x]));
    assert.equal(st(unverified)['filesystem.write'].status, 'not available');
    assert.match(st(unverified)['filesystem.write'].detail, /Wine/);
    assert.equal(st(verified)['filesystem.write'].status, 'enforced');
    assert.equal(st(verified)['filesystem.protectedReads'].status, 'not available');
    assert.match(win32Refusal(p, unverified)!.message, /read-only mode/);
    assert.equal(win32Refusal(p, verified), null);
    assert.match(win32Refusal(pol({ mode: 'enforce', profile: 'moderate', filesystem: { denyRead: ['x'] } }), verified)!.message, /denyRead/);
  });
  it('the plan carries the run SID for the launcher\'s token', function () {
    const { plan } = compileWin32Plan(pol({ mode: 'enforce', profile: 'moderate' }), {
      runId: 'r1', file: 'C:\\w\\s.cmd', argv: ['s.cmd'], env: {}, cwd: 'C:\\w', job: null, systemRoot: 'C:\\Windows',
      restrictedToken: { sid: 'S-1-15-3-1-2-3-4' }, fileConfinement: { enforced: true, detail: '' },
    });
    assert.deepEqual(plan.restrictedToken, { sid: 'S-1-15-3-1-2-3-4' });
  });
});

describe('win32 ACL journal (crash recovery)', function () {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-acljournal-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const entry = (runId: string, hostPid: number) => ({ runId, sid: `S-1-15-3-9-9-9-${hostPid}`, hostPid, hostStartMs: 1000, paths: ['C:\\w', 'C:\\t'] });

  it('replay undoes the grants of a dead host (every listed path) and deletes its journal; a live host\'s journal stays', function () {
    writeJournal(dir, entry('dead', 11));
    writeJournal(dir, entry('live', 22));
    const revoked: string[] = [];
    const r = replayJournals(dir, { alive: (pid) => pid === 22, revoke: (p, sid) => (revoked.push(`${sid} ${p}`), true) });
    assert.deepEqual(revoked, ['S-1-15-3-9-9-9-11 C:\\w', 'S-1-15-3-9-9-9-11 C:\\t']);
    assert.deepEqual(r.skippedLive, ['live']);
    assert.deepEqual(readJournals(dir).map((j) => j.entry?.runId), ['live']);
  });
  it('a path that cannot be undone keeps the journal for the next start; a torn journal file is dropped', function () {
    writeJournal(dir, entry('stuck', 11));
    fs.writeFileSync(path.join(dir, 'torn.acl.json'), '{"runId":');
    const r = replayJournals(dir, { alive: () => false, revoke: (p) => { if (p === 'C:\\t') throw new Error('access denied'); return true; } });
    assert.equal(r.failed.length, 1);
    assert.deepEqual(readJournals(dir).map((j) => j.entry?.runId), ['stuck']);
  });
});

describe('win32 environment: names are case-insensitive', function () {
  it('Path from the user and PATH set by the policy become one variable; the first spelling stays, the later value wins', function () {
    const env = windowsEnv({ Path: 'C:\\Windows\\system32;C:\\tools', PATH: 'C:\\override', Temp: 'x', TEMP: 'y' });
    assert.deepEqual(Object.keys(env).filter((k) => k.toUpperCase() === 'PATH'), ['Path']);
    assert.equal(env.Path, 'C:\\override');
    assert.equal(env.Temp, 'y');
    assert.equal(environmentBlock(env).toString('utf16le').match(/path=/gi)?.length, 1);
  });
  it('the required system variables come from the host when the filter left them out, never doubled', function () {
    const env = windowsEnv({ SYSTEMROOT: 'D:\\Win' }, { SystemRoot: 'C:\\Windows', windir: 'C:\\Windows', ComSpec: 'C:\\Windows\\system32\\cmd.exe', PATHEXT: '.COM;.EXE;.BAT;.CMD' });
    assert.equal(env.SYSTEMROOT, 'D:\\Win');
    assert.equal(env.SystemRoot, undefined);
    assert.equal(env.windir, 'C:\\Windows');
    assert.equal(env.PATHEXT, '.COM;.EXE;.BAT;.CMD');
  });
  it('for the policy filter, Path is spelled PATH (the allow entry) so the user\'s Path is kept, not dropped', function () {
    const p = pol({ mode: 'enforce', profile: 'moderate' });
    const e = envNamesForPolicy({ Path: 'C:\\x', windir: 'C:\\Windows', GITHUB_TOKEN: 't' }, p.env.allow);
    assert.deepEqual(Object.keys(e), ['PATH', 'windir', 'GITHUB_TOKEN']);
    assert.equal(e.PATH, 'C:\\x');
    // two spellings of one name collapse (the later value wins)
    assert.deepEqual(envNamesForPolicy({ Path: 'a', PATH: 'b' }, ['PATH']), { PATH: 'b' });
  });
});
