// Builds fixtures/apply-child.ts into a world-readable temp dir (so the same tests also run as an
// unprivileged user) and runs it as a real child process.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LandlockAccess, LinuxPlan } from '../../../../src/protocol/plan';
import type { SandboxErrorData } from '../../../../src/errors';
import { LANDLOCK_ACCESS } from '../../../../src/policy/fs-access';

/** The repository root, found from the working directory (mocha runs there) or from this file's location. */
export function repoRoot(): string {
  for (const start of [process.cwd(), __dirname]) {
    for (let d = path.resolve(start); ; d = path.dirname(d)) {
      if (fs.existsSync(path.join(d, 'native/linux/apply.ts')) && fs.existsSync(path.join(d, 'node_modules/koffi'))) return d;
      if (path.dirname(d) === d) break;
    }
  }
  throw new Error('cannot find the repository root (run mocha from the repository)');
}

export interface Harness {
  dir: string;
  script: string;
  nodePath: string;
}

export function buildHarness(): Harness {
  const root = repoRoot();
  const dir = fs.mkdtempSync('/tmp/sbx-native-harness-');
  fs.chmodSync(dir, 0o755);
  const script = path.join(dir, 'apply-child.js');
  execFileSync(path.join(root, 'node_modules/.bin/esbuild'), [
    path.join(root, 'test/integration/linux/native/fixtures/apply-child.ts'),
    '--bundle',
    '--platform=node',
    '--format=cjs',
    '--external:koffi',
    `--outfile=${script}`,
    '--log-level=warning',
  ]);
  fs.chmodSync(script, 0o644);
  return { dir, script, nodePath: path.join(root, 'node_modules') };
}

/**
 * For the enclosing describe: the harness, built before its tests, and `cleanup`, folders removed after them
 * (the harness's own and what the tests add). `h` reads the built harness when a test uses it.
 */
export function useHarness(): { h: Harness; cleanup: string[] } {
  let built: Harness | null = null;
  const cleanup: string[] = [];
  before(() => {
    built = buildHarness();
    cleanup.push(built.dir);
  });
  after(() => {
    for (const d of cleanup.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const now = (): Harness => {
    if (!built) throw new Error('useHarness: the harness exists only while the describe runs');
    return built;
  };
  const h: Harness = {
    get dir() {
      return now().dir;
    },
    get script() {
      return now().script;
    },
    get nodePath() {
      return now().nodePath;
    },
  };
  return { h, cleanup };
}

export interface HarnessInput {
  plan: LinuxPlan;
  extraFd?: boolean;
  blockSignals?: number[];
  noHooks?: boolean;
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The harness's "HARNESS {…}" line. */
  info: { pid: number; sigIgn: string; extraFd?: number; extraFdFlags?: number; sigBlk?: string };
  listenerFd: number | null;
  landlock: unknown;
  sandboxError: SandboxErrorData | null;
}

export function runHarness(h: Harness, input: HarnessInput): RunResult {
  const r = spawnSync(process.execPath, [h.script, JSON.stringify(input)], {
    env: { NODE_PATH: h.nodePath, PATH: '/usr/bin:/bin' },
    encoding: 'utf8',
    timeout: 20000,
  });
  if (r.error) throw r.error;
  const line = (prefix: string) => r.stderr.split('\n').find((l) => l.startsWith(prefix + ' '))?.slice(prefix.length + 1);
  let sandboxError: SandboxErrorData | null = null;
  const first = r.stdout.split('\n')[0];
  if (r.status === 125 && first.startsWith('{')) sandboxError = (JSON.parse(first) as { sandboxError: SandboxErrorData }).sandboxError;
  if (r.status === 126) throw new Error(`harness crashed: ${r.stdout}\n${r.stderr}`);
  const info = line('HARNESS');
  const listener = line('LISTENER');
  const landlock = line('LANDLOCK');
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    info: info ? JSON.parse(info) : { pid: 0, sigIgn: '' },
    listenerFd: listener ? Number(listener) : null,
    landlock: landlock ? JSON.parse(landlock) : null,
    sandboxError,
  };
}

export const READ: LandlockAccess[] = ['execute', 'read_file', 'read_dir'];
export const ALL: LandlockAccess[] = [...LANDLOCK_ACCESS];

/** A plan running `sh -c script`, nothing restricted unless overridden. */
export function shPlan(script: string, over: Partial<LinuxPlan> = {}): LinuxPlan {
  return {
    platform: 'linux',
    runId: 'native-test',
    file: '/bin/sh',
    argv: ['sh', '-c', script],
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
    cwd: '/',
    rlimits: [],
    noNewPrivs: false,
    landlock: null,
    seccomp: null,
    requireLandlock: false,
    namespaces: null,
    ...over,
  };
}

/** A fresh temp dir under /tmp that every user can enter and list. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(`/tmp/${prefix}-`);
  fs.chmodSync(d, 0o755);
  return d;
}

/** A field of /proc/<pid>/status as the exec'd program printed it. */
export function statusField(text: string, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
}
