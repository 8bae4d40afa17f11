// Opening the audit log's folder and file without following symbolic links.
//
// The log usually lives in the workspace (`.sandbox/audit.jsonl`), where a script may plant a link before
// the host opens it. The walk starts at a trusted root (the workspace, opened as the user named it) and
// opens every component below it with O_NOFOLLOW|O_DIRECTORY relative to the previous one, creating
// missing folders 0700; each must belong to this user and not be writable by group or others. The file is
// opened O_NOFOLLOW too, must be a regular file of ours with one link and not writable by others.
//
// "Relative to the previous one" without openat(2) in Node: `/proc/self/fd/<fd>/<name>` reaches <name> in
// the folder the fd holds, whatever happened to the folder's path since (the magic link is the open
// folder, not a name lookup); O_NOFOLLOW then applies to <name>. The writer keeps the folder's fd and
// reaches every file (log, rotated files) through it. Where /proc does not offer that (not Linux), the walk
// falls back to path names checked with the same rules, which leaves a race between check and use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOwner, ioError, unsafe } from './key';

const { O_RDONLY, O_RDWR, O_APPEND, O_CREAT } = fs.constants;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const O_DIRECTORY = fs.constants.O_DIRECTORY ?? 0;

export interface LogDir {
  /** The log's path as given (resolved), for messages. */
  readonly file: string;
  /** The log's file name. */
  readonly base: string;
  /** The folder's real path (names the writers' lock). */
  readonly realDir: string;
  /** A path reaching `name` inside the opened folder through its fd (or by name in the fallback). */
  at(name: string): string;
  close(): void;
}

/**
 * Opens the folder of `file`. Components below `root` (when `file` lies under it) are opened one by one
 * without following links; without a root, or for a file outside it, the file's own folder is the anchor
 * (a path the user chose outside the workspace) and only the file itself is opened without following.
 */
export function openLogDir(file: string, root?: string): LogDir {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  let anchor = dir;
  let comps: string[] = [];
  if (root) {
    const r = path.resolve(root);
    const rel = path.relative(r, dir);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
      anchor = r;
      comps = rel ? rel.split(path.sep) : [];
    }
  }
  if (!comps.length) makeDirs(anchor);
  let fd = openDir(anchor, anchor, false);
  const viaFd = procFdWorks(fd);
  let shown = anchor;
  try {
    for (const c of comps) {
      shown = path.join(shown, c);
      const p = viaFd ? `/proc/self/fd/${fd}/${c}` : shown;
      let child: number;
      try {
        child = openDir(p, shown, true);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        try {
          fs.mkdirSync(p, { mode: 0o700 });
        } catch (m) {
          if ((m as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(`mkdir ${shown}`, m);
        }
        child = openDir(p, shown, true);
      }
      fs.closeSync(fd);
      fd = child;
    }
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  const held = fd;
  let realDir: string;
  try {
    realDir = viaFd ? fs.readlinkSync(`/proc/self/fd/${held}`) : fs.realpathSync(shown);
  } catch (e) {
    fs.closeSync(held);
    throw ioError(`resolve ${shown}`, e);
  }
  let open = true;
  return {
    file: abs,
    base: path.basename(abs),
    realDir,
    at: (name) => (viaFd ? `/proc/self/fd/${held}/${name}` : path.join(shown, name)),
    close() {
      if (open) fs.closeSync(held);
      open = false;
    },
  };
}

/**
 * `mkdir -p` one component at a time, stopping at the first error. Not `fs.mkdirSync(…, { recursive: true })`:
 * under /proc it never returns (mkdir /proc/nope/x is ENOENT, and Node keeps retrying the parent, whose mkdir
 * is ENOENT too), so `--audit /proc/nope/a.jsonl` hung the CLI before the run.
 */
function makeDirs(dir: string): void {
  const parts = dir.split(path.sep).filter(Boolean);
  let p = path.parse(dir).root;
  for (const part of parts) {
    p = path.join(p, part);
    try {
      if (fs.statSync(p).isDirectory()) continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`mkdir ${p}`, e);
    }
    try {
      fs.mkdirSync(p, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(`mkdir ${p}`, e);
    }
  }
}

/** Opens (creating, 0600) the log file `name` in dir for appending, refusing links and foreign files. */
export function openLogFile(dir: LogDir, name: string): number {
  const shown = path.join(path.dirname(dir.file), name);
  let fd: number;
  try {
    fd = fs.openSync(dir.at(name), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw unsafe(shown, 'is a symbolic link');
    throw ioError(`open ${shown}`, e);
  }
  try {
    checkFile(fd, shown);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

/** Reads a whole file of the chain (a rotated file) through dir without following a link. */
export function readNoFollow(dir: LogDir, name: string): Buffer {
  const fd = fs.openSync(dir.at(name), O_RDONLY | O_NOFOLLOW);
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function openNoFollow(dir: LogDir, name: string): number {
  return fs.openSync(dir.at(name), O_RDONLY | O_NOFOLLOW);
}

/** POSIX modes exist where the process has a POSIX uid; on Windows Node reports 0666 whatever the ACL says. */
const POSIX_MODES = typeof process.getuid === 'function';

function checkFile(fd: number, shown: string): void {
  const st = fs.fstatSync(fd);
  if (!st.isFile()) throw unsafe(shown, 'is not a regular file');
  checkOwner(shown, st);
  if (POSIX_MODES && st.mode & 0o022) throw unsafe(shown, `is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`);
  if (st.nlink > 1) throw unsafe(shown, `has ${st.nlink} hard links; the audit log must have one`);
}

function openDir(p: string, shown: string, below: boolean): number {
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDONLY | O_DIRECTORY | (below ? O_NOFOLLOW : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && below) throw e;
    if (below && (code === 'ELOOP' || code === 'ENOTDIR')) {
      let target = '';
      try {
        target = fs.readlinkSync(p);
      } catch {
        throw unsafe(shown, 'is not a directory');
      }
      throw unsafe(shown, `is a symbolic link (to ${target}), not a directory; remove it`);
    }
    throw ioError(`open ${shown}`, e);
  }
  if (below) {
    try {
      const st = fs.fstatSync(fd);
      checkOwner(shown, st);
      if (POSIX_MODES && st.mode & 0o022) throw unsafe(shown, `is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod go-w it`);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }
  return fd;
}

function procFdWorks(fd: number): boolean {
  try {
    const a = fs.statSync(`/proc/self/fd/${fd}`);
    const b = fs.fstatSync(fd);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
