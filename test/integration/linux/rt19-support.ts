// Red team rt19's helpers (redteam-rt19.test.ts): engines with a pool driven in this process, and what a
// run's script and the outside see of its cgroups.
import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, type Sandbox } from './helpers';

export type Engine = ReturnType<typeof import('../../../src/host/engine').createEngine>;

export interface HeldEntry {
  cg: { directories(): string[] };
  state: 'moving' | 'in' | 'failed';
}
export interface PlatformView {
  held: { held: Map<number, HeldEntry> } | null;
}

export const IS_ROOT = process.getuid?.() === 0;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function makeEngine(env: Record<string, string>, pool: number): Engine {
  const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
  const saved = process.env.SCRIPT_SANDBOX_NAMESPACES;
  if (env.SCRIPT_SANDBOX_NAMESPACES) process.env.SCRIPT_SANDBOX_NAMESPACES = env.SCRIPT_SANDBOX_NAMESPACES;
  else delete process.env.SCRIPT_SANDBOX_NAMESPACES;
  try {
    return createEngine({ pool, launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'dist/supervisor.js') });
  } finally {
    if (saved === undefined) delete process.env.SCRIPT_SANDBOX_NAMESPACES;
    else process.env.SCRIPT_SANDBOX_NAMESPACES = saved;
  }
}

export function platformOf(engine: Engine): PlatformView {
  return (engine.runner as unknown as { platform: PlatformView }).platform;
}

export function policyFor(sb: Sandbox, extra: Record<string, unknown> = {}) {
  const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
  return resolvePolicy({ run: { mode: 'enforce', profile: 'moderate', ...extra } }, { workspace: sb.workspace, home: sb.home }).policy;
}

/** The cgroup paths of a process by controller (v1 lines), or null when it is gone. */
export function cgroupsOf(pid: number): Record<string, string> | null {
  try {
    const out: Record<string, string> = {};
    for (const l of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean)) {
      const [, ctl, p] = l.split(':');
      for (const c of (ctl ?? '').split(',')) out[c || 'unified'] = p ?? '';
    }
    return out;
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Forks a `sleep` whose host pid is `want` (ns_last_pid, root): what any process on the machine may get once a
 *  pid is free again. Returns the child, or null when another fork took the pid first. */
export function spawnWithPid(want: number): ChildProcess | null {
  const py = `import os, sys, time
want = int(sys.argv[1])
for _ in range(50):
    with open('/proc/sys/kernel/ns_last_pid', 'w') as f: f.write(str(want - 1))
    pid = os.fork()
    if pid == 0:
        n = os.open('/dev/null', os.O_RDWR)
        for fd in (0, 1, 2): os.dup2(n, fd)
        os.execv('/bin/sleep', ['sleep', '120'])
    if pid == want:
        print(pid, flush=True); os._exit(0)
    os.kill(pid, 9); os.waitpid(pid, 0)
print(0, flush=True)
`;
  const r = spawnSync('python3', ['-c', py, String(want)], { encoding: 'utf8' });
  const got = Number(r.stdout.trim());
  if (got !== want) return null;
  return { pid: got } as ChildProcess;
}


/** Owner records (~/.local/state/script-sandbox/runs) whose owner is this process. */
export function ownRecords(): string[] {
  const dir = path.join(os.homedir(), '.local/state/script-sandbox/runs');
  const out: string[] = [];
  try {
    for (const n of fs.readdirSync(dir)) {
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as { owner?: { pid?: number } };
        if (rec.owner?.pid === process.pid) out.push(n);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no records at all
  }
  return out;
}

/** The cgroup roots under which runs make their directories (v1: one per controller). */
export function cgroupRoots(): string[] {
  const self = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean);
  const out: string[] = [];
  for (const c of ['pids', 'memory', 'cpuacct']) {
    const l = self.find((x) => x.split(':')[1]?.split(',').includes(c));
    if (l) out.push(path.join('/sys/fs/cgroup', c, l.split(':')[2] ?? '/', 'script-sandbox'));
  }
  return out.filter((d) => fs.existsSync(d));
}

export function cgroupDirsNamed(ids: Set<string>): string[] {
  const out: string[] = [];
  for (const r of cgroupRoots()) for (const n of fs.readdirSync(r)) if (ids.has(n)) out.push(path.join(r, n));
  return out;
}

export interface RunOutcome {
  runId: string;
  out: string;
  setupError: unknown;
  exitCode: number | null;
  /** The script's pids/memory cgroups and the pids.max there, read from outside at 'started'. */
  outside: { cg: Record<string, string> | null; pidsMax: string | null } | null;
}

export async function runOnce(engine: Engine, sb: Sandbox, command: string[], policy: unknown): Promise<RunOutcome> {
  let runId = '';
  // unref'd: the guard must not keep the test process alive after the last run.
  const hung = new Promise<void>((r) => setTimeout(r, 60_000).unref()).then(() => ({ runId, out: '', setupError: `HUNG: run ${runId} has no result 60 s later`, exitCode: null, outside: null }));
  return Promise.race([runOnceInner(engine, sb, command, policy, (id) => (runId = id)), hung]);
}

export async function runOnceInner(engine: Engine, sb: Sandbox, command: string[], policy: unknown, named: (id: string) => void): Promise<RunOutcome> {
  const h = engine.runner.run({ command, cwd: sb.workspace, policy: policy as never, env: { PATH: '/usr/bin:/bin', HOME: sb.home } });
  named(h.runId);
  let out = '';
  let outside: RunOutcome['outside'] = null;
  h.on('stdout', (b: Buffer) => (out += b.toString()));
  h.on('started', (e: { pid: number }) => {
    const cg = cgroupsOf(e.pid);
    if (!alive(e.pid)) return; // exited already: a zombie's /proc/<pid>/cgroup names the root
    let pidsMax: string | null = null;
    try {
      if (cg?.pids) pidsMax = fs.readFileSync(path.join('/sys/fs/cgroup/pids', cg.pids, 'pids.max'), 'utf8').trim();
    } catch {
      // gone
    }
    outside = { cg, pidsMax };
  });
  const r = await h.wait();
  return { runId: h.runId, out, setupError: r.setupError, exitCode: r.exitCode, outside };
}

/**
 * The name of the cgroup a run's script saw itself in (its pids line): the run's id, or the id its held cgroup
 * kept when the run took its launcher while the launcher's join was still in flight (run-tree.ts attach).
 */
export function ownCgroup(o: RunOutcome): string | null {
  const l = o.out.split('\n').find((x) => /^\d+:pids:/.test(x));
  return l ? path.basename(l) : null;
}

/** What a run's script said about its own cgroups (v1 pids and memory lines) that is no run cgroup of ours,
 *  or not the same one in both hierarchies. */
export function strayLines(o: RunOutcome): string[] {
  const lines = o.out.split('\n').filter((l) => /^\d+:(pids|memory):/.test(l));
  const own = ownCgroup(o);
  return lines.filter((l) => !/\/script-sandbox\/[a-z0-9]+-[0-9a-f]{8}$/.test(l) || path.basename(l) !== own);
}

