// The namespace stage's probe verdict, kept for the CLI's next runs: the probe (unshare, perl, sh, two mounts)
// is five processes per cold run on the way to every result. Only a verdict of "available" is kept, keyed by
// the boot, the kernel release, the uid and the stage's command (not its host pid), in the user's state folder
// (0700, never granted to a script). What a stale or forged entry could claim is bounded: a launcher started
// through a stage that no longer works never sends 'ready' (the run fails, and the entry is dropped so the
// next run probes), and every mount the run needs is made by the launcher itself, which refuses the run when
// one fails (SETUP_FAILED); a private devpts that cannot be mounted falls back to exact-path grants.
// `script-sandbox check` always probes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultStateDir, ensureStateDir } from '../../audit/key';

const FILE = 'namespace-stage.json';

/** What the entry is valid for; a different value of any part is a miss. */
function cacheKey(prefix: string[]): string | null {
  let bootId: string;
  try {
    bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null; // no boot id: nothing says the entry is from this boot
  }
  // The stage's last argument is the host's pid (its parent check), different in every process.
  const command = crypto.createHash('sha256').update(prefix.slice(0, -1).join('\0')).digest('hex');
  return JSON.stringify([bootId, os.release(), process.getuid?.() ?? -1, command]);
}

/** The cached verdict for this stage command: { privateDevpts } when it is known to work on this boot, else null. */
export function readStageCache(prefix: string[], stateDir = defaultStateDir()): { privateDevpts: boolean } | null {
  const key = cacheKey(prefix);
  if (key === null) return null;
  try {
    const fd = fs.openSync(path.join(stateDir, FILE), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    let text: string;
    try {
      const st = fs.fstatSync(fd);
      // Only a file of ours that nobody else can write.
      if (!st.isFile() || st.uid !== (process.getuid?.() ?? st.uid) || st.mode & 0o022) return null;
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
    const entry = JSON.parse(text) as { key?: unknown; available?: unknown; privateDevpts?: unknown };
    if (entry.key !== key || entry.available !== true || typeof entry.privateDevpts !== 'boolean') return null;
    return { privateDevpts: entry.privateDevpts };
  } catch {
    return null;
  }
}

/** Keeps a verdict of "available" (written whole: a temporary file renamed over the entry). Best effort. */
export function writeStageCache(prefix: string[], privateDevpts: boolean, stateDir = defaultStateDir()): void {
  const key = cacheKey(prefix);
  if (key === null) return;
  const file = path.join(stateDir, FILE);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`;
  try {
    ensureStateDir(stateDir);
    fs.writeFileSync(tmp, JSON.stringify({ key, available: true, privateDevpts }) + '\n', { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // not made
    }
  }
}

/** Drops the entry (a launcher through the cached stage failed to start): the next run probes again. */
export function dropStageCache(stateDir = defaultStateDir()): void {
  try {
    fs.unlinkSync(path.join(stateDir, FILE));
  } catch {
    // none
  }
}
