// The journal of a run's ACL changes: written (and flushed) before the first ACE is added, deleted once every
// ACE is removed. A host that starts replays what a crashed host left: for each journal whose owner is gone,
// it removes every ACE naming the run's SID from the listed paths, then deletes the journal. The run's SID
// is unique, so undoing never touches an ACE the user or another run added. No koffi: the ACL calls are
// injected, so the replay logic is unit-tested on Linux.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AclJournalEntry {
  runId: string;
  sid: string;
  /** The host that made the changes, and when it started (pid reuse). */
  hostPid: number;
  hostStartMs: number;
  paths: string[];
}

const SUFFIX = '.acl.json';

export function journalFile(dir: string, runId: string): string {
  return path.join(dir, `${runId.replace(/[^A-Za-z0-9_.-]/g, '_')}${SUFFIX}`);
}

/** Writes the entry durably (write, fsync, rename) before any ACL change. */
export function writeJournal(dir: string, e: AclJournalEntry): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = journalFile(dir, e.runId);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(e));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}

export function readJournals(dir: string): Array<{ file: string; entry: AclJournalEntry | null }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(SUFFIX))
    .map((n) => {
      const file = path.join(dir, n);
      try {
        const e = JSON.parse(fs.readFileSync(file, 'utf8')) as AclJournalEntry;
        return { file, entry: typeof e.sid === 'string' && Array.isArray(e.paths) ? e : null };
      } catch {
        return { file, entry: null };
      }
    });
}

export interface ReplayDeps {
  /** Whether the host that wrote the entry still runs (same pid, same start). */
  alive(pid: number, startMs: number): boolean;
  /** Removes every ACE naming sid from path; true when something was removed. */
  revoke(p: string, sid: string): boolean;
}

export interface ReplayResult {
  undone: Array<{ runId: string; sid: string; paths: string[] }>;
  skippedLive: string[];
  failed: Array<{ runId: string; path: string; error: string }>;
}

/** Undoes every journal whose host is gone; a journal stays when a path could not be undone (next start retries). */
export function replayJournals(dir: string, deps: ReplayDeps): ReplayResult {
  const res: ReplayResult = { undone: [], skippedLive: [], failed: [] };
  for (const { file, entry } of readJournals(dir)) {
    if (!entry) {
      fs.rmSync(file, { force: true }); // unreadable: written half before any ACL change (rename is atomic)
      continue;
    }
    if (deps.alive(entry.hostPid, entry.hostStartMs)) {
      res.skippedLive.push(entry.runId);
      continue;
    }
    const removedFrom: string[] = [];
    let ok = true;
    for (const p of entry.paths) {
      try {
        if (deps.revoke(p, entry.sid)) removedFrom.push(p);
      } catch (e) {
        ok = false;
        res.failed.push({ runId: entry.runId, path: p, error: (e as Error).message });
      }
    }
    if (ok) fs.rmSync(file, { force: true });
    res.undone.push({ runId: entry.runId, sid: entry.sid, paths: removedFrom });
  }
  return res;
}
