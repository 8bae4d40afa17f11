// The host's file confinement for one run (grants journaled, applied, undone) and the probe that says whether
// this machine actually enforces it: a process under the restricted token tries to write a file where
// nothing granted it; only when that write fails is file confinement reported as enforced. Wine accepts the
// token and the ACLs but enforces neither, and the probe shows it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SandboxError } from '../../src/errors';
import { replayJournals, writeJournal, type ReplayResult } from './acl-journal';
import type { Advapi32 } from './advapi32';
import { applyGrant, revokeSid, type FileGrant } from './file-grants';
import { handle, type Kernel32 } from './kernel32';
import { newRunSid } from './sid';
import { FILETIME } from './token-structs';
import koffi from 'koffi';

export interface Confinement {
  sid: string;
  grants: FileGrant[];
  /** Paths whose DACL was changed (the rest did not exist or had a NULL DACL). */
  applied: string[];
  /** Removes every ACE of the run's SID, then the journal. Throws with the paths it could not undo (the journal stays). */
  undo(): void;
}

/** This process's creation time in ms since 1970 (GetProcessTimes), or null. */
export function processStartMs(k: Kernel32, proc: bigint): number | null {
  const c = Buffer.alloc(koffi.sizeof(FILETIME));
  const x = Buffer.alloc(8);
  if (!k.GetProcessTimes(proc, c, x, Buffer.alloc(8), Buffer.alloc(8))) return null;
  const ticks = c.readBigUInt64LE(0);
  return Number(ticks / 10_000n) - 11_644_473_600_000;
}

const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;

/** Whether `pid` is still the process that started at `startMs` (a reused pid is a different process). */
export function hostAlive(k: Kernel32, pid: number, startMs: number): boolean {
  const h = handle(k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid));
  if (h === 0n) return false;
  try {
    const code = Buffer.alloc(4);
    if (k.GetExitCodeProcess(h, code) && code.readUInt32LE(0) !== 259) return false;
    const s = processStartMs(k, h);
    return s === null || Math.abs(s - startMs) < 2000;
  } finally {
    k.CloseHandle(h);
  }
}

export function beginConfinement(k: Kernel32, a: Advapi32, journalDir: string, runId: string, grants: FileGrant[]): Confinement {
  const sid = newRunSid();
  const me = handle(k.GetCurrentProcess());
  const journal = writeJournal(journalDir, { runId, sid, hostPid: process.pid, hostStartMs: processStartMs(k, me) ?? 0, paths: grants.map((g) => g.path) });
  const applied: string[] = [];
  const undo = () => {
    const failed: string[] = [];
    for (const p of [...grants.map((g) => g.path)].reverse()) {
      try {
        revokeSid(k, a, p, sid);
      } catch (e) {
        failed.push(`${p}: ${(e as Error).message}`);
      }
    }
    if (failed.length) throw new SandboxError('IO_FAILED', `could not undo the run's ACL grants (${failed.join('; ')}); the journal ${journal} is replayed at the next start`);
    fs.rmSync(journal, { force: true });
  };
  try {
    for (const g of grants) if (applyGrant(k, a, g, sid)) applied.push(g.path);
  } catch (e) {
    try {
      undo();
    } catch {
      // the journal stays for the next start
    }
    throw e;
  }
  return { sid, grants, applied, undo };
}

/** Replays journals of hosts that are gone (called when the host starts). */
export function replayAclJournal(k: Kernel32, a: Advapi32, journalDir: string): ReplayResult {
  return replayJournals(journalDir, { alive: (pid, start) => pid !== process.pid && hostAlive(k, pid, start), revoke: (p, sid) => revokeSid(k, a, p, sid) });
}

/** Where the journal lives: the user's local app data (never granted to a run). */
export function aclJournalDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local');
  return path.join(base, 'script-sandbox', 'acl-journal');
}
