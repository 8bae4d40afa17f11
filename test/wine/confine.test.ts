// The Wine tier for Windows file confinement and the job handle: what runs for real under Wine (the restricted
// token is created, the script starts inside it and inside the job, the ACL journal is written and undone,
// a crashed host's journal is replayed, HANDLE_LIST keeps the job handle out of the script) and what Wine
// does not enforce, each skipped with the reason measured here. The capability report must say the same.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { driver, repo, runNodeExe, tempDir, wineReady, z, PREFIX } from './wine-env';

interface Probe {
  token: boolean;
  started: boolean;
  grantedWrite: boolean;
  deniedWriteBlocked: boolean;
  enforced: boolean;
  detail: string;
}

describe('Wine tier: Windows file confinement (restricted token, ACL grants, journal) and the job handle', function () {
  this.timeout(300_000);
  let probe: Probe;

  before(function () {
    if (!wineReady()) this.skip();
    probe = driver<Probe>('token-driver', 'probe');
  });

  it('the probe really runs: the restricted token is created and a cmd.exe under it starts and writes into its granted folder', function () {
    assert.equal(probe.token, true, probe.detail);
    assert.equal(probe.started, true, probe.detail);
    assert.equal(probe.grantedWrite, true, probe.detail);
  });

  it('a write outside every grant is refused under the restricted token', function () {
    if (!probe.deniedWriteBlocked) {
      console.log(`      skipped: Wine does not enforce file DACLs or restricting SIDs (the probe's write outside every grant landed): ${probe.detail}`);
      this.skip();
    }
    assert.equal(probe.enforced, true);
  });

  it('the script is created with CreateProcessAsUserW under the restricted token, inside the job (JOB_LIST), and its exit code comes back', function () {
    const r = driver<{ restrictingSids: string[]; flags: number; user: string; logon: string | null; how: string; inJob: boolean; exitCode: number; privileges: { launcher: number; token: number; child: number } }>('token-driver', 'token');
    assert.equal(r.how, 'job-list');
    assert.equal(r.inJob, true);
    assert.equal(r.exitCode, 4);
    assert.equal(r.flags, 0x1 | 0x4 | 0x8);
    assert.match(r.restrictingSids[0], /^S-1-15-3(-\d+){4}$/);
    assert.equal(r.restrictingSids.at(-1), 'S-1-1-0');
    assert.ok(!r.restrictingSids.includes(r.user), 'the user SID is never a restricting SID');
  });

  it('the child\'s token has the launcher\'s privileges removed (DISABLE_MAX_PRIVILEGE)', function () {
    const r = driver<{ privileges: { launcher: number; token: number; child: number } }>('token-driver', 'token');
    if (r.privileges.token === r.privileges.launcher) {
      console.log(`      skipped: Wine's CreateRestrictedToken keeps every privilege (launcher ${r.privileges.launcher}, restricted token ${r.privileges.token}, script ${r.privileges.child}) and does not implement TokenRestrictedSids, so the script's token cannot be shown restricted here`);
      this.skip();
    }
    assert.ok(r.privileges.child < r.privileges.launcher);
  });

  it('ACL grants: the journal exists while the grants are in place and is gone after; the DACL is back byte for byte; a missing path is skipped', function () {
    const dir = tempDir();
    const r = driver<{ applied: string[]; journalDuring: string[]; journalAfter: number; restoredExactly: boolean; namedDuring: boolean; gitDenied: boolean; sid: string }>('token-driver', 'acl', [z(dir)]);
    assert.deepEqual(r.applied, [z(path.join(dir, 'ws')), z(path.join(dir, 'ws', '.git'))]);
    assert.deepEqual(r.journalDuring, [r.sid]);
    assert.equal(r.journalAfter, 0);
    assert.equal(r.restoredExactly, true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ACL grants are stored: the run SID\'s allow ACE on the workspace and deny ACE on .git read back', function () {
    const dir = tempDir();
    const r = driver<{ namedDuring: boolean; gitDenied: boolean; during: string[] }>('token-driver', 'acl', [z(dir)]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (!r.namedDuring) {
      console.log(`      skipped: Wine's SetNamedSecurityInfoW returns success but keeps no DACL; GetNamedSecurityInfoW answers one made from the Unix mode bits (${r.during.join(', ')})`);
      this.skip();
    }
    assert.equal(r.gitDenied, true);
  });

  it('a host that dies with grants in place leaves its journal; the next start replays it and deletes it', function () {
    const dir = tempDir();
    const c = driver<{ sid: string }>('token-driver', 'crash-grant', [z(dir)]);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'journal')), ['run-crash.acl.json']);
    const entry = JSON.parse(fs.readFileSync(path.join(dir, 'journal', 'run-crash.acl.json'), 'utf8'));
    assert.equal(entry.sid, c.sid);
    assert.deepEqual(entry.paths, [z(path.join(dir, 'ws'))]);
    const r = driver<{ replay: { undone: Array<{ runId: string }>; failed: unknown[] }; namedAfter: boolean; journalsLeft: number }>('token-driver', 'replay', [z(dir), c.sid]);
    assert.deepEqual(r.replay.undone.map((u) => u.runId), ['run-crash']);
    assert.deepEqual(r.replay.failed, []);
    assert.equal(r.journalsLeft, 0);
    assert.equal(r.namedAfter, false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('the job handle, as a same-user script would go for it', function () {
    let attack: { inheritedJob: boolean; openedHost: boolean; duplicatedJob: boolean; liftedLimits: boolean; exitCode: number };
    before(function () {
      attack = driver('token-driver', 'job-handle', [z(path.join(repo, 'out', 'test', 'wine', 'attack-job.js'))]);
    });

    it('the script never inherits the job handle (HANDLE_LIST passes only the std handles, even with the job handle marked inheritable)', function () {
      assert.ok(attack.exitCode >= 100 && attack.exitCode < 116, `the attack script did not run to its end (exit ${attack.exitCode})`);
      assert.equal(attack.inheritedJob, false);
    });

    it('under the restricted token the script cannot open its host with PROCESS_DUP_HANDLE, so it cannot duplicate the job or lift its limits', function () {
      if (!probe.enforced) {
        assert.ok(attack.openedHost, 'expected Wine to let the same-user open through');
        console.log(`      skipped: Wine does not check process DACLs against restricting SIDs: the script opened its host (${attack.openedHost}), duplicated the job handle (${attack.duplicatedJob}) and lifted the limits (${attack.liftedLimits}); the report says process_isolation is not verified`);
        this.skip();
      }
      assert.equal(attack.openedHost, false);
      assert.equal(attack.duplicatedJob, false);
      assert.equal(attack.liftedLimits, false);
    });
  });

  it('the real CLI: an enforce run goes through the token and the grants, the run works, and no ACL journal is left behind', function () {
    const base = tempDir();
    const ws = path.join(base, 'ws');
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, 'w.bat'), '@echo off\r\necho written>out.txt\r\necho ran ok\r\n');
    const users = path.join(PREFIX, 'drive_c', 'users');
    const journals = () => fs.readdirSync(users).map((u) => path.join(users, u, 'AppData', 'Local', 'script-sandbox', 'acl-journal')).filter((j) => fs.existsSync(j));
    for (const j of journals()) fs.rmSync(j, { recursive: true, force: true });
    const r = runNodeExe(path.join(repo, 'dist', 'cli.js'), ['run', '--workspace', z(ws), '--mode', 'enforce', '--profile', 'moderate', '--', z(path.join(ws, 'w.bat')).replace(/\\/g, '/')], 180_000, ws);
    console.log(`      [wine] cli run enforce → exit ${r.status} in ${r.ms} ms`);
    if (/enforce mode cannot keep this policy on this machine: .*\(job_limits: /.test(r.text)) {
      // The token needs strict or moderate, and both set job limits, which Wine does not keep: enforce refuses
      // them here (promises.test.ts). The token and grants still run here through token-driver (above); the
      // CLI's token path runs on real Windows (test/win32/confine.test.ts).
      console.log('      skipped: enforce with strict/moderate is refused here (job limits unkept), so the CLI never reaches the token path under Wine');
      this.skip();
    }
    assert.equal(r.status, 0, r.text);
    assert.match(r.text, /ran ok/);
    assert.equal(fs.readFileSync(path.join(ws, 'out.txt'), 'utf8').trim(), 'written');
    const dirs = journals();
    // The folder exists: this run journaled its grants (the token path ran); it is empty: they were undone.
    assert.ok(dirs.length > 0, 'no ACL journal folder: the run did not go through the restricted-token path');
    assert.deepEqual(dirs.flatMap((j) => fs.readdirSync(j)), [], 'a journal left after a finished run');
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('`check` reports file confinement and process isolation as what the probe measured, never enforced on a machine that let the probe write', function () {
    const r = runNodeExe(path.join(repo, 'dist', 'cli.js'), ['check', '--json']);
    const report = JSON.parse(r.text.slice(r.text.indexOf('{'))) as { capabilities: Array<{ name: string; available: boolean; detail: string }> };
    const cap = (n: string) => report.capabilities.find((c) => c.name === n)!;
    console.log(`      [wine] filesystem: ${cap('filesystem').detail}`);
    console.log(`      [wine] process_isolation: ${cap('process_isolation').detail}`);
    assert.equal(cap('filesystem').available, probe.enforced);
    assert.equal(cap('process_isolation').available, probe.enforced);
    if (!probe.enforced) assert.match(cap('filesystem').detail, /not confined|not enforce/);
    // Job limits are claimed only when measured too (Wine accepts them without enforcing them).
    console.log(`      [wine] job_limits: ${cap('job_limits').available} (job_object: ${cap('job_object').detail})`);
    if (!cap('job_limits').available) assert.match(cap('job_object').detail, /not enforced here|probe failed/);
    else assert.doesNotMatch(cap('job_object').detail, /not enforced/);
  });

  it('PATH vs Path: a caller whose environment spells it Path runs a bare command from it, and the script sees exactly one PATH', function () {
    const base = tempDir();
    const ws = path.join(base, 'ws');
    fs.mkdirSync(path.join(ws, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'bin', 'mytool.bat'), '@echo off\r\necho tool ran\r\nset PATH\r\n');
    const r = runNodeExe(path.join(repo, 'out', 'test', 'wine', 'path-case.js'), [z(path.join(repo, 'dist', 'cli.js')), z(ws), z(path.join(ws, 'bin'))]);
    console.log(`      [wine] path-case → exit ${r.status} in ${r.ms} ms`);
    assert.match(r.text, /caller env: Path only/, r.text);
    assert.match(r.text, /tool ran/, r.text);
    const lines = r.text.split(/\r?\n/).filter((l) => /^path=/i.test(l));
    assert.equal(lines.length, 1, r.text);
    assert.ok(lines[0].toLowerCase().includes(z(path.join(ws, 'bin')).toLowerCase()), lines[0]);
    fs.rmSync(base, { recursive: true, force: true });
  });
});
