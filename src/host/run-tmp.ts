// The run's private temporary folder (its TMPDIR).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A private TMPDIR for the run. The per-user base is used only if it is a real directory owned by us with
 * mode 0700: /tmp is shared, and a base planted by someone else (or owned by the real root while we run as
 * mapped root in a user namespace) must never hold a run's files. Otherwise a fresh mkdtemp is used.
 */
export function makeRunTmp(runId: string): string {
  const uid = process.geteuid?.() ?? -1;
  const base = path.join(os.tmpdir(), `script-sandbox-${uid >= 0 ? uid : 'u'}`);
  try {
    fs.mkdirSync(base, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return fs.mkdtempSync(path.join(os.tmpdir(), `script-sandbox-${runId}-`));
  }
  const st = fs.lstatSync(base);
  if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) return fs.mkdtempSync(path.join(os.tmpdir(), `script-sandbox-${runId}-`));
  const dir = path.join(base, runId);
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
}
