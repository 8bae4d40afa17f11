// The user's audit state folder, ~/.local/state/script-sandbox (0700): the key that seals the audit chain
// and the writers' locks. It lives outside every workspace and every sandbox's grants (it is in
// ALWAYS_PROTECTED as a secret), so a script can neither read the key nor hold a writer's lock.
//
// XDG_STATE_HOME is deliberately not honoured: the folder must be exactly the one the policy presets
// protect, and presets are data that resolve `~` only, without the environment. One fixed place keeps the
// key and its protection in step.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SandboxError } from '../errors';

export const AUDIT_KEY_BYTES = 32;
const KEY_FILE = 'audit.key';
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** ~/.local/state/script-sandbox for the current user (os.homedir(): $HOME, else the password entry). */
export function defaultStateDir(): string {
  return path.join(os.homedir(), '.local', 'state', 'script-sandbox');
}

export function auditKeyPath(stateDir: string): string {
  return path.join(stateDir, KEY_FILE);
}

/** The state folder, created 0700 when missing; refused when it is a link, not ours, or open to others. */
export function ensureStateDir(stateDir: string): string {
  try {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError(`mkdir ${stateDir}`, e);
  }
  const st = fs.lstatSync(stateDir);
  if (!st.isDirectory()) throw unsafe(stateDir, 'is not a directory (a symbolic link?)');
  checkOwner(stateDir, st);
  // Ours but readable by others (made by hand, or a umask): close it rather than refuse.
  if (st.mode & 0o077) fs.chmodSync(stateDir, 0o700);
  return stateDir;
}

/**
 * The audit key: read it, or create it once (32 random bytes, 0600). Creation writes a private temporary
 * file (O_EXCL) and links it into place, so two writers starting at once never see a half-written key and
 * exactly one key wins.
 */
export function loadOrCreateAuditKey(stateDir: string): Buffer {
  ensureStateDir(stateDir);
  const existing = readAuditKey(stateDir);
  if (existing) return existing;
  const file = auditKeyPath(stateDir);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`;
  try {
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
    try {
      fs.writeSync(fd, crypto.randomBytes(AUDIT_KEY_BYTES));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another writer's key won
    }
  } catch (e) {
    throw ioError(`create ${file}`, e);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const key = readAuditKey(stateDir);
  if (!key) throw new SandboxError('IO_FAILED', `audit key ${file} vanished right after it was created`);
  return key;
}

/** The key when it exists (never creates it: readers and verify use this); refused when unsafe. */
export function readAuditKey(stateDir: string): Buffer | null {
  const file = auditKeyPath(stateDir);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw unsafe(file, 'is a symbolic link');
    throw ioError(`open ${file}`, e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw unsafe(file, 'is not a regular file');
    checkOwner(file, st);
    // POSIX modes mean nothing on Windows (Node reports 0666 for every file; the profile folder's ACL is
    // what keeps the key private there): checked only where the process has a POSIX uid.
    if (typeof process.getuid === 'function' && st.mode & 0o077) throw unsafe(file, `has mode ${(st.mode & 0o777).toString(8)}; it must be 600`);
    if (st.size !== AUDIT_KEY_BYTES) throw new SandboxError('AUDIT_BROKEN', `audit key ${file} has ${st.size} bytes, not ${AUDIT_KEY_BYTES}`);
    const key = Buffer.alloc(AUDIT_KEY_BYTES);
    fs.readSync(fd, key, 0, AUDIT_KEY_BYTES, 0);
    return key;
  } finally {
    fs.closeSync(fd);
  }
}

/** Where writers of the log at `realFile` (its resolved path) take their lock. */
export function auditLockPath(stateDir: string, realFile: string): string {
  const dir = path.join(stateDir, 'locks');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return path.join(dir, `${crypto.createHash('sha256').update(realFile).digest('hex')}.lock`);
}

export function checkOwner(p: string, st: fs.Stats): void {
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw unsafe(p, `belongs to uid ${st.uid}, not to this user (uid ${uid})`);
}

export function unsafe(p: string, why: string): SandboxError {
  return new SandboxError('AUDIT_UNSAFE_PATH', `audit: ${p} ${why}; refusing to use it`);
}

export function ioError(what: string, e: unknown): SandboxError {
  if (e instanceof SandboxError) return e;
  const err = e as NodeJS.ErrnoException;
  return new SandboxError('IO_FAILED', `${what}: ${err.code ?? err.message}`, { call: what.split(' ')[0], errno: typeof err.errno === 'number' ? -err.errno : undefined });
}
