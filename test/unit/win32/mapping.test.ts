// Pure translation for Windows: job messages → the Linux tree's crossings, command lines, environment block,
// the plan and the honest per-restriction report.
import * as assert from 'node:assert/strict';
import { JobMsg } from '../../../native/win32/constants';
import { jobLimitsFor, mapJobMessage, processCountCrossing, violationCrossings, type JobLimits } from '../../../native/win32/job-limits';
import { environmentBlock, quoteArg, quoteBatchArg, win32Command } from '../../../native/win32/command-line';
import { compileWin32Plan, win32Refusal, win32Restrictions } from '../../../native/win32/compile-plan';
import { resolvePolicy } from '../../../src/policy/resolve';
import type { PolicyInput } from '../../../src/policy/schema';

const L: JobLimits = { mode: 'enforce', activeProcesses: 3, jobMemoryBytes: 64 * 1048576, cpuSeconds: 5 };

describe('win32 job messages → limit events', function () {
  it('ACTIVE_PROCESS_LIMIT → processes crossing (denied), JOB/PROCESS_MEMORY_LIMIT → memory (bytes, pid)', function () {
    assert.deepEqual(mapJobMessage(JobMsg.ACTIVE_PROCESS_LIMIT, 0, L), { kind: 'crossing', crossing: { limit: 'processes', observed: 4, max: 3 }, pid: null, action: 'denied' });
    assert.deepEqual(mapJobMessage(JobMsg.JOB_MEMORY_LIMIT, 0, L), { kind: 'crossing', crossing: { limit: 'memory', observed: 67108864, max: 67108864 }, pid: null, action: 'denied' });
    assert.deepEqual(mapJobMessage(JobMsg.PROCESS_MEMORY_LIMIT, 1234, L), { kind: 'crossing', crossing: { limit: 'memory', observed: 67108864, max: 67108864 }, pid: 1234, action: 'denied' });
  });
  it('END_OF_JOB_TIME / END_OF_PROCESS_TIME → cpu crossing, killed in enforce, reported in warn', function () {
    assert.deepEqual(mapJobMessage(JobMsg.END_OF_JOB_TIME, 0, L), { kind: 'crossing', crossing: { limit: 'cpu', observed: 5, max: 5 }, pid: null, action: 'killed' });
    assert.equal((mapJobMessage(JobMsg.END_OF_PROCESS_TIME, 77, { ...L, mode: 'warn' }) as { action: string }).action, 'reported');
  });
  it('process bookkeeping, abnormal exit, idle, notification, unknown', function () {
    assert.deepEqual(mapJobMessage(JobMsg.NEW_PROCESS, 42, L), { kind: 'process-new', pid: 42 });
    assert.deepEqual(mapJobMessage(JobMsg.EXIT_PROCESS, 42, L), { kind: 'process-exit', pid: 42, abnormal: false });
    assert.deepEqual(mapJobMessage(JobMsg.ABNORMAL_EXIT_PROCESS, 42, L), { kind: 'process-exit', pid: 42, abnormal: true });
    assert.deepEqual(mapJobMessage(JobMsg.ACTIVE_PROCESS_ZERO, 0, L), { kind: 'idle' });
    assert.deepEqual(mapJobMessage(JobMsg.NOTIFICATION_LIMIT, 0, L), { kind: 'notification' });
    assert.deepEqual(mapJobMessage(99, 0, L), { kind: 'other', message: 99 });
  });
  it('warn: class 13 violation flags → crossings with observed values; process count counted by the host', function () {
    assert.deepEqual(violationCrossings({ ViolationLimitFlags: 0x200 | 0x4, JobMemory: 100n, JobMemoryLimit: 64n, PerJobUserTime: 30_000_000n, PerJobUserTimeLimit: 20_000_000n }), [
      { limit: 'memory', observed: 100, max: 64 },
      { limit: 'cpu', observed: 3, max: 2 },
    ]);
    const warn = { ...L, mode: 'warn' as const };
    assert.equal(processCountCrossing(3, warn), null);
    assert.deepEqual(processCountCrossing(4, warn), { limit: 'processes', observed: 4, max: 3 });
    assert.equal(processCountCrossing(9, L), null); // enforce: the kernel refuses, no host count
  });
  it('jobLimitsFor: MiB → bytes; disabled mode sets no limit', function () {
    assert.deepEqual(jobLimitsFor('enforce', { cpuSeconds: 1, memoryMiB: 2, maxProcesses: 3 }), { mode: 'enforce', activeProcesses: 3, jobMemoryBytes: 2097152, cpuSeconds: 1 });
    assert.deepEqual(jobLimitsFor('disabled', { cpuSeconds: 1, memoryMiB: 2, maxProcesses: 3 }), { mode: 'disabled', activeProcesses: null, jobMemoryBytes: null, cpuSeconds: null });
  });
});

describe('win32 command lines', function () {
  it('MSVCRT quoting: spaces, quotes, backslashes before a quote and at the end', function () {
    assert.equal(quoteArg('plain'), 'plain');
    assert.equal(quoteArg(''), '""');
    assert.equal(quoteArg('a b'), '"a b"');
    assert.equal(quoteArg('say "hi"'), '"say \\"hi\\""');
    assert.equal(quoteArg('C:\\dir with space\\'), '"C:\\dir with space\\\\"');
    assert.equal(quoteArg('a\\\\"b c'), '"a\\\\\\\\\\"b c"');
    assert.equal(quoteArg('C:\\no\\quote'), 'C:\\no\\quote');
  });
  it('batch arguments: cmd metacharacters quoted, quotes doubled, % made inert, line breaks refused (CVE-2024-27980)', function () {
    assert.equal(quoteBatchArg('x'), 'x');
    assert.equal(quoteBatchArg('a&calc'), '"a&calc"');
    assert.equal(quoteBatchArg('"&calc'), '"""&calc"');
    assert.equal(quoteBatchArg('%PATH%'), '"%%cd:~,%PATH%%cd:~,%"');
    assert.throws(() => quoteBatchArg('a\r\ncalc'), /line break/);
  });
  it('.bat/.cmd through cmd.exe /d /s /c, .ps1 through powershell -NoProfile -ExecutionPolicy Bypass -File, .py through python', function () {
    const ctx = { systemRoot: 'C:\\Windows', python: 'C:\\Py\\python.exe', node: 'C:\\node\\node.exe' };
    assert.deepEqual(win32Command('C:\\w s\\run.bat', ['a b', 'x&y'], ctx), {
      application: 'C:\\Windows\\System32\\cmd.exe',
      commandLine: 'C:\\Windows\\System32\\cmd.exe /d /s /c ""C:\\w s\\run.bat" "a b" "x&y""',
      via: 'cmd.exe',
    });
    assert.equal(
      win32Command('C:\\w\\s.ps1', ['-x'], ctx).commandLine,
      'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\w\\s.ps1 -x',
    );
    assert.deepEqual(win32Command('C:\\w\\s.py', [], ctx), { application: 'C:\\Py\\python.exe', commandLine: 'C:\\Py\\python.exe C:\\w\\s.py', via: 'python' });
    assert.throws(() => win32Command('C:\\w\\s.py', [], { systemRoot: 'C:\\Windows' }), /python.exe not found/);
    assert.equal(win32Command('C:\\bin\\tool.exe', ['1'], ctx).commandLine, 'C:\\bin\\tool.exe 1');
  });
  it('environment block: UTF-16, sorted case-insensitively, double NUL at the end', function () {
    const b = environmentBlock({ b: '2', A: '1', Path: 'x' });
    assert.equal(b.toString('utf16le'), 'A=1\0b=2\0Path=x\0\0');
    assert.throws(() => environmentBlock({ 'A=B': '1' }), /cannot be passed/);
  });
});

const CTX = { workspace: '/w', home: '/h' };
const pol = (run: PolicyInput) => resolvePolicy({ run }, CTX).policy;

describe('win32 plan and capability report', function () {
  it('enforce refuses what the user asked for and Windows cannot keep (network none, read-only, deny lists)', function () {
    assert.match(win32Refusal(pol({ mode: 'enforce', profile: 'strict' }))!.message, /network preset "none"/);
    assert.match(win32Refusal(pol({ mode: 'enforce', profile: 'moderate', filesystem: { readOnly: true } }))!.message, /read-only/);
    assert.equal(win32Refusal(pol({ mode: 'enforce', profile: 'moderate' })), null);
    assert.equal(win32Refusal(pol({ mode: 'warn', profile: 'strict' })), null);
  });
  it('the report never claims file or network confinement; job limits are enforced in enforce, reported in warn', function () {
    const r = Object.fromEntries(win32Restrictions(pol({ mode: 'enforce', profile: 'moderate' })).map((x) => [x.name, x.status]));
    assert.equal(r['filesystem.write'], 'not available');
    assert.equal(r['filesystem.protectedReads'], 'not available');
    assert.equal(r.network, 'not available');
    assert.equal(r.memoryMiB, 'enforced');
    assert.equal(r.maxProcesses, 'enforced');
    assert.equal(r.fileSizeMiB, 'not available');
    const w = Object.fromEntries(win32Restrictions(pol({ mode: 'warn', profile: 'moderate' })).map((x) => [x.name, x.status]));
    assert.equal(w.memoryMiB, 'reported');
  });
  it('compiles a Win32Plan with the job reference and the command line', function () {
    const { plan, limits } = compileWin32Plan(pol({ mode: 'enforce', profile: 'moderate', limits: { maxProcesses: 5 } }), {
      runId: 'r1',
      file: 'C:\\w\\s.cmd',
      argv: ['s.cmd', 'x'],
      env: { A: '1' },
      cwd: 'C:\\w',
      job: { hostPid: 10, handle: '200' },
      systemRoot: 'C:\\Windows',
    });
    assert.equal(plan.platform, 'win32');
    assert.equal(plan.application, 'C:\\Windows\\System32\\cmd.exe');
    assert.equal(plan.commandLine, 'C:\\Windows\\System32\\cmd.exe /d /s /c "C:\\w\\s.cmd x"');
    assert.deepEqual(plan.job, { hostPid: 10, handle: '200' });
    assert.equal(plan.requireJob, true);
    assert.equal(limits.activeProcesses, 5);
  });
  it('Windows workspace paths are accepted (Z:\\tmp\\ws → Z:/tmp/ws in the policy model)', function () {
    const p = resolvePolicy({ run: {} }, { workspace: 'z:\\tmp\\ws', home: 'C:\\Users\\me' }).policy;
    assert.equal(p.workspace, 'Z:/tmp/ws');
    assert.equal(p.home, 'C:/Users/me');
    const unc = resolvePolicy({ run: {} }, { workspace: '\\\\srv\\share\\ws\\..\\w2', home: 'C:\\Users\\me' }).policy;
    assert.equal(unc.workspace, '//srv/share/w2');
    // On Linux a relative path is still refused.
    assert.throws(() => resolvePolicy({ run: {} }, { workspace: 'C:rel', home: '/h' }), /absolute path/);
  });
});
