// Pure parts of native/darwin and the macOS host platform, checked on any OS: SBPL escaping and canonical
// paths, Darwin's rlimit numbers and clamping, the unified-log denial parser, the capability report, the
// `ps` parser of the watchdog, the launcher's sandbox-exec argv and the plan message on the control channel.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { privateCanonical, realpathCanonical, regexEscape, sbplString, subtreeRegexes } from '../../../native/darwin/sbpl';
import { DARWIN_OPEN_MAX, DARWIN_RLIMIT, DARWIN_RLIM_INFINITY, DARWIN_RESOURCE, applyDarwinRlimits, clampDarwinRlimit } from '../../../native/darwin/rlimit';
import { RLIMIT_RESOURCE } from '../../../native/linux/rlimit';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { DenialRouter, denialToViolation, isReadyLine, logTimestampToIso, parseDenialMessage, parseLogLine, streamDenials, type SandboxDenial } from '../../../native/darwin/log-stream';
import { darwinReport } from '../../../native/darwin/capabilities';
import { SANDBOX_EXEC, checkProfile, sandboxExecArgv } from '../../../native/darwin/apply';
import { DarwinHostPlatform, parsePs, parsePsTime } from '../../../src/host/darwin/platform';
import { resolvePolicy } from '../../../src/policy';
import { withProxyAllowed } from '../../../src/host/egress-proxy';
import { compileDarwinPlan } from '../../../native/darwin/backend';
import { parsePlanMessage } from '../../../src/protocol/launcher';
import { Violation } from '../../../src/policy/violation';
import type { DarwinPlan } from '../../../native/darwin/plan';
import koffi from 'koffi';
import { DarwinRlimitStruct, DarwinRusageStruct } from '../../../native/darwin/libsystem';

describe('darwin: SBPL atoms', () => {
  it('canonical paths: /tmp, /var, /etc live under /private; /tmpx and others unchanged', () => {
    assert.equal(privateCanonical('/tmp'), '/private/tmp');
    assert.equal(privateCanonical('/var/folders/x/T/'), '/private/var/folders/x/T');
    assert.equal(privateCanonical('/etc/hosts'), '/private/etc/hosts');
    assert.equal(privateCanonical('/tmpx/a'), '/tmpx/a');
    assert.equal(privateCanonical('/private/tmp/a'), '/private/tmp/a');
    assert.equal(privateCanonical('/Users/u/tmp'), '/Users/u/tmp');
  });

  it('realpathCanonical follows a symlinked folder and keeps the missing rest', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-darwin-'));
    try {
      fs.mkdirSync(path.join(dir, 'real'));
      fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
      const real = fs.realpathSync.native(path.join(dir, 'real'));
      assert.equal(realpathCanonical(path.join(dir, 'link', 'not', 'yet')), privateCanonical(`${real}/not/yet`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('strings: backslash and quote escaped, unicode kept, control characters refused', () => {
    assert.equal(sbplString('a "b" \\c ü'), '"a \\"b\\" \\\\c ü"');
    assert.throws(() => sbplString('a\nb'), /control character/);
    assert.throws(() => sbplString('a\u0000b'), /control character/);
    assert.throws(() => sbplString('a\ud800b'), /invalid UTF-16/);
  });

  it('regexes: every ERE metacharacter escaped; a subtree regex matches the path, below it, any ASCII case, not a sibling', () => {
    assert.equal(regexEscape('a.b[c](d){e}*+?|^$\\'), 'a\\.b\\[c\\]\\(d\\)\\{e\\}\\*\\+\\?\\|\\^\\$\\\\');
    const [re] = subtreeRegexes('/Users/u/p (1)/.git');
    const js = new RegExp(re);
    for (const ok of ['/Users/u/p (1)/.git', '/users/U/P (1)/.GIT/hooks/x']) assert.ok(js.test(ok), ok);
    for (const no of ['/Users/u/p (1)/.gitx', '/Users/u/p 1/.git', '/Users/u/p (1)/xgit']) assert.ok(!js.test(no), no);
    assert.equal(subtreeRegexes('/a/é').length, 2, 'NFC and NFD');
    assert.equal(subtreeRegexes('/a/b').length, 1);
  });
});

describe('darwin: rlimits', () => {
  it("Darwin's numbers (xnu bsd/sys/resource.h), NPROC/NOFILE differ from Linux", () => {
    assert.deepEqual({ ...DARWIN_RLIMIT }, { CPU: 0, FSIZE: 1, DATA: 2, STACK: 3, CORE: 4, AS: 5, RSS: 5, MEMLOCK: 6, NPROC: 7, NOFILE: 8 });
    assert.equal(DARWIN_RESOURCE.nofile, 8);
    assert.notEqual(DARWIN_RESOURCE.nofile, RLIMIT_RESOURCE.nofile);
    assert.equal(DARWIN_RESOURCE.nproc, undefined, 'per user: the watchdog');
    assert.equal(DARWIN_RESOURCE.as, undefined, 'EINVAL since macOS 12');
    assert.equal(DARWIN_RLIM_INFINITY, 0x7fff_ffff_ffff_ffffn);
  });

  it('clamps: hard to the current hard, soft to hard, NOFILE soft never infinite (OPEN_MAX)', () => {
    const inf = { soft: DARWIN_RLIM_INFINITY, hard: DARWIN_RLIM_INFINITY };
    assert.deepEqual(clampDarwinRlimit({ resource: 'nofile', soft: -1, hard: -1 }, inf), { soft: DARWIN_OPEN_MAX, hard: DARWIN_RLIM_INFINITY });
    assert.deepEqual(clampDarwinRlimit({ resource: 'cpu', soft: 5, hard: 6 }, { soft: 3n, hard: 4n }), { soft: 4n, hard: 4n });
    assert.throws(() => clampDarwinRlimit({ resource: 'cpu', soft: 1.5, hard: 2 }, inf), /non-negative/);
  });

  it('applies the supported ones by Darwin number, skips nproc and as', () => {
    const calls: [number, bigint, bigint][] = [];
    applyDarwinRlimits(
      { getrlimit: () => ({ soft: DARWIN_RLIM_INFINITY, hard: DARWIN_RLIM_INFINITY }), setrlimit: (r, l) => void calls.push([r, l.soft, l.hard]) },
      [
        { resource: 'core', soft: 0, hard: 0 },
        { resource: 'cpu', soft: 2, hard: 3 },
        { resource: 'nproc', soft: 10, hard: 10 },
        { resource: 'as', soft: 1 << 30, hard: 1 << 30 },
        { resource: 'nofile', soft: 64, hard: 64 },
      ],
    );
    assert.deepEqual(calls, [
      [4, 0n, 0n],
      [0, 2n, 3n],
      [8, 64n, 64n],
    ]);
  });
});

describe('darwin: unified-log denials', () => {
  // Shapes from `log stream --style ndjson` (PLATFORMS.md §2.3; Codex seatbelt_denials).
  const line = (msg: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ traceID: 1, eventType: 'logEvent', processID: 0, senderImagePath: '/System/Library/Extensions/Sandbox.kext/Contents/MacOS/Sandbox', timestamp: '2026-10-09 12:00:01.123456+0000', eventMessage: msg, ...extra });

  it('parses a file denial with pid, operation, path (spaces kept) and time', () => {
    const d = parseLogLine(line('Sandbox: python3(4242) deny(1) file-read-data /Users/u/.ssh/id ed25519'));
    assert.deepEqual(d, { process: 'python3', pid: 4242, operation: 'file-read-data', target: '/Users/u/.ssh/id ed25519', tag: null, time: '2026-10-09T12:00:01.123Z' });
  });

  it('parses the run tag of (with message …) and a process name with parentheses', () => {
    const d = parseDenialMessage('Sandbox: my (tool)(17) deny(1) file-write-create /Users/u/x script-sandbox:run-1');
    assert.equal(d?.process, 'my (tool)');
    assert.equal(d?.pid, 17);
    assert.equal(d?.target, '/Users/u/x');
    assert.equal(d?.tag, 'script-sandbox:run-1');
  });

  it('ignores the banner, other messages, torn and non-JSON lines', () => {
    assert.equal(parseLogLine('Filtering the log data using "sender == \\"Sandbox\\""'), null);
    assert.ok(isReadyLine('Filtering the log data using "x"'));
    assert.equal(parseLogLine(line('Sandbox: 1 duplicate report for python3 deny(1) file-read-data /x')), null);
    assert.equal(parseLogLine('{"eventMessage": "Sandbox: a(1) deny(1) file-read-da'), null);
    assert.equal(parseLogLine(JSON.stringify({ eventMessage: 42 })), null);
    assert.equal(logTimestampToIso('yesterday'), null);
  });

  it('maps to the one violation type: file (write is error), network with address and port, others syscall', () => {
    const now = () => new Date('2026-01-01T00:00:00Z');
    const w = denialToViolation(parseDenialMessage('Sandbox: sh(5) deny(1) file-write-create /Users/u/proj/.git/hooks/pre-commit') as never, 'r1', now);
    const n = denialToViolation({ ...(parseDenialMessage('Sandbox: curl(6) deny(1) network-outbound 93.184.216.34:443') as object), time: null } as never, 'r1', now);
    const m = denialToViolation({ ...(parseDenialMessage('Sandbox: x(7) deny(1) mach-lookup com.apple.foo') as object), time: null } as never, 'r1', now);
    for (const v of [w, n, m]) Violation.parse(v);
    assert.equal(w.kind, 'file');
    assert.equal(w.severity, 'error');
    assert.equal(w.path, '/Users/u/proj/.git/hooks/pre-commit');
    assert.equal(n.kind, 'network');
    assert.equal(n.address, '93.184.216.34');
    assert.equal(n.port, 443);
    assert.equal(m.kind, 'syscall');
    assert.equal(m.rule, 'seatbelt:mach-lookup');
    assert.equal(m.time, '2026-01-01T00:00:00.000Z');
  });
});

describe('darwin: capability report', () => {
  it('enforce possible with sandbox-exec; live violations unavailable without admin, with the reason', () => {
    const r = darwinReport({ kernel: 'Darwin 23.6.0', sandboxExec: true, admin: false, log: true }, 'arm64');
    assert.equal(r.enforcePossible, true);
    assert.equal(r.treeLimits, 'watchdog');
    const live = r.capabilities.find((c) => c.name === 'live_violations');
    assert.equal(live?.available, false);
    assert.match(live?.detail ?? '', /admin/);
    for (const c of r.capabilities) assert.match(c.detail, /^(enforced|reported|not available)/, c.name);
    assert.equal(r.capabilities.find((c) => c.name === 'syscall_filter')?.available, false);
  });

  it('no sandbox-exec: enforce impossible', () => {
    const r = darwinReport({ kernel: 'Darwin 25.0.0', sandboxExec: false, admin: true, log: true });
    assert.equal(r.enforcePossible, false);
    assert.match(r.capabilities.find((c) => c.name === 'seatbelt')?.detail ?? '', /^not available/);
  });
});

describe('darwin: launcher and host pieces', () => {
  const plan: DarwinPlan = { platform: 'darwin', runId: 'r', file: '/usr/bin/python3', argv: ['python3', '-c', 'x'], env: { A: '1' }, cwd: '/Users/u/p', rlimits: [{ resource: 'core', soft: 0, hard: 0 }], seatbelt: '(version 1)(deny default)', namespaces: null };

  it('execs the fixed /usr/bin/sandbox-exec with the profile, "--", then the script', () => {
    assert.deepEqual(sandboxExecArgv(plan), { file: SANDBOX_EXEC, argv: ['/usr/bin/sandbox-exec', '-p', '(version 1)(deny default)', '--', '/usr/bin/python3', '-c', 'x'] });
    assert.deepEqual(sandboxExecArgv({ ...plan, seatbelt: null }), { file: '/usr/bin/python3', argv: ['python3', '-c', 'x'] });
  });

  it('a profile Seatbelt rejects (exit 65) or a nested sandbox (exit 71) is a typed setup error before the script runs', () => {
    const fake = (status: number, stderr: string) => (() => ({ status, stderr, stdout: '', signal: null, pid: 1, output: [] })) as never;
    assert.throws(() => checkProfile('(bad', fake(65, 'sandbox-exec: syntax error\n')), (e: Error & { code?: string }) => e.code === 'SETUP_FAILED' && /syntax error/.test(e.message));
    assert.throws(() => checkProfile('(x)', fake(71, 'sandbox_apply: Operation not permitted')), /Operation not permitted/);
    assert.doesNotThrow(() => checkProfile('(version 1)', fake(0, '')));
  });

  it('the plan message carries a darwin plan; a linux-only field set is still a linux plan', () => {
    const got = parsePlanMessage(JSON.stringify({ type: 'plan', plan }));
    assert.deepEqual(got, plan);
    assert.throws(() => parsePlanMessage(JSON.stringify({ type: 'plan', plan: { ...plan, seatbelt: 5 } })), /plan message invalid/);
  });

  it('ps output → process table for the watchdog (cpu in 1/100 s, RSS in KiB, zombies)', () => {
    assert.equal(parsePsTime('0:01.50'), 150);
    assert.equal(parsePsTime('1:02:03.04'), (3600 + 120 + 3) * 100 + 4);
    assert.equal(parsePsTime('2-00:00:00'), 2 * 86400 * 100);
    assert.equal(parsePsTime('x'), null);
    const rows = parsePs('  1     0     1 Ss     12345   1:00.00\n 501   1   501 Z+ 0 0:00.00\nbad line\n');
    assert.deepEqual(rows.map((r) => [r.pid, r.ppid, r.pgid, r.state, r.rssPages, r.cpuTicks]), [
      [1, 0, 1, 'S', 12345, 6000],
      [501, 1, 501, 'Z', 0, 0],
    ]);
  });
});

describe('darwin: network through the egress proxy', () => {
  it('enforce with any preset but none sends all egress through the proxy; its port is the only one the profile opens', () => {
    const ctx = { workspace: '/Users/u/p', home: '/Users/u' };
    const strict = resolvePolicy({ user: { network: { preset: 'strict', allowHosts: ['api.example.com'] } } }, ctx).policy;
    const none = resolvePolicy({ user: { network: { preset: 'none' } } }, ctx).policy;
    const warn = resolvePolicy({ user: { mode: 'warn', network: { preset: 'default' } } }, ctx).policy;
    const platform = new DarwinHostPlatform({} as never);
    assert.equal(platform.proxiesAllEgress(strict), true);
    assert.equal(platform.proxiesAllEgress(none), false);
    assert.equal(platform.proxiesAllEgress(warn), false, 'warn applies no profile');
    const plan = compileDarwinPlan(withProxyAllowed(strict, 45678), { runId: 'r', file: '/bin/sh', argv: ['sh'], env: {}, cwd: '/Users/u/p', tmpDir: '/tmp/r', toolRoots: [], proxyPort: null });
    const net = (plan.seatbelt ?? '').split('\n').filter((l) => l.includes('network-outbound'));
    assert.deepEqual(net, ['(allow network-outbound (remote ip "localhost:45678"))']);
  });
});

describe('darwin: live denials routed from one log stream', () => {
  type H = { onDenial(d: SandboxDenial): void; onUnavailable(reason: string): void };
  const denial = (pid: number, tag: string | null): SandboxDenial => ({ process: 'sh', pid, operation: 'file-write-create', target: '/x', tag, time: null });

  it('routes by the run tag first, then by a pid of the run tree; a stranger is dropped', () => {
    let h: H | null = null;
    let starts = 0;
    const router = new DenialRouter((x) => {
      h = x;
      starts++;
      return { stop: () => undefined };
    });
    const got: Record<string, number[]> = { a: [], b: [] };
    router.register('a', { belongs: (p) => p === 10, onDenial: (d) => got.a.push(d.pid), onUnavailable: () => assert.fail() });
    router.register('b', { belongs: (p) => p === 20, onDenial: (d) => got.b.push(d.pid), onUnavailable: () => assert.fail() });
    assert.equal(starts, 1, 'one stream per host');
    h!.onDenial(denial(10, null));
    h!.onDenial(denial(20, null));
    h!.onDenial(denial(99, 'script-sandbox:a'));
    h!.onDenial(denial(30, null));
    assert.deepEqual(got, { a: [10, 99], b: [20] });
  });

  it('a log that cannot be read is told to the runs registered then, once, and not restarted', () => {
    let h: H | null = null;
    let starts = 0;
    const router = new DenialRouter((x) => {
      h = x;
      starts++;
      return { stop: () => undefined };
    });
    const heard: string[] = [];
    router.register('a', { belongs: () => false, onDenial: () => undefined, onUnavailable: (r) => heard.push(r) });
    h!.onUnavailable('log stream needs an admin account');
    router.register('b', { belongs: () => false, onDenial: () => undefined, onUnavailable: (r) => heard.push(`b ${r}`) });
    assert.deepEqual(heard, ['log stream needs an admin account']);
    assert.equal(starts, 1);
    assert.equal(router.unavailableReason, 'log stream needs an admin account');
  });

  it('streamDenials: lines split across chunks are joined; exit 77 is "needs an admin account"', () => {
    const fakeChild = () => {
      const c = new EventEmitter() as EventEmitter & { stdout: PassThrough; stderr: PassThrough; kill(): void };
      c.stdout = new PassThrough();
      c.stderr = new PassThrough();
      c.kill = () => undefined;
      return c;
    };
    const child = fakeChild();
    const got: SandboxDenial[] = [];
    const reasons: string[] = [];
    streamDenials({ onDenial: (d) => got.push(d), onUnavailable: (r) => reasons.push(r), spawnLog: () => child as never });
    const msg = JSON.stringify({ eventMessage: 'Sandbox: cat(7) deny(1) file-read-data /Users/u/.ssh/id script-sandbox:r1', timestamp: '2026-10-09 12:00:01.5+0000' });
    child.stdout.write('Filtering the log data using "sender == \\"Sandbox\\""\n' + msg.slice(0, 20));
    child.stdout.write(msg.slice(20) + '\n');
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      assert.equal(got.length, 1);
      assert.equal(got[0].tag, 'script-sandbox:r1');
      const c2 = fakeChild();
      streamDenials({ onDenial: () => undefined, onUnavailable: (r) => reasons.push(r), spawnLog: () => c2 as never });
      c2.stderr.write("log: Must be admin to run 'stream' command\n");
      return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        c2.emit('exit', 77);
        assert.match(reasons[0], /admin/);
      });
    });
  });

  it('the macOS host platform turns a tagged denial into a violation of the run, in enforce only', async () => {
    let h: H | null = null;
    const router = new DenialRouter((x) => {
      h = x;
      return { stop: () => undefined };
    });
    const platform = new DarwinHostPlatform({} as never, () => false, router);
    const ctx = { workspace: '/Users/u/p', home: '/Users/u' };
    const enforce = resolvePolicy({ user: {} }, ctx).policy;
    const warn = resolvePolicy({ user: { mode: 'warn' } }, ctx).policy;
    const seen: Violation[] = [];
    assert.equal(platform.watchViolations({ runId: 'r9', policy: warn, rootPid: 5, onViolation: () => assert.fail(), onError: () => undefined }), null);
    const w = platform.watchViolations({ runId: 'r9', policy: enforce, rootPid: 5, onViolation: (v) => seen.push(v), onError: () => undefined });
    h!.onDenial({ process: 'sh', pid: 5, operation: 'file-write-create', target: '/Users/u/outside.txt', tag: null, time: '2026-01-01T00:00:00.000Z' });
    await w!.flush();
    h!.onDenial({ process: 'sh', pid: 5, operation: 'file-write-create', target: '/late', tag: null, time: null });
    assert.equal(seen.length, 1, 'nothing after flush');
    assert.equal(seen[0].runId, 'r9');
    assert.equal(seen[0].kind, 'file');
    assert.equal(seen[0].path, '/Users/u/outside.txt');
    platform.dispose();
  });
});

describe('darwin: libSystem struct layouts (fixed-width fields: koffi gives Darwin\'s layout on any OS)', () => {
  it('struct rlimit is 2 x u64; struct rusage is 144 bytes with ru_maxrss at 32', () => {
    assert.equal(koffi.sizeof(DarwinRlimitStruct), 16);
    assert.equal(koffi.offsetof(DarwinRlimitStruct, 'rlim_max'), 8);
    assert.equal(koffi.sizeof(DarwinRusageStruct), 144);
    assert.equal(koffi.offsetof(DarwinRusageStruct, 'ru_utime_usec'), 8);
    assert.equal(koffi.offsetof(DarwinRusageStruct, 'ru_stime_sec'), 16);
    assert.equal(koffi.offsetof(DarwinRusageStruct, 'ru_stime_usec'), 24);
    assert.equal(koffi.offsetof(DarwinRusageStruct, 'ru_maxrss'), 32);
    assert.equal(koffi.offsetof(DarwinRusageStruct, 'ru_nivcsw'), 136);
  });
});
