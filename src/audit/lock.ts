// Taking the writers' lock without ever blocking the event loop.
import { SandboxError } from '../errors';
import type { FileLock } from '../../native/linux/file-lock';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls LOCK_EX|LOCK_NB with short, jittered, growing sleeps; AUDIT_LOCKED after timeoutMs. */
export async function withFileLock<T>(lock: FileLock, timeoutMs: number, busy: () => string, fn: () => T): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while (!lock.tryAcquire()) {
    if (Date.now() >= deadline) throw new SandboxError('AUDIT_LOCKED', busy());
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 8);
  }
  try {
    return fn();
  } finally {
    lock.release();
  }
}
