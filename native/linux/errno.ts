// errno as a SandboxError: the failing call, the errno and its name, so callers branch on `errno` and users
// read the name.
import * as os from 'node:os';
import { SandboxError, type SandboxErrorCode } from '../../src/errors';

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(os.constants.errno).map(([name, value]) => [value as number, name]),
);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

export function sysError(call: string, errno: number, code: SandboxErrorCode = 'SETUP_FAILED', what?: string): SandboxError {
  return new SandboxError(code, `${what ?? call} failed: ${errnoName(errno)} (${errno})`, { call, errno });
}
