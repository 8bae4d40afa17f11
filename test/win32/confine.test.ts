// Native tier on real Windows (the cross-platform workflow runs out/test/win32 on the Windows runner): the
// write-restricted token must refuse a write outside the grants, the job-handle attack must fail, and a real
// CLI run must write its workspace, be refused outside it and leave no ACL journal. Elsewhere these skip:
// not Windows, or Wine, which does not enforce any of it (the Wine tier, test/wine, says so case by case).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..');

/** Wine exports wine_get_version from ntdll; Windows does not. */
function underWine(): boolean {
  return (require('../../native/win32/confine-probe') as typeof import('../../native/win32/confine-probe')).wineVersion() !== null;
}

describe('Windows native tier: file confinement and the job handle (real Windows only)', function () {
  this.timeout(120_000);
  before(function () {
    if (process.platform !== 'win32') {
      console.log('      skipped: not Windows');
      this.skip();
    }
    if (underWine()) {
      console.log('      skipped: Wine enforces no file DACLs or restricting SIDs (see the Wine tier)');
      this.skip();
    }
  });

  it('the probe: a process under the restricted token writes where its SID is granted and is refused elsewhere', function () {
    // Loaded here, not at the top: koffi's Windows binary exists only on Windows.
    const { loadKernel32 } = require('../../native/win32/kernel32') as typeof import('../../native/win32/kernel32');
    const { loadAdvapi32 } = require('../../native/win32/advapi32') as typeof import('../../native/win32/advapi32');
    const { probeFileConfinement } = require('../../native/win32/confine-probe') as typeof import('../../native/win32/confine-probe');
    const r = probeFileConfinement(loadKernel32(), loadAdvapi32(), process.env.SystemRoot ?? 'C:\\Windows');
    console.log(`      probe: ${JSON.stringify(r)}`);
    assert.equal(r.grantStored, true, r.detail);
    assert.equal(r.grantedWrite, true, r.detail);
    assert.equal(r.deniedWriteBlocked, true, r.detail);
  });

  it('the job-handle attack from a script under the restricted token fails at OpenProcess(host, PROCESS_DUP_HANDLE); no job handle is inherited', function () {
    const { loadKernel32 } = require('../../native/win32/kernel32') as typeof import('../../native/win32/kernel32');
    const { loadAdvapi32 } = require('../../native/win32/advapi32') as typeof import('../../native/win32/advapi32');
    const { JobObject } = require('../../native/win32/job-object') as typeof import('../../native/win32/job-object');
    const { createRestrictedToken } = require('../../native/win32/restricted-token') as typeof import('../../native/win32/restricted-token');
    const { newRunSid } = require('../../native/win32/sid') as typeof import('../../native/win32/sid');
    const { createInJob } = require('../../native/win32/spawn') as typeof import('../../native/win32/spawn');
    const k = loadKernel32();
    const a = loadAdvapi32();
    const job = JobObject.create(k, { mode: 'enforce', activeProcesses: 1, jobMemoryBytes: null, cpuSeconds: null });
    k.SetHandleInformation(job.handle, 1, 1); // inheritable on purpose: only HANDLE_LIST keeps it out
    const t = createRestrictedToken(k, a, newRunSid());
    const attack = path.join(repo, 'out', 'test', 'wine', 'attack-job.js');
    const plan = { platform: 'win32' as const, runId: 'attack', application: process.execPath, commandLine: `"${process.execPath}" "${attack}" ${process.pid} ${job.handle}`, env: { SystemRoot: process.env.SystemRoot ?? 'C:\\Windows', PATH: process.env.PATH ?? '' }, cwd: path.dirname(attack), job: null, requireJob: true, namespaces: null };
    const c = createInJob(k, plan, job.handle, { token: { handle: t.token, advapi32: a } });
    k.ResumeThread(c.thread);
    k.WaitForSingleObject(c.process, 60_000);
    const code = Buffer.alloc(4);
    k.GetExitCodeProcess(c.process, code);
    t.close();
    job.close();
    // 100 + bits: 1 host opened, 2 job duplicated, 4 limits lifted, 8 job handle inherited.
    assert.equal(code.readUInt32LE(0), 100, `attack exit ${code.readUInt32LE(0)}`);
  });

  it('the real CLI in enforce: the workspace is written, a file in the user profile is refused, the grants are undone', function () {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-win-confine-'));
    const outside = path.join(os.homedir(), `ss-outside-${process.pid}.txt`);
    fs.writeFileSync(path.join(ws, 'w.cmd'), `@echo off\r\necho in>"${path.join(ws, 'in.txt')}"\r\necho out>"${outside}"\r\nexit /b 0\r\n`);
    // Reads are not confined on Windows (check: read_confinement), so enforce refuses a run while a protected
    // secret such as ~/.azure exists on the runner; this case is about writes, so it opens them for reading.
    const { ALWAYS_PROTECTED } = require('../../src/policy/presets') as typeof import('../../src/policy/presets');
    const opened = ALWAYS_PROTECTED.filter((e) => !e.read && e.path.startsWith('~/')).flatMap((e) => ['--allow-read', e.path]);
    const r = spawnSync(process.execPath, [path.join(repo, 'dist', 'cli.js'), 'run', '--workspace', ws, '--mode', 'enforce', '--profile', 'moderate', ...opened, '--', path.join(ws, 'w.cmd')], { cwd: ws, encoding: 'utf8' });
    const wrote = fs.existsSync(outside);
    fs.rmSync(outside, { force: true });
    assert.equal(fs.readFileSync(path.join(ws, 'in.txt'), 'utf8').trim(), 'in', r.stderr);
    assert.equal(wrote, false, 'the script wrote into the user profile');
    const journal = path.join(process.env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'script-sandbox', 'acl-journal');
    assert.deepEqual(fs.existsSync(journal) ? fs.readdirSync(journal) : [], []);
    fs.rmSync(ws, { recursive: true, force: true });
  });
});
