// Supervised-call micro bench (issue 11 goal 3): 10,000 opens that each make one seccomp notification round
// trip (write opens; read opens with reportReads; write opens spelled absolute), native against the host's
// warm path, interleaved, medians.
// The sandboxed figure is the run's exec -> exit phase (the script alone, no launcher start); per round trip
// = (sandboxed - native) / 10,000. Worker CPU is the supervisor thread's
// CPU time (schedstat) less that of the same run with no opens (the worker's own start, python's start).
// Usage: node build.mjs && node scripts/bench-supervised.mjs [iterations] [other-supervisor.js ...]: further
// supervisor bundles are timed in the same loop (an A/B against a saved build of an earlier commit).
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { createEngine } = require(path.join(root, 'out/src/host/engine.js'));
const { resolvePolicy } = require(path.join(root, 'out/src/policy/index.js'));
const n = Number(process.argv[2] ?? 9);
const workers = [path.join(root, 'dist/supervisor.js'), ...process.argv.slice(3).map((p) => path.resolve(p))];
const COUNT = 10000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-perf-sv-'));
fs.writeFileSync(path.join(dir, 'file-1.txt'), 'x\n');
const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: dir, home: os.homedir() });
const reportReads = { ...policy, filesystem: { ...policy.filesystem, reportReads: true } };
const py = (flag, count = COUNT, file = 'file-1.txt') => ['/usr/bin/python3', '-c', `import os\nfor i in range(${count}): os.close(os.open(${JSON.stringify(file)}, os.${flag}))`];
// The absolute spelling makes the supervisor's path walk look at every component (and the target's root).
const abs = path.join(dir, 'file-1.txt');
const cases = [
  { name: 'write opens', cmd: py('O_WRONLY'), zero: py('O_WRONLY', 0), policy },
  { name: 'read opens, reportReads', cmd: py('O_RDONLY'), zero: py('O_RDONLY', 0), policy: reportReads },
  { name: 'write opens, absolute', cmd: py('O_WRONLY', COUNT, abs), zero: py('O_WRONLY', 0, abs), policy },
];
const q = (all, p) => { const xs = all.filter((x) => !Number.isNaN(x)); return [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]; };
function timeNative(cmd) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd[0], cmd.slice(1), { cwd: dir, stdio: 'ignore' });
    c.on('error', rej);
    c.on('exit', () => res(performance.now() - t0));
  });
}
/** CPU time, ns (schedstat), of the supervisor's worker: the one thread of this process waiting in poll(). */
function workerCpuNs() {
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      if (!fs.readFileSync(`/proc/self/task/${t}/wchan`, 'utf8').startsWith('poll_schedule')) continue;
      return Number(fs.readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {}
  }
  return NaN;
}
// One engine per supervisor bundle, made for each run and disposed after it: two live engines in one process
// would take each other's launchers for orphans.
async function timeSandboxed(worker, cmd, p) {
  const engine = createEngine({ launcherPath: path.join(root, 'dist/launcher.js'), supervisorPath: worker });
  try {
    const r = await engine.runner.run({ command: cmd, cwd: dir, policy: p, env: { PATH: '/usr/bin:/bin', HOME: os.homedir() } }).wait();
    // The worker is found by its wait in poll(): give it a moment if it is still answering the last call.
    let cpu = workerCpuNs();
    for (let i = 0; i < 20 && Number.isNaN(cpu); i++) {
      await new Promise((res) => setTimeout(res, 5));
      cpu = workerCpuNs();
    }
    if (r.setupError || r.exitCode !== 0 || !r.phases || r.phases.execMs === null) throw new Error(`run failed: ${JSON.stringify(r.setupError ?? r.exitCode)}`);
    return { ms: r.phases.exitMs - r.phases.execMs, cpu };
  } finally {
    engine.dispose();
  }
}
try {
  for (const c of cases) {
    for (const w of workers) await timeSandboxed(w, c.cmd, c.policy);
    const nat = [];
    const sb = workers.map(() => ({ ms: [], cpu: [] }));
    for (let i = 0; i < n; i++) {
      nat.push(await timeNative(c.cmd));
      for (let k = 0; k < workers.length; k++) {
        // Worker CPU per call: the same run with no opens is subtracted (engine, worker and python start).
        const z = await timeSandboxed(workers[k], c.zero, c.policy);
        const x = await timeSandboxed(workers[k], c.cmd, c.policy);
        sb[k].ms.push(x.ms);
        sb[k].cpu.push(x.cpu - z.cpu);
      }
    }
    const nm = q(nat, 0.5);
    for (let k = 0; k < workers.length; k++) {
      const sm = q(sb[k].ms, 0.5);
      const label = k === 0 ? 'this build' : path.relative(root, workers[k]);
      console.log(`${c.name.padEnd(24)} ${label.padEnd(30)} native ${nm.toFixed(0)} ms, sandboxed ${sm.toFixed(0)} ms (+${(sm - nm).toFixed(0)} ms) = ${(((sm - nm) * 1000) / COUNT).toFixed(1)} us/round trip; worker CPU ${(q(sb[k].cpu, 0.5) / 1000 / COUNT).toFixed(1)} us/call`);
    }
  }
  console.log(`(${n} iterations, interleaved; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${os.cpus().length} cpus)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
