// The Wine tier for unkept promises: the real CLI (Node for Windows, dist/cli.js) on a machine whose capability
// report measures a promise unkept. Wine accepts the job's process, memory and CPU limits without enforcing
// them, so enforce must refuse a policy that sets one (the script never starts) and warn must run it and say
// so. On a machine that keeps the limits the case skips with the reason.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { checkReport, cli, PREFIX, wineReady, workspace, z, type Report } from './wine-env';

describe('Wine tier: a promise the machine measured unkept (job limits)', function () {
  this.timeout(300_000);
  let jobLimits: Report['capabilities'][number] | undefined;

  before(function () {
    if (!wineReady()) this.skip();
    jobLimits = checkReport(workspace()).capabilities.find((c) => c.name === 'job_limits');
  });

  it('the capability report says the limits are not enforced here, and names the promises job_limits keeps', function () {
    assert.ok(jobLimits, 'no job_limits line');
    if (jobLimits.available) {
      console.log(`      skipped: this machine enforces job limits (${jobLimits.detail})`);
      this.skip();
    }
    assert.match(jobLimits.detail, /not enforced/);
    assert.deepEqual(jobLimits.keeps, ['limits.maxProcesses', 'limits.memoryMiB', 'limits.cpuSeconds']);
  });

  it('enforce with a process/memory/CPU limit is refused, naming the unkept promise; the script never starts', function () {
    if (jobLimits?.available) this.skip();
    const ws = workspace();
    const marker = path.join(ws, 'ran.txt');
    fs.writeFileSync(path.join(ws, 'm.bat'), `@echo off\r\necho ran>"${z(marker)}"\r\n`);
    const r = cli(ws, ['run', '--workspace', z(ws), '--mode', 'enforce', '--profile', 'moderate', '--max-procs', '2', '--', z(path.join(ws, 'm.bat')).replace(/\\/g, '/')]);
    assert.equal(fs.existsSync(marker), false, `the script ran under limits nobody keeps: ${r.err}`);
    assert.notEqual(r.status, 0);
    assert.match(r.err, /enforce mode cannot keep this policy on this machine: process limit 2, memory limit 4096 MiB, CPU limit 300 s \(job_limits: the limits are accepted but not enforced/, r.err);
  });

  it('warn mode runs the same policy and notes the unkept promise', function () {
    if (jobLimits?.available) this.skip();
    const ws = workspace();
    const marker = path.join(ws, 'ran.txt');
    fs.writeFileSync(path.join(ws, 'm.bat'), `@echo off\r\necho ran>"${z(marker)}"\r\n`);
    const r = cli(ws, ['run', '--workspace', z(ws), '--mode', 'warn', '--profile', 'moderate', '--max-procs', '2', '--', z(path.join(ws, 'm.bat')).replace(/\\/g, '/')]);
    assert.equal(r.status, 0, r.err);
    assert.equal(fs.existsSync(marker), true);
    assert.match(r.err, /not kept on this machine \(warn mode runs anyway\): process limit 2, memory limit 4096 MiB, CPU limit 300 s \(job_limits/, r.err);
  });

  it('enforce without process, memory or CPU limits (profile permissive) still runs inside the job', function () {
    const ws = workspace();
    const marker = path.join(ws, 'ran.txt');
    fs.writeFileSync(path.join(ws, 'm.bat'), `@echo off\r\necho ran>"${z(marker)}"\r\n`);
    const r = cli(ws, ['run', '--workspace', z(ws), '--mode', 'enforce', '--profile', 'permissive', '--', z(path.join(ws, 'm.bat')).replace(/\\/g, '/')]);
    assert.equal(r.status, 0, r.err);
    assert.equal(fs.existsSync(marker), true);
  });
});

describe('Wine tier: reads the restricted token cannot refuse (~/.ssh)', function () {
  this.timeout(300_000);
  // Wine sets USERPROFILE itself (C:\users\<user> in the prefix), so the secret is planted there and removed after.
  const profile = path.join(PREFIX, 'drive_c', 'users', os.userInfo().username);
  const ssh = path.join(profile, '.ssh');
  const key = 'ss-planted-key-0f3a';

  before(function () {
    if (!wineReady()) this.skip();
    if (!fs.existsSync(profile)) {
      console.log(`      skipped: no Wine user profile at ${profile}`);
      this.skip();
    }
    assert.equal(fs.existsSync(ssh), false, `${ssh} exists already: this test plants and removes its own`);
  });

  afterEach(() => fs.rmSync(ssh, { recursive: true, force: true }));

  it('the capability report says reads are not confined, why, and which promises that leaves unkept', function () {
    const c = checkReport(workspace()).capabilities.find((x) => x.name === 'read_confinement');
    assert.ok(c, 'no read_confinement line');
    assert.equal(c.available, false);
    assert.match(c.detail, /write-restricted token checks its restricting SIDs .* for write access only/);
    assert.deepEqual(c.keeps, ['filesystem.protectedReads', 'filesystem.denyRead', 'filesystem.readListedOnly']);
  });

  /** Plants a key in ~/.ssh and runs a batch file that copies it into the workspace, in the given mode. */
  const readPlantedKey = (mode: 'enforce' | 'warn') => {
    fs.mkdirSync(ssh);
    fs.writeFileSync(path.join(ssh, 'id_test'), key);
    const ws = workspace();
    const stolen = path.join(ws, 'stolen.txt');
    fs.writeFileSync(path.join(ws, 'r.bat'), `@echo off\r\ntype "${z(path.join(ssh, 'id_test'))}" >"${z(stolen)}"\r\n`);
    const r = cli(ws, ['run', '--workspace', z(ws), '--mode', mode, '--profile', 'permissive', '--', z(path.join(ws, 'r.bat')).replace(/\\/g, '/')]);
    return { r, stolen };
  };

  it('with ~/.ssh present, enforce is refused naming it; the script never reads the key', function () {
    const { r, stolen } = readPlantedKey('enforce');
    assert.equal(fs.existsSync(stolen), false, `the script ran and could read the planted key: ${r.err}`);
    assert.notEqual(r.status, 0);
    assert.match(r.err, /enforce mode cannot keep this policy on this machine: reads of ~\/\.ssh refused \(read_confinement: reads are not confined/, r.err);
  });

  it('warn runs it and notes that ~/.ssh reads are not refused here (and they are not: the gap is real)', function () {
    const { r, stolen } = readPlantedKey('warn');
    assert.equal(r.status, 0, r.err);
    assert.match(r.err, /not kept on this machine \(warn mode runs anyway\): reads of ~\/\.ssh refused \(read_confinement/, r.err);
    console.log(`      [wine] warn: the script ${fs.existsSync(stolen) && fs.readFileSync(stolen, 'utf8').includes(key) ? 'read' : 'did not read'} the planted key`);
  });
});

describe('Wine tier: what Windows keeps nowhere (open files, file size, network)', function () {
  this.timeout(300_000);
  before(function () {
    if (!wineReady()) this.skip();
  });

  /** A batch file that leaves a marker when it runs, run by the CLI with these flags. */
  const runMarked = (flags: string[]) => {
    const ws = workspace();
    const marker = path.join(ws, 'ran.txt');
    fs.writeFileSync(path.join(ws, 'm.bat'), `@echo off\r\necho ran>"${z(marker)}"\r\n`);
    const r = cli(ws, ['run', '--workspace', z(ws), ...flags, '--', z(path.join(ws, 'm.bat')).replace(/\\/g, '/')]);
    return { r, ran: fs.existsSync(marker) };
  };

  it('the capability report names the promises network, file_size_limit and open_files_limit keep, none available', function () {
    const caps = checkReport(workspace()).capabilities;
    const keeps = (name: string) => {
      const c = caps.find((x) => x.name === name);
      assert.ok(c, `no ${name} line`);
      assert.equal(c.available, false, name);
      return c.keeps;
    };
    assert.deepEqual(keeps('network'), ['network.none', 'network.allowList', 'network.denyList', 'network.defaultBlocks']);
    assert.deepEqual(keeps('file_size_limit'), ['limits.fileSizeMiB']);
    assert.deepEqual(keeps('open_files_limit'), ['limits.openFiles']);
  });

  it('enforce with an explicit open-files limit is refused, naming it and why; the script never starts', function () {
    const { r, ran } = runMarked(['--mode', 'enforce', '--profile', 'permissive', '--open-files', '64']);
    assert.equal(ran, false, `the script ran under a limit nothing keeps: ${r.err}`);
    assert.notEqual(r.status, 0);
    assert.match(r.err, /enforce mode cannot keep this policy on this machine: open files limit 64 \(open_files_limit: Windows has no per-process handle limit \(RLIMIT_NOFILE\)/, r.err);
  });

  it('enforce with an explicit file-size limit or network none is refused the same way', function () {
    const size = runMarked(['--mode', 'enforce', '--profile', 'permissive', '--max-file-size', '5']);
    assert.equal(size.ran, false, size.r.err);
    assert.match(size.r.err, /enforce mode cannot keep this policy on this machine: file size limit 5 MiB \(file_size_limit: /, size.r.err);
    const net = runMarked(['--mode', 'enforce', '--profile', 'permissive', '--net', 'none']);
    assert.equal(net.ran, false, net.r.err);
    assert.match(net.r.err, /enforce mode cannot keep this policy on this machine: no network \(preset none\) \(network: no network control/, net.r.err);
  });

  it('the profile\'s own defaults do not refuse enforce: permissive runs and says what is not kept', function () {
    const { r, ran } = runMarked(['--mode', 'enforce', '--profile', 'permissive']);
    assert.equal(r.status, 0, r.err);
    assert.equal(ran, true);
    assert.match(r.err, /not kept on this machine \(profile defaults; enforce runs without them\): .*open files limit 4096 \(profile permissive's default\)/, r.err);
  });

  it('warn runs the explicit limit and notes it', function () {
    const { r, ran } = runMarked(['--mode', 'warn', '--profile', 'permissive', '--open-files', '64']);
    assert.equal(r.status, 0, r.err);
    assert.equal(ran, true);
    assert.match(r.err, /not kept on this machine \(warn mode runs anyway\): .*open files limit 64 \(open_files_limit/, r.err);
  });
});
