// Resource limits stop real programs at the limit, and the event names the limit.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { finished, limitEvents, makeSandbox, processesWith, runIn, sleepToken, writeScript, PYTHON, type Sandbox } from './helpers';

describe('resource limits (real kernel)', function () {
  this.timeout(60000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.cleanup());

  it('CPU: a busy loop is killed at --cpu 1', async () => {
    const r = await runIn(sb, ['--cpu', '1'], [PYTHON, '-c', 'while True: pass']);
    assert.ok(r.code === 128 + 24 || r.code === 128 + 9, `exit ${r.code} ${r.stderr}`);
    assert.deepEqual(limitEvents(r), ['cpu']);
    const f = finished(r);
    // RLIMIT_CPU counts user + system time; the launcher's own start-up is subtracted from the figures,
    // so allow for that estimate: the point is that it ran about a second, not that it died at once.
    const cpu = Number(f.cpuUserMs) + Number(f.cpuSystemMs ?? 0);
    assert.ok(cpu >= 700 && cpu < 3000, `cpu user ${f.cpuUserMs} + system ${f.cpuSystemMs}`);
  });

  it('file size: writing 3 MiB under --max-file-size 1 stops at 1 MiB', async () => {
    const r = await runIn(sb, ['--max-file-size', '1'], ['/bin/sh', '-c', 'head -c 3145728 /dev/zero > big.bin']);
    assert.equal(r.code, 128 + 25, r.stderr);
    assert.deepEqual(limitEvents(r), ['fileSize']);
    assert.equal(fs.statSync(path.join(sb.workspace, 'big.bin')).size, 1048576);
  });

  it('open files: --open-files 40 makes the 41st open fail with EMFILE and is reported', async () => {
    const prog = 'import os,time\nfds=[]\ntry:\n  while True: fds.append(os.open("/dev/null", os.O_RDONLY))\nexcept OSError as e:\n  print("stopped", e.errno, len(fds)+3)\ntime.sleep(0.6)\n';
    writeScript(sb.workspace, 'fds.py', prog);
    const r = await runIn(sb, ['--open-files', '40'], [PYTHON, 'fds.py']);
    assert.equal(r.code, 0, r.stderr);
    const m = /stopped (\d+) (\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m![1]), 24); // EMFILE
    assert.ok(Number(m![2]) <= 40, r.stdout);
    assert.deepEqual(limitEvents(r), ['openFiles']);
  });

  it('memory: a tree allocating past --memory 64 is killed and reported', async () => {
    const prog = 'import time\nb=[]\nfor i in range(40):\n  b.append(b"\\x01" * (16*1024*1024))\n  time.sleep(0.03)\nprint("survived")\n';
    writeScript(sb.workspace, 'mem.py', prog);
    const r = await runIn(sb, ['--memory', '64'], [PYTHON, 'mem.py']);
    assert.doesNotMatch(r.stdout, /survived/);
    assert.equal(r.code, 128 + 9, r.stderr);
    assert.deepEqual(limitEvents(r), ['memory']);
  });

  it('processes: a fork bomb is stopped at --max-procs 30 and the run ends', async () => {
    const bomb = '#!/bin/sh\nb() { b & b & wait; }\nb\n';
    writeScript(sb.workspace, 'bomb.sh', bomb);
    const t0 = Date.now();
    const r = await runIn(sb, ['--max-procs', '30', '--timeout', '20'], ['./bomb.sh']);
    assert.ok(Date.now() - t0 < 15000, 'the bomb ran until the timeout');
    assert.ok(!limitEvents(r).includes('timeout'));
    // With a cgroup the kernel counts and the event always comes; without one RLIMIT_NPROC refuses the forks
    // in the kernel, and the bomb may collapse between two watchdog polls (the next test holds the limit).
    if (finished(r) && String(r.events[0]?.treeLimits).startsWith('cgroup')) assert.ok(limitEvents(r).includes('processes'), JSON.stringify(r.events));
  });

  it('processes: a script holding processes at --max-procs 20 is stopped and the event names the limit', async () => {
    writeScript(sb.workspace, 'hold.sh', '#!/bin/sh\nfor i in $(seq 40); do sleep 30 & done 2>/dev/null\nwait\n');
    const t0 = Date.now();
    const r = await runIn(sb, ['--max-procs', '20', '--timeout', '25'], ['./hold.sh']);
    assert.ok(Date.now() - t0 < 15000, `ran ${Date.now() - t0} ms`);
    assert.deepEqual(limitEvents(r), ['processes']);
    // Killed at the limit (137), or the shell gave up first on a refused fork (dash exits 2): never success.
    assert.ok(r.code === 128 + 9 || r.code === 2, `exit ${r.code}`);
  });

  it('wall clock: --timeout 1 kills a sleeping script with its children', async () => {
    const tok = sleepToken(30);
    writeScript(sb.workspace, 's.sh', `#!/bin/sh\nsleep ${tok} &\necho $! > child.pid\nsleep 30\n`);
    const t0 = Date.now();
    const r = await runIn(sb, ['--timeout', '1'], ['./s.sh']);
    const took = Date.now() - t0;
    // The run's own clock (exec to exit) says when the kill came; the CLI's wall time adds its start and
    // teardown, which a loaded CI machine stretches to seconds. Either way, far from the script's 30 s.
    const ran = Number(finished(r).durationMs);
    assert.ok(ran < 4000, `the run lasted ${ran} ms`);
    assert.ok(took < 20000, `took ${took} ms`);
    assert.equal(r.code, 128 + 9);
    assert.deepEqual(limitEvents(r), ['timeout']);
    assert.ok(Number(fs.readFileSync(path.join(sb.workspace, 'child.pid'), 'utf8')) > 0);
    assert.deepEqual(processesWith(tok), [], 'the child survived');
  });

  it('a double-forked daemon (setsid, re-parented) does not outlive the run', async () => {
    const tok = sleepToken(60);
    writeScript(sb.workspace, 'd.sh', `#!/bin/sh\n( setsid sh -c 'echo $$ > daemon.pid; exec sleep ${tok}' & )\nfor i in $(seq 50); do [ -s daemon.pid ] && break; sleep 0.1; done\necho started\n`);
    const r = await runIn(sb, [], ['./d.sh']);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(fs.readFileSync(path.join(sb.workspace, 'daemon.pid'), 'utf8'));
    assert.ok(pid > 0);
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(processesWith(tok), [], 'the daemon outlived the run');
  });

  it('a daemon that escapes fast (fork and exit between two polls) is still swept', async () => {
    const tok = sleepToken(60);
    writeScript(sb.workspace, 'd.sh', `#!/bin/sh\nsh -c 'setsid sh -c "echo \\$\\$ > daemon.pid; exec sleep ${tok}" & exit 0'\nfor i in $(seq 50); do [ -s daemon.pid ] && break; sleep 0.1; done\n`);
    const r = await runIn(sb, [], ['./d.sh']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(fs.readFileSync(path.join(sb.workspace, 'daemon.pid'), 'utf8')) > 0);
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(processesWith(tok), [], 'the daemon outlived the run');
  });
});
