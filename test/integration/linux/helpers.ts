// Shared helpers: run the real CLI (dist/cli.js) on real scripts and observe what happened.
import { spawn, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');
export const FIXTURES = path.join(REPO, 'test', 'integration', 'linux', 'fixtures');
export const IS_ROOT = process.getuid?.() === 0;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: Array<Record<string, unknown> & { type: string }>;
}

export interface Sandbox {
  root: string;
  workspace: string;
  home: string;
  outside: string;
  cleanup(): void;
}

/** A fresh workspace, a fake HOME with a planted secret, and a directory outside both. */
export function makeSandbox(): Sandbox {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-it-'));
  fs.chmodSync(root, 0o755);
  const workspace = path.join(root, 'ws');
  const home = path.join(root, 'home');
  const outside = path.join(root, 'outside');
  for (const d of [workspace, home, outside, path.join(home, '.ssh')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(home, '.ssh', 'id_rsa'), '-----BEGIN FAKE KEY-----\nsecret\n');
  fs.writeFileSync(path.join(outside, 'existing.txt'), 'original\n');
  return { root, workspace, home, outside, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export function writeScript(dir: string, name: string, body: string, mode = 0o755): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, body, { mode });
  return p;
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; home?: string; stdio3?: number; timeoutMs?: number } = {},
): Promise<CliResult> {
  const eventsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ss-ev-')), 'events.jsonl');
  const withEvents = args[0] === 'run' ? ['run', '--events', eventsFile, ...args.slice(1)] : args;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: opts.home ?? os.homedir(),
    LANG: 'C.UTF-8',
    // SCRIPT_SANDBOX_NAMESPACES=0 in the test's environment runs the suite in the fallback tier.
    ...(process.env.SCRIPT_SANDBOX_NAMESPACES !== undefined ? { SCRIPT_SANDBOX_NAMESPACES: process.env.SCRIPT_SANDBOX_NAMESPACES } : {}),
    ...opts.env,
  };
  const stdio: StdioOptions = opts.stdio3 !== undefined ? ['ignore', 'pipe', 'pipe', opts.stdio3] : ['ignore', 'pipe', 'pipe'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...withEvents], { cwd: opts.cwd ?? REPO, env, stdio });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 50000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const recorded = readEventsText(eventsFile);
      fs.rmSync(path.dirname(eventsFile), { recursive: true, force: true });
      resolve(cliResult({ code, signal, stdout, stderr }, recorded, eventsFile));
    });
  });
}

/** The text of an events file, or null when the run left none. */
function readEventsText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * A CLI result whose `events` are parsed when a test asks for them. A missing events file throws instead of
 * reading as an empty list: a run that started always records run_started, so a test expecting "no
 * violation" must not pass because recording broke. (Not enumerable: spreading a result does not ask.)
 */
export function cliResult(base: Omit<CliResult, 'events'>, recorded: string | null, file: string): CliResult {
  return Object.defineProperty(base, 'events', {
    enumerable: false,
    get() {
      if (recorded === null) throw new Error(`no events file ${file}: the command recorded nothing (exit ${base.code ?? base.signal}); stderr: ${base.stderr.slice(-600)}`);
      return recorded
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  }) as CliResult;
}

/**
 * `run` with /etc/hosts replaced by `hostsFile` (a private mount namespace; unprivileged through a user
 * namespace), for name-based network rules against loopback servers.
 */
export function runWithHosts(sb: Sandbox, hostsFile: string, flags: string[], command: string[]): Promise<CliResult> {
  const eventsFile = path.join(sb.root, `events-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
  // mount(8) refuses a non-zero uid even where the namespace would allow it: map ourselves to root there.
  const ns = IS_ROOT ? ['--mount'] : ['--map-root-user', '--mount'];
  const args = [...ns, '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, process.execPath, CLI, 'run', '--events', eventsFile, '--workspace', sb.workspace, ...flags, '--', ...command];
  return new Promise((resolve, reject) => {
    const c = spawn('unshare', args, { cwd: sb.workspace, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sb.home, LANG: 'C.UTF-8' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code, signal) => resolve(cliResult({ code, signal, stdout, stderr }, readEventsText(eventsFile), eventsFile)));
  });
}

/** `run` in a sandbox workspace with its fake HOME, as the tests mostly want it. */
/** `timeoutMs`: when the CLI is killed (SIGKILL), by default 50 s; a test that runs longer passes its own. */
export function runIn(sb: Sandbox, flags: string[], command: string[], extraEnv: Record<string, string> = {}, timeoutMs?: number): Promise<CliResult> {
  return runCli(['run', '--workspace', sb.workspace, ...flags, '--', ...command], {
    cwd: sb.workspace,
    home: sb.home,
    env: { OUTSIDE: sb.outside, ...extraEnv },
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
}

export function limitEvents(r: CliResult): string[] {
  return r.events.filter((e) => e.type === 'limit_exceeded').map((e) => String(e.limit));
}

export function finished(r: CliResult): Record<string, unknown> {
  const f = r.events.find((e) => e.type === 'run_finished');
  if (!f) throw new Error(`no run_finished event; stderr: ${r.stderr}`);
  return f;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/**
 * Host pids of live processes whose command line contains `token`. A pid a script reads inside the sandbox
 * is its PID namespace's number in the namespace tier, not the host's: tests that look for a script's
 * processes from outside give them a unique argument (e.g. `sleep 30.<random>`) and look for that.
 */
export function processesWith(token: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(token) && pidAlive(Number(name))) out.push(Number(name));
    } catch {
      // exited
    }
  }
  return out;
}

/** A unique `sleep` argument of about `seconds` (GNU sleep takes fractions). */
export function sleepToken(seconds: number): string {
  return `${seconds}.${String(Math.floor(Math.random() * 1e9)).padStart(9, '1')}`;
}

export const PYTHON = 'python3';
