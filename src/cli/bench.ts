// `npm run bench`: native vs sandboxed, timed from the host's point of view (request → exit), median and
// p95 over many iterations, ratios from the same run. bubblewrap is a peer row when installed.
import { parseCommand, UsageError, type CommandSpec } from './parse';
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePolicy } from '../policy';
import { createEngine, type Engine } from '../host/engine';
import { findInPath } from '../host/command';
import type { ResolvedPolicy } from '../policy/schema';

interface Row {
  name: string;
  variant: string;
  medianMs: number;
  p95Ms: number;
  iterations: number;
  ratioToNative: number | null;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function timeNative(cmd: string[], cwd: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const c = spawn(cmd[0]!, cmd.slice(1), { cwd, stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}

async function timeSandboxed(engine: Engine, cmd: string[], cwd: string, policy: ResolvedPolicy): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await engine.runner.run({ command: cmd, cwd, policy, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir() } }).wait();
  if (r.setupError) throw new Error(`sandboxed ${cmd.join(' ')} failed: ${r.setupError.message}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function makeRepo(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(dir, `file-${i}.txt`), `line ${i}\n`);
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' } });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'bench');
}

export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  summary: 'Times native against sandboxed runs of a few commands (enforce mode, each tier this machine has).',
  options: {
    iterations: { type: 'string', value: 'N', help: 'runs per case (default 30)' },
    'json-file': { type: 'string', value: 'FILE', help: 'where to write the results (default bench-results.json)' },
  },
  positionals: 'none',
};

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseCommand(BENCH_SPEC, argv);
  const iterations = values.iterations as string | undefined;
  if (iterations !== undefined && !(Number.isInteger(Number(iterations)) && Number(iterations) > 0)) throw new UsageError(`--iterations takes a positive whole number, got "${iterations}"`);
  const n = iterations !== undefined ? Number(iterations) : 30;
  const jsonOut = (values['json-file'] as string | undefined) ?? 'bench-results.json';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'script-sandbox-bench-'));
  const repo = path.join(root, 'repo');
  makeRepo(repo);
  const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: repo, home: os.homedir() });
  const reportReads = { ...policy, filesystem: { ...policy.filesystem, reportReads: true } };
  const cases: Array<{ name: string; cmd: string[]; policy?: typeof policy; fallbackRow?: boolean }> = [
    { name: '/bin/true', cmd: ['/bin/true'], fallbackRow: true },
    { name: "sh -c 'echo hi'", cmd: ['/bin/sh', '-c', 'echo hi'], fallbackRow: true },
    { name: 'python3 -c pass', cmd: ['python3', '-c', 'pass'] },
    { name: 'git status (200 files)', cmd: ['git', 'status', '--short'] },
    // File monitoring: read opens never reach the supervisor in enforce mode (BPF tests the open flags);
    // write opens do, one notification each.
    { name: '10,000 opens (read)', cmd: ['python3', '-c', "import os\nfor i in range(10000): os.close(os.open('file-1.txt', os.O_RDONLY))"] },
    { name: '10,000 opens (read, reportReads)', cmd: ['python3', '-c', "import os\nfor i in range(10000): os.close(os.open('file-1.txt', os.O_RDONLY))"], policy: reportReads },
    { name: '10,000 opens (write)', cmd: ['python3', '-c', "import os\nfor i in range(10000): os.close(os.open('file-1.txt', os.O_WRONLY))"] },
  ];
  const bwrap = findInPath('bwrap', process.env.PATH);
  // The pool is what the extension's host uses; a CLI run starts its launcher cold (see README figures).
  const engine = createEngine({ pool: 2 });
  // The namespace stage's cost per run: the same runs in the fallback tier (no namespaces), in a second pass
  // with its own engine (two engines at once in one process take each other's pooled launchers for orphans).
  const nsTier = engine.capabilities().capabilities.some((c) => c.name === 'namespaces' && c.available);
  const rows: Row[] = [];
  try {
    for (const c of cases) {
      const nativePath = c.cmd[0]!.includes('/') ? c.cmd[0]! : findInPath(c.cmd[0]!, process.env.PATH);
      if (!nativePath) {
        process.stderr.write(`bench: skipping ${c.name}: ${c.cmd[0]} not found\n`);
        continue;
      }
      const native: number[] = [];
      const sandboxed: number[] = [];
      const peer: number[] = [];
      const p = c.policy ?? policy;
      await timeSandboxed(engine, c.cmd, repo, p); // warm the page cache
      for (let i = 0; i < n; i++) {
        native.push(await timeNative([nativePath, ...c.cmd.slice(1)], repo));
        sandboxed.push(await timeSandboxed(engine, c.cmd, repo, p));
        if (bwrap) peer.push(await timeNative([bwrap, '--ro-bind', '/', '/', '--bind', repo, repo, '--dev', '/dev', '--proc', '/proc', '--unshare-all', '--die-with-parent', nativePath, ...c.cmd.slice(1)], repo));
      }
      const nm = quantile(native, 0.5);
      rows.push({ name: c.name, variant: 'native', medianMs: nm, p95Ms: quantile(native, 0.95), iterations: n, ratioToNative: 1 });
      rows.push({ name: c.name, variant: nsTier ? 'script-sandbox' : 'script-sandbox (fallback tier)', medianMs: quantile(sandboxed, 0.5), p95Ms: quantile(sandboxed, 0.95), iterations: n, ratioToNative: quantile(sandboxed, 0.5) / nm });
      if (bwrap) rows.push({ name: c.name, variant: 'bubblewrap', medianMs: quantile(peer, 0.5), p95Ms: quantile(peer, 0.95), iterations: n, ratioToNative: quantile(peer, 0.5) / nm });
    }
  } finally {
    engine.dispose();
  }
  const fallback = nsTier ? createEngine({ pool: 2, namespaces: false }) : null;
  try {
    for (const c of fallback ? cases.filter((x) => x.fallbackRow) : []) {
      const flat: number[] = [];
      await timeSandboxed(fallback!, c.cmd, repo, policy);
      for (let i = 0; i < n; i++) flat.push(await timeSandboxed(fallback!, c.cmd, repo, policy));
      const nm = rows.find((r) => r.name === c.name && r.variant === 'native')?.medianMs ?? NaN;
      rows.push({ name: c.name, variant: 'no namespaces', medianMs: quantile(flat, 0.5), p95Ms: quantile(flat, 0.95), iterations: n, ratioToNative: quantile(flat, 0.5) / nm });
    }
  } finally {
    fallback?.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const w = (s: string, k: number) => s.padEnd(k);
  process.stdout.write(`${w('case', 34)}${w('variant', 16)}${w('median ms', 11)}${w('p95 ms', 10)}ratio\n`);
  for (const r of rows) process.stdout.write(`${w(r.name, 34)}${w(r.variant, 16)}${w(r.medianMs.toFixed(1), 11)}${w(r.p95Ms.toFixed(1), 10)}${r.ratioToNative?.toFixed(2) ?? ''}\n`);
  if (!bwrap) process.stdout.write('(bubblewrap not installed: no peer rows; apt-get install bubblewrap to add them)\n');
  if (fallback) {
    const cost = (name: string) => {
      const a = rows.find((r) => r.name === name && r.variant === 'script-sandbox');
      const b = rows.find((r) => r.name === name && r.variant === 'no namespaces');
      return a && b ? `${name}: ${(a.medianMs - b.medianMs).toFixed(1)} ms` : null;
    };
    // Not the stage alone: the fallback tier also carves protected paths out of Landlock, which expands the
    // workspace root into one rule per entry. The stage's start (unshare + perl, ~60 ms here) is paid when a
    // pooled launcher is pre-warmed, or per run by a cold CLI launcher; its probe once per process.
    process.stdout.write(`namespace tier minus fallback tier per run (median, pooled launchers): ${cases.filter((c) => c.fallbackRow).map((c) => cost(c.name)).filter(Boolean).join(', ')}\n`);
  } else process.stdout.write('(fallback tier in force: no namespace-stage row)\n');
  fs.writeFileSync(jsonOut, JSON.stringify({ machine: { cpus: os.cpus().length, kernel: os.release(), node: process.version }, iterations: n, rows }, null, 2) + '\n');
  process.stdout.write(`JSON written to ${jsonOut}\n`);
  return 0;
}
