// Discretionary access control as the kernel applies it to a caller without capabilities. The fallback
// tier's supervisor performs calls for the script; when the host runs as root it has every capability and
// the script none, so before performing, the supervisor asks these rules what the script itself would get.
import * as fs from 'node:fs';

/** The script's filesystem credentials (fsuid, fsgid, supplementary groups). */
export interface Creds {
  uid: number;
  gid: number;
  groups: number[];
}

/** What the rules need of an inode (a subset of fs.Stats). */
export interface Inode {
  mode: number;
  uid: number;
  gid: number;
}

export const MAY_READ = 4;
export const MAY_WRITE = 2;
export const MAY_EXEC = 1;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

/** Parses /proc/<pid>/status: the fsuid is the 4th `Uid:` field, the fsgid the 4th `Gid:` field. */
export function parseCreds(status: string): Creds | null {
  const ids = (key: string): number[] | null => {
    const m = new RegExp(`^${key}:(.*)$`, 'm').exec(status);
    return m ? m[1]!.trim().split(/\s+/).filter(Boolean).map(Number) : null;
  };
  const uids = ids('Uid');
  const gids = ids('Gid');
  const groups = ids('Groups') ?? [];
  if (!uids || !gids || uids.length < 4 || gids.length < 4) return null;
  if ([uids[3]!, gids[3]!, ...groups].some((n) => !Number.isInteger(n) || n < 0)) return null;
  return { uid: uids[3]!, gid: gids[3]!, groups };
}

/** The credentials of process `pid`; null when unreadable (callers refuse then). */
export function credsOf(pid: number): Creds | null {
  try {
    return parseCreds(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/** generic_permission without capabilities: the owner, group or other bits, whichever class applies. */
export function mayAccess(st: Inode, c: Creds, want: number): boolean {
  let bits: number;
  if (st.uid === c.uid) bits = (st.mode >> 6) & 7;
  else if (st.gid === c.gid || c.groups.includes(st.gid)) bits = (st.mode >> 3) & 7;
  else bits = st.mode & 7;
  return (bits & want) === want;
}

/** fs.protected_hardlinks for a caller without CAP_FOWNER (may_linkat / safe_hardlink_source). */
export function mayHardlink(st: Inode, c: Creds): boolean {
  if (st.uid === c.uid) return true;
  if ((st.mode & S_IFMT) !== S_IFREG) return false;
  if ((st.mode & S_ISUID) !== 0) return false;
  if ((st.mode & (S_ISGID | 0o010)) === (S_ISGID | 0o010)) return false;
  return mayAccess(st, c, MAY_READ | MAY_WRITE);
}

/** Creating or removing a name in `dir`: write and search on it. */
export function mayChangeDir(dir: Inode, c: Creds): boolean {
  return mayAccess(dir, c, MAY_WRITE | MAY_EXEC);
}

/** Removing (or renaming away, or replacing) `entry` in `dir`: the directory rule plus the sticky-bit rule. */
export function mayRemove(dir: Inode, entry: Inode, c: Creds): boolean {
  if (!mayChangeDir(dir, c)) return false;
  if ((dir.mode & S_ISVTX) === 0) return true;
  return entry.uid === c.uid || dir.uid === c.uid;
}

/** The access an open(2) asks for: read, write, or both (O_TRUNC needs write). */
export function openWants(flags: number): number {
  const acc = flags & 3;
  let want = acc === 0 ? MAY_READ : acc === 1 ? MAY_WRITE : MAY_READ | MAY_WRITE;
  if ((flags & 0o1000) !== 0) want |= MAY_WRITE;
  return want;
}

/** The umask of process `pid`, for what the supervisor creates for it; unknown: the most private. */
export function umaskOf(pid: number): number {
  try {
    const m = /^Umask:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return parseInt(m[1]!, 8);
  } catch {
    /* below */
  }
  return 0o077;
}

/** lstat of `name` in the directory open as `dirFd` (this process's fd); null when it does not exist. */
export function statAt(dirFd: number, name: string): Inode | null {
  try {
    return fs.lstatSync(`/proc/self/fd/${dirFd}/${name}`);
  } catch {
    return null;
  }
}
