// A host killed with SIGKILL (or by the OOM killer, or a power cut) cannot remove its runs' temp folders and
// cgroup directories; its reaper kills the processes but leaves the directories. So every run leaves an
// owner record naming its host process while it lives, and a host, when it starts, removes what records of
// dead hosts name. Only recorded runs are touched: a run of a live host, or one started by a version that
// wrote no record, is never removed.
// The records live in the per-user state folder (0700, a protected secret no sandbox can write), not in the
// temp base a script in moderate/permissive can write; and a record names only its run: what to remove is
// recomputed from the run id and this host's own roots, so a planted record cannot point the sweep (and its
// SIGKILLs) elsewhere.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processIdentity, processLiveness, type ProcessIdentity } from '../../../native/linux/file-lock';
import { defaultStateDir, ensureStateDir } from '../../audit/key';

interface OwnerRecord {
  owner: ProcessIdentity;
  runId: string;
}

/** The run ids the runner makes (run-handle.ts newRunId: base-36 time, '-', 8 hex digits); nothing else is swept. */
const RUN_ID = /^[a-z0-9]{1,16}-[0-9a-f]{8}$/;

/** The per-user base the runner keeps temp folders in, when it is ours and private (else null: no records). */
function privateBase(): string | null {
  const uid = process.geteuid?.() ?? -1;
  const base = path.join(os.tmpdir(), `script-sandbox-${uid >= 0 ? uid : 'u'}`);
  try {
    fs.mkdirSync(base, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  try {
    const st = fs.lstatSync(base);
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) return null;
  } catch {
    return null;
  }
  return base;
}

/** ~/.local/state/script-sandbox/runs, created 0700; throws when the state folder is unsafe. */
function ownersDir(): string {
  const dir = path.join(ensureStateDir(defaultStateDir()), 'runs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || (st.mode & 0o077) !== 0) throw new Error(`${dir} is not a private directory`);
  return dir;
}

/**
 * Records that this process owns the run (before its cgroup directories exist, so a kill in between still
 * leaves a record); returns the release to call once the run is cleaned up. Never throws: a run without a
 * record only loses the clean-up after a crash.
 */
export function claimRun(runId: string): () => void {
  try {
    if (!RUN_ID.test(runId)) return () => undefined;
    const file = path.join(ownersDir(), `${runId}.json`);
    const rec: OwnerRecord = { owner: processIdentity(), runId };
    fs.writeFileSync(file, JSON.stringify(rec), { mode: 0o600 });
    return () => fs.rmSync(file, { force: true });
  } catch {
    return () => undefined;
  }
}

/** The temp folders the runner may have made for a run: in the private base, or a mkdtemp fallback. */
function tempFoldersOf(base: string | null, runId: string): string[] {
  const out = base ? [path.join(base, runId)] : [];
  try {
    for (const n of fs.readdirSync(os.tmpdir())) if (n.startsWith(`script-sandbox-${runId}-`)) out.push(path.join(os.tmpdir(), n));
  } catch {
    // no temp dir listing: the base is enough
  }
  return out;
}

function removeCgroup(dir: string): boolean {
  for (let i = 0; i < 20; i++) {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
      // Busy: what the dead host's reaper has not killed yet dies now.
      try {
        for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone
          }
        }
      } catch {
        return false;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  return false;
}

/**
 * Removes temp folders and cgroups of runs whose host is dead; returns what it removed. Never throws.
 * `cgroupRoots`: this host's own cgroup roots (detectCgroups), under which a run's cgroup is `<root>/<runId>`.
 */
export function sweepStaleRuns(cgroupRoots: readonly string[]): string[] {
  const removed: string[] = [];
  try {
    const base = privateBase();
    const dir = ownersDir();
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      let rec: OwnerRecord;
      try {
        rec = JSON.parse(fs.readFileSync(file, 'utf8')) as OwnerRecord;
      } catch {
        continue; // being written, or not ours to judge
      }
      if (!rec?.owner || typeof rec.runId !== 'string' || !RUN_ID.test(rec.runId) || name !== `${rec.runId}.json`) continue;
      if (processLiveness(rec.owner) !== 'dead') continue;
      let all = true;
      // Recomputed from the validated run id and our own roots; the record names no path.
      for (const cg of cgroupRoots.map((r) => path.join(r, rec.runId))) {
        if (!fs.existsSync(cg)) continue;
        if (removeCgroup(cg)) removed.push(cg);
        else all = false;
      }
      for (const t of tempFoldersOf(base, rec.runId)) {
        if (!fs.existsSync(t)) continue;
        fs.rmSync(t, { recursive: true, force: true });
        removed.push(t);
      }
      if (all) fs.rmSync(file, { force: true });
    }
  } catch {
    // a sweep that fails leaves leftovers, never a host that cannot start
  }
  return removed;
}
