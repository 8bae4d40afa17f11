// The host needs nothing from an OS but a backend and its host binding (issue 12): the engine, the runner and
// the run session complete a run over a fake of both. The fake "OS" is pure translation: its host platform
// compiles a plan, keeps a recorded tree, and its launcher runs the plan's program as a plain child process
// (no confinement: what is under test is the host's wiring, not a sandbox). Nothing here imports Linux code.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { CapabilityReport, SandboxBackend } from '../../../native';
import { createEngineWith } from '../../../src/host/engine';
import type { EngineParts, HostBinding } from '../../../src/host/engine-parts';
import type { Launcher, LauncherSource } from '../../../src/host/launcher-source';
import { Monitor } from '../../../src/host/monitor';
import type { HostPlatform, RunTree } from '../../../src/host/platform';
import { startRunSession } from '../../../src/host/run-session';
import type { RunHandle } from '../../../src/host/run-handle';
import { resolvePolicy } from '../../../src/policy/resolve';
import type { ResolvedPolicy } from '../../../src/policy/schema';
import type { Plan } from '../../../src/protocol/plan';
import { compileReactions } from '../../../src/protocol/run-reactions';

function fakeReport(enforcePossible: boolean): CapabilityReport {
  return {
    platform: 'fake-os',
    arch: 'fake',
    kernel: 'Fake 1.0',
    capabilities: [{ name: 'fake-confinement', available: enforcePossible, detail: enforcePossible ? 'pretends to confine' : 'cannot confine', requiredForEnforce: true }],
    treeLimits: 'watchdog',
    enforcePossible,
  };
}

function fakeBackend(enforcePossible: boolean): SandboxBackend {
  return {
    platform: 'fake-os',
    supported: true,
    probe: () => fakeReport(enforcePossible),
    applyAndExec: () => {
      throw new Error('the host never applies a plan: only a launcher does');
    },
  };
}

/** A launcher that runs the plan's program plainly: what reaches it is exactly what the platform compiled. */
function plainLauncher(calls: string[]): Launcher {
  let onExec: (plan: Plan) => void = () => undefined;
  const started = new Promise<Plan>((resolve) => (onExec = resolve));
  const child = started.then((plan) => {
    if (plan.platform !== 'darwin') throw new Error(`the fake platform compiles posix plans, got ${plan.platform}`);
    return spawn(plan.file, plan.argv.slice(1), { cwd: plan.cwd, env: plan.env, stdio: ['ignore', 'pipe', 'pipe'] });
  });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  void child.then((c) => {
    c.stdout!.pipe(stdout);
    c.stderr!.pipe(stderr);
  });
  const exited = child.then((c) => new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.once('close', (code, signal) => resolve({ code, signal }))));
  return {
    pid: 424242,
    stdin: null,
    stdout,
    stderr,
    onListener: null,
    join: () => Promise.resolve(false), // the fake OS has no cgroups
    exec(plan) {
      calls.push(`launcher.exec ${plan.platform} ${plan.runId}`);
      onExec(plan);
      return child.then(() => ({ ok: true as const, launcherCpu: { userMs: 0, systemMs: 0 } }));
    },
    exited,
    reaped: exited.then(() => undefined),
    drained: () => exited.then(() => undefined),
    kill: () => void child.then((c) => c.kill('SIGKILL')),
  };
}

function fakeParts(backend: SandboxBackend, calls: string[]): EngineParts {
  const launchers: LauncherSource = {
    acquire: async () => (calls.push('launchers.acquire'), plainLauncher(calls)),
    owns: () => false,
    dispose: () => void calls.push('launchers.dispose'),
  };
  const tree = (runId: string): RunTree => ({
    kind: 'watchdog',
    attach: (pid) => void calls.push(`tree.attach ${pid}`),
    arm: () => void calls.push('tree.arm'),
    nprocRlimit: () => null,
    killAll: () => void calls.push('tree.killAll'),
    sweep: () => (calls.push('tree.sweep'), 0),
    usage: () => ({ cpuUserMs: 1, cpuSystemMs: 2, maxRssKiB: 3, source: 'sampled' }),
    kernelHits: () => ({ memory: false, processes: false }),
    dispose: () => void calls.push(`tree.dispose ${runId}`),
  });
  const platform: HostPlatform = {
    supervises: () => false,
    prepareSupervision: async () => null,
    supervise: () => {
      throw new Error('not supervised: supervises() said no');
    },
    probe: () => (calls.push('probe'), backend.probe()),
    compile: (_policy: ResolvedPolicy, req) => {
      calls.push(`compile ${path.basename(req.file)} listener=${req.listener}`);
      return { platform: 'darwin', runId: req.runId, file: req.file, argv: req.argv, env: req.env, cwd: req.cwd, rlimits: [], seatbelt: null, namespaces: null };
    },
    createTree: (runId) => (calls.push('createTree'), tree(runId)),
    childrenUsage: () => ({ userMs: 0, systemMs: 0, maxRssKiB: 0 }),
    dispose: () => void calls.push('platform.dispose'),
  };
  return { platform, launchers, ptys: () => null, launchersSettled: () => Promise.resolve() };
}

describe('the host over a fake backend and host binding (it needs nothing else from an OS)', () => {
  let ws: string;
  beforeEach(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-fake-backend-'));
    fs.writeFileSync(path.join(ws, 'hello.sh'), '#!/bin/sh\necho "hello from $0"\n', { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  function engineOn(enforcePossible: boolean) {
    const calls: string[] = [];
    const backend = fakeBackend(enforcePossible);
    const binding: HostBinding = { parts: (b, opts) => (calls.push(`parts launcher=${path.basename(opts.launcherPath)}`), fakeParts(b, calls)) };
    return { engine: createEngineWith(backend, binding), calls };
  }

  function session(engine: ReturnType<typeof engineOn>['engine'], mode: 'enforce' | 'warn'): { handle: RunHandle; out: () => string } {
    const policy = resolvePolicy({ run: { mode, profile: 'moderate' } }, { workspace: ws, home: os.homedir() }).policy;
    let out = '';
    const { handle } = startRunSession(engine, {
      command: ['/bin/sh', path.join(ws, 'hello.sh')],
      cwd: ws,
      policy,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir() },
      reactions: compileReactions(policy),
      log: null,
      monitor: new Monitor(),
      listen: (h) => h.on('stdout', (b) => (out += b.toString())),
    });
    return { handle, out: () => out };
  }

  it('an enforce run completes: compiled, launched in its tree, output and result delivered, tree disposed', async () => {
    const { engine, calls } = engineOn(true);
    try {
      assert.equal(engine.capabilities().platform, 'fake-os', 'the capability report is the backend\'s');
      assert.equal(engine.ptys, null);
      const s = session(engine, 'enforce');
      const result = await s.handle.wait();
      assert.equal(result.setupError, null, JSON.stringify(result.setupError));
      assert.equal(result.exitCode, 0);
      assert.match(s.out(), /^hello from .*hello\.sh\n$/);
      const runCalls = calls.filter((c) => !c.startsWith('probe'));
      assert.deepEqual(runCalls, ['parts launcher=launcher.js', 'createTree', 'compile sh listener=false', 'launchers.acquire', 'tree.attach 424242', `launcher.exec darwin ${result.runId}`, 'tree.arm', 'tree.sweep', `tree.dispose ${result.runId}`]);
    } finally {
      engine.dispose();
    }
    assert.deepEqual(calls.slice(-2), ['launchers.dispose', 'platform.dispose']);
  });

  it('enforce is refused up front when the backend\'s report says it cannot be kept; warn runs', async () => {
    const { engine, calls } = engineOn(false);
    try {
      assert.throws(() => session(engine, 'enforce'), (e: Error & { code?: string }) => e.code === 'MECHANISM_UNAVAILABLE' && /fake-confinement \(cannot confine\)/.test(e.message));
      assert.ok(!calls.some((c) => c.startsWith('compile')), 'nothing was compiled for the refused run');
      const result = await session(engine, 'warn').handle.wait();
      assert.equal(result.exitCode, 0);
    } finally {
      engine.dispose();
    }
  });
});
