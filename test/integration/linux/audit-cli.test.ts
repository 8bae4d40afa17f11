// The audit log as the CLI writes it: a mix of real runs leaves exactly the expected records, in order,
// valid against the shared schema; verify catches tampering at the right line; no secret is written.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { AuditRecord } from '../../../src/protocol/audit';
import { runCli, writeScript, PYTHON } from './helpers';
import { useAuditFile, useSandbox } from './use-sandbox';

describe('audit log written by script-sandbox run', function () {
  this.timeout(120000);
  const sb = useSandbox();
  const audit = useAuditFile(sb);

  const run = (flags: string[], cmd: string[], env: Record<string, string> = {}) =>
    runCli(['run', '--workspace', sb.workspace, '--profile', 'strict', ...flags, '--', ...cmd], { cwd: sb.workspace, home: sb.home, env });

  it('a mix of runs gives exactly the expected records, in order, each valid', async () => {
    writeScript(sb.workspace, 'c.py', 'import socket\ns=socket.socket()\ntry:\n  s.connect(("169.254.169.254", 80))\nexcept OSError as e:\n  print(e.errno)\n');
    await run([], ['/bin/sh', '-c', 'echo clean']);
    await run([], ['/bin/sh', '-c', `echo x > ${sb.outside}/blocked.txt; true`]);
    await run(['--net', 'default'], [PYTHON, 'c.py']);
    await run(['--cpu', '1'], [PYTHON, '-c', 'while True: pass']);
    await run(['--timeout', '1'], ['/bin/sleep', '10']);

    const lines = fs.readFileSync(audit.path, 'utf8').trim().split('\n');
    const recs = lines.map((l) => AuditRecord.parse(JSON.parse(l)));
    const kinds = recs.map((r) => (r.type === 'violation' ? `violation:${(r as { violation: { kind: string } }).violation.kind}` : r.type));
    const per = (i: number, middle: string[]) => ['host_started', 'run_started', ...middle, 'run_finished', 'host_stopped'];
    const expected = [
      ...per(0, []),
      ...per(1, ['violation:file']),
      ...per(2, ['violation:network']),
      ...per(3, ['limit_exceeded']),
      ...per(4, ['limit_exceeded']),
    ];
    // env_filtered follows run_started whenever variables were removed; it is not what this test is about.
    assert.deepEqual(kinds.filter((k) => k !== 'env_filtered'), expected);
    for (let i = 1; i < recs.length; i++) assert.equal(recs[i]!.seq, recs[i - 1]!.seq + 1);
    for (const r of recs) assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const finished = recs.filter((r) => r.type === 'run_finished') as Array<{ exitCode: number }>;
    assert.deepEqual(finished.slice(0, 3).map((f) => f.exitCode), [0, 0, 0]);
    assert.ok([128 + 24, 128 + 9].includes(finished[3]!.exitCode), `cpu run exit ${finished[3]!.exitCode}`); // SIGXCPU, or SIGKILL at the hard limit
    assert.equal(finished[4]!.exitCode, 128 + 9);
    const ok = await audit.verify();
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });

  it('verify fails at the right line after an edit, a deletion or a reordering', async () => {
    for (let i = 0; i < 3; i++) await run([], ['/bin/sh', '-c', `exit ${i}`]);
    const original = fs.readFileSync(audit.path, 'utf8').trim().split('\n');
    const check = async (lines: string[], line: number) => {
      fs.writeFileSync(audit.path, lines.join('\n') + '\n');
      const r = await audit.verify();
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout + r.stderr, new RegExp(`line ${line}\\b`));
    };
    const edited = [...original];
    const at = edited.findIndex((l) => l.includes('"exitCode":1'));
    assert.ok(at > 0, 'a run_finished with exit code 1');
    edited[at] = edited[at]!.replace('"exitCode":1', '"exitCode":0');
    await check(edited, at + 1);
    await check(original.filter((_, i) => i !== 6), 7);
    const swapped = [...original];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    await check(swapped, 4);
  });

  it('no secret value appears anywhere in the file (a planted GITHUB_TOKEN, an --env-allow\'ed API_KEY)', async () => {
    const token = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    const apiKey = 'sk-live-7f3a9c2e1b4d8f6a';
    await run(['--env-allow', 'API_KEY'], ['/bin/sh', '-c', `echo "$API_KEY" > key.txt; echo ${apiKey} ${token}`], { GITHUB_TOKEN: token, API_KEY: apiKey });
    const text = fs.readFileSync(audit.path, 'utf8');
    assert.ok(text.includes('run_finished'));
    assert.ok(!text.includes(token), 'GITHUB_TOKEN value in the audit log');
    assert.ok(!text.includes(apiKey), 'API_KEY value in the audit log');
    assert.ok(text.includes('GITHUB_TOKEN'), 'the removed name should be recorded');
  });

  it('audit stats and tail read the file', async () => {
    await run([], ['/bin/sh', '-c', `echo x > ${sb.outside}/a; echo y > ${sb.outside}/b; true`]);
    const stats = await runCli(['audit', 'stats', '--json', '--file', audit.path], { home: sb.home });
    assert.equal(stats.code, 0, stats.stderr);
    const s = JSON.parse(stats.stdout);
    assert.ok(JSON.stringify(s).includes('file'), stats.stdout);
    const tail = await runCli(['audit', 'tail', '-n', '2', '--file', audit.path], { home: sb.home });
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.trim().split('\n').length, 2, tail.stdout);
  });

  it('a log whose last line fails its keyed check refuses the run and the CLI exits (it hung on its early launcher)', async function () {
    await run([], ['/bin/true']);
    const lines = fs.readFileSync(audit.path, 'utf8').split('\n');
    const last = lines.length - 2; // the text ends with a newline
    lines[last] = lines[last]!.replace(/"mac":"(.)/, (_m, c: string) => `"mac":"${c === '0' ? '1' : '0'}`);
    fs.writeFileSync(audit.path, lines.join('\n'));
    const t0 = Date.now();
    const r = await runCli(['run', '--workspace', sb.workspace, '--', '/bin/true'], { cwd: sb.workspace, home: sb.home, timeoutMs: 20000 });
    assert.equal(r.code, 125, `exit ${r.code ?? r.signal} after ${Date.now() - t0} ms: ${r.stderr}`);
    assert.match(r.stderr, /AUDIT_BROKEN/);
    assert.ok(Date.now() - t0 < 15000, `took ${Date.now() - t0} ms`);
  });
});
