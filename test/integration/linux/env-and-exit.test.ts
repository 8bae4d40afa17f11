// Environment filtering and the CLI's exit statuses, by real runs.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runCli, runIn, writeScript, type Sandbox } from './helpers';

describe('environment and exit status (real runs)', function () {
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.cleanup());

  it('only allowed variables reach the script, and the removed names are reported', async () => {
    const r = await runIn(sb, ['--env-allow', 'KEEP_ME'], ['/usr/bin/env'], { KEEP_ME: 'yes', GITHUB_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', AWS_SECRET_ACCESS_KEY: 'zzz', NODE_OPTIONS: '--inspect' });
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout.trim().split('\n').map((l) => l.split('=')[0]);
    assert.ok(names.includes('KEEP_ME'));
    assert.ok(names.includes('PATH'));
    for (const bad of ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'NODE_OPTIONS', 'OUTSIDE']) assert.ok(!names.includes(bad), `${bad} leaked`);
    const started = r.events.find((e) => e.type === 'run_started')!;
    const removed = started.envRemoved as string[];
    for (const bad of ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'NODE_OPTIONS']) assert.ok(removed.includes(bad), `${bad} not reported`);
    assert.doesNotMatch(JSON.stringify(r.events), /ghp_abcdefghij/);
  });

  it('exit status: the script\'s own, 127 not found, 126 not executable, 128+N when killed', async () => {
    assert.equal((await runIn(sb, [], ['/bin/sh', '-c', 'exit 7'])).code, 7);
    const nf = await runIn(sb, [], ['./missing.sh']);
    assert.equal(nf.code, 127);
    assert.match(nf.stderr, /missing\.sh: no such file/);
    writeScript(sb.workspace, 'noexec.sh', '#!/bin/sh\necho hi\n', 0o644);
    const ne = await runIn(sb, [], ['./noexec.sh']);
    assert.equal(ne.code, 126);
    assert.match(ne.stderr, /not executable/);
    assert.equal((await runIn(sb, [], ['/bin/sh', '-c', 'kill -TERM $$'])).code, 128 + 15);
    assert.equal((await runIn(sb, [], ['no-such-command-xyz'])).code, 127);
  });

  it('exit status 125 with a one-line reason for a sandbox setup error (bad policy file)', async () => {
    const bad = path.join(sb.workspace, 'bad.json');
    fs.writeFileSync(bad, '{ "limits": { "memoryMiB": -5 } }');
    const r = await runIn(sb, ['--policy', bad], ['/bin/true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /limits\.memoryMiB/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('an events file that cannot be opened fails the command before the script starts', async () => {
    const r = await runIn(sb, ['--events', path.join(sb.root, 'no-such-dir', 'ev.jsonl')], ['sh', '-c', 'touch ran']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /IO_FAILED: cannot open the events file .*no-such-dir.*ENOENT/);
    assert.ok(!fs.existsSync(path.join(sb.workspace, 'ran')), 'the script ran anyway');
  });

  it('usage errors name the flag and exit 2', async () => {
    const r = await runCli(['run', '--cpu', 'lots', '--', '/bin/true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--cpu/);
    const u = await runCli(['run', '--frobnicate', '--', '/bin/true']);
    assert.match(u.stderr, /unknown flag --frobnicate/);
    // An unknown profile is a usage mistake too: exit 2, found before the audit log is opened.
    const p = await runIn(sb, ['--profile', 'lenient'], ['/bin/true']);
    assert.equal(p.code, 2);
    assert.match(p.stderr, /profile/);
  });

  it('disabled mode runs the script plainly but still records the run', async () => {
    const target = path.join(sb.outside, 'disabled.txt');
    const r = await runIn(sb, ['--mode', 'disabled'], ['/bin/sh', '-c', `echo x > ${target}; grep -E 'NoNewPrivs|Seccomp:' /proc/self/status`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(target));
    assert.match(r.stdout, /Seccomp:\s+0/);
    assert.deepEqual(r.events.map((e) => e.type), ['run_started', 'run_finished']);
  });

  it('events are written in order: run_started, then run_finished with usage', async () => {
    const r = await runIn(sb, [], ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(r.events.map((e) => e.type), ['run_started', 'run_finished']);
    const f = r.events[1]!;
    for (const k of ['exitCode', 'durationMs', 'cpuUserMs', 'cpuSystemMs', 'maxRssKiB']) assert.ok(k in f, k);
    assert.equal(f.exitCode, 0);
  });
});
