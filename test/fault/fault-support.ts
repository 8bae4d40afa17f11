// What the fault and load tiers observe from outside: processes carrying a marker (argv or environment),
// a run's temp folder and cgroup directories, the audit log checked with the real CLI, and a seeded PRNG
// so every "random moment" can be replayed (SS_FAULT_SEED).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectCgroups } from '../../native/linux/cgroup';
import { CLI } from '../integration/linux/helpers';

export function faultSeed(): number {
  const env = process.env.SS_FAULT_SEED;
  return env && /^\d+$/.test(env) ? Number(env) : 4242;
}

/** mulberry32: small, seeded, good enough to pick kill moments. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Live (non-zombie) processes whose argv or environment contains `marker`. */
export function processesWith(marker: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      let env = '';
      try {
        env = fs.readFileSync(`/proc/${name}/environ`, 'utf8');
      } catch {
        // not ours to read
      }
      if (cmd.includes(marker) || env.includes(marker)) out.push({ pid: Number(name), cmd: cmd.replace(/\0/g, ' ').trim() });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Where a run's temp folder may be: the per-user base, or a mkdtemp fallback in the temp dir. */
export function runTempDirs(runId: string): string[] {
  const uid = process.geteuid?.() ?? 0;
  const found: string[] = [];
  const base = path.join(os.tmpdir(), `script-sandbox-${uid}`, runId);
  if (fs.existsSync(base)) found.push(base);
  for (const n of fs.readdirSync(os.tmpdir())) if (n.startsWith(`script-sandbox-${runId}-`)) found.push(path.join(os.tmpdir(), n));
  return found;
}

/** The run's cgroup directories, where this machine gives the host per-run cgroups. */
export function runCgroupDirs(runId: string): string[] {
  const support = detectCgroups();
  return Object.values(support.roots)
    .map((root) => path.join(root, runId))
    .filter((d) => fs.existsSync(d));
}

/** Every runId in an audit log (run_started records). */
export function auditRunIds(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const ids = new Set<string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /"type":"run_started".*?"runId":"([^"]+)"/.exec(line) ?? /"runId":"([^"]+)".*?"type":"run_started"/.exec(line);
    if (m) ids.add(m[1]!);
  }
  return [...ids];
}

/**
 * `script-sandbox audit verify FILE` through the real CLI (the audit module may move; its CLI stays), as the
 * writer: the chain is keyed with the key in the writer's HOME.
 */
export function auditVerify(file: string, home: string): { ok: boolean; output: string } {
  const r = spawnSync(process.execPath, [CLI, 'audit', 'verify', file], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, HOME: home } });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

/** Complete lines (ending in \n) of a text. */
export function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A trial's own folders: a workspace holding its scripts, a HOME, the audit log's path, a minimal environment. */
export interface TrialDirs {
  root: string;
  ws: string;
  home: string;
  audit: string;
  env: Record<string, string>;
}

export function trialDirs(prefix: string, scripts: Record<string, string>): TrialDirs {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const ws = path.join(root, 'ws');
  const home = path.join(root, 'home');
  fs.mkdirSync(ws);
  fs.mkdirSync(home);
  for (const [name, text] of Object.entries(scripts)) fs.writeFileSync(path.join(ws, name), text, { mode: 0o755 });
  return { root, ws, home, audit: path.join(ws, '.sandbox', 'audit.jsonl'), env: { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' } };
}

/**
 * A few seconds of output, files and violations (a blocked write every tenth line, each an audit record):
 * what a kill mid-run must not lose or leave behind. $1 is the trial's marker.
 */
export const BUSY_SCRIPT = `#!/bin/sh
i=0
while [ $i -lt 150 ]; do
  i=$((i+1))
  echo "line $i $1"
  echo $i >> out.txt
  [ $((i % 10)) -eq 0 ] && (echo x > "$HOME/.bashrc") 2>/dev/null
  sleep 0.03
done
`;

/** After a trial, passed or not: its hosts and every process that carries its marker killed, its folders removed. */
export function cleanUpTrial(marker: string, root: string, ...children: Array<{ kill(signal: NodeJS.Signals): unknown } | null | undefined>): void {
  for (const c of children) c?.kill('SIGKILL');
  for (const p of processesWith(marker)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
}
