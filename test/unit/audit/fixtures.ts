// Shared fixtures of the audit tests: a resolved policy, violations, temp dirs, raw line access.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditLog } from '../../../src/audit';
import type { AuditRecordInput } from '../../../src/protocol/audit';
import type { ResolvedPolicy } from '../../../src/policy/schema';
import type { Violation } from '../../../src/policy/violation';

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-audit-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function policy(overrides: Partial<ResolvedPolicy> = {}): ResolvedPolicy {
  return {
    mode: 'enforce',
    profile: 'moderate',
    workspace: '/work/ws',
    home: '/home/u',
    filesystem: { readOnly: false, reportReads: false, readEverywhere: true, writeOutsideSystem: false, allowRead: [], denyRead: [], allowWrite: ['/work/ws/**'], denyWrite: [], protected: ['/home/u/.ssh'], unprotect: [] },
    limits: { cpuSeconds: 10, memoryMiB: 512, maxProcesses: 64, fileSizeMiB: 100, openFiles: 256, timeoutSeconds: 60 },
    env: { allow: ['PATH', 'HOME', 'API_KEY'], set: {}, secretPatterns: ['ghp_[A-Za-z0-9]{20,}'] },
    network: { preset: 'default', allowHosts: [], denyHosts: [], allowAddresses: [], blockedPorts: [22, 3389], allowUnixSockets: [] },
    syscalls: { allowPtrace: false, extraDeny: [] },
    ...overrides,
  };
}

let counter = 0;
export function violation(over: Partial<Violation> = {}): Violation {
  counter++;
  return {
    runId: 'run-1',
    time: new Date(Date.UTC(2025, 0, 1, 12, 0, 0, counter % 1000)).toISOString(),
    kind: 'file',
    action: 'blocked',
    severity: 'error',
    path: `/etc/file-${counter}`,
    rule: 'system-path',
    message: `Blocked write to /etc/file-${counter}`,
    ...over,
  };
}

/** The file's lines (without the final empty piece). */
export function lines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const parts = text.split('\n');
  parts.pop();
  return parts;
}

export function writeLines(file: string, ls: string[]): void {
  fs.writeFileSync(file, ls.map((l) => `${l}\n`).join(''));
}

/**
 * Points HOME at a fresh folder for the enclosing describe block, so the audit key and locks
 * (~/.local/state/script-sandbox) are the test's own and the real home is left alone.
 */
export function useTempHome(): { home: string } {
  const state = { home: '' };
  let saved: string | undefined;
  before(() => {
    saved = process.env.HOME;
    state.home = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-audit-home-'));
    process.env.HOME = state.home;
  });
  after(() => {
    if (saved === undefined) delete process.env.HOME;
    else process.env.HOME = saved;
    fs.rmSync(state.home, { recursive: true, force: true });
  });
  return state;
}

export const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export function runStarted(runId: string, over: Partial<Extract<AuditRecordInput, { type: 'run_started' }>> = {}): AuditRecordInput {
  const p = policy();
  return {
    type: 'run_started',
    runId,
    command: ['python3', 'script.py'],
    cwd: '/work/ws',
    workspace: p.workspace,
    mode: p.mode,
    profile: p.profile,
    policyDigest: sha(JSON.stringify(p)),
    policy: p,
    platform: { os: 'linux', arch: 'x64', release: '6.1' },
    ...over,
  };
}

export function finished(runId: string): AuditRecordInput {
  return { type: 'run_finished', runId, exitCode: 0, signal: null, durationMs: 12, cpuUserMs: 1, cpuSystemMs: 1, maxRssKiB: 2048, violations: {} };
}

export async function fill(log: AuditLog, n: number, runId = 'run-1'): Promise<void> {
  for (let i = 0; i < n; i++) await log.append({ type: 'violation', runId, violation: violation({ runId }) });
}

/** For each test of the enclosing describe: a fresh temp folder and the path of an audit file in it (`rel`; not made). */
export function useTempAuditFile(rel = 'audit.jsonl'): { readonly dir: string; readonly file: string } {
  let t: ReturnType<typeof tempDir> | null = null;
  beforeEach(() => (t = tempDir()));
  afterEach(() => {
    t?.cleanup();
    t = null;
  });
  const dir = (): string => {
    if (!t) throw new Error('useTempAuditFile: the folder exists only while a test runs');
    return t.dir;
  };
  return {
    get dir() {
      return dir();
    },
    get file() {
      return path.join(dir(), rel);
    },
  };
}
