// Typed failures. Every error that crosses a module boundary is a SandboxError with a stable code, so the
// CLI, the extension and the audit log can react to the kind of failure rather than to message text.
import { z } from 'zod';
/** Stable codes: the CLI, the extension and the audit log react to these, never to message text. */
export const SANDBOX_ERROR_CODES = [
  'POLICY_INVALID', // a policy layer failed validation
  'POLICY_LOOSENING', // a workspace layer tried to widen the user's policy
  'PROFILE_UNKNOWN',
  'MECHANISM_UNAVAILABLE', // enforce asked for something this kernel cannot do
  'PLATFORM_UNSUPPORTED',
  'SETUP_FAILED', // a syscall before exec failed
  'EXEC_FAILED',
  'SCRIPT_NOT_FOUND',
  'SCRIPT_NOT_EXECUTABLE',
  'LAUNCHER_CRASHED',
  'PROTOCOL_INVALID',
  'IO_FAILED',
  'GIT_REF_UNKNOWN', // the ref is no tag, branch or commit of the repository
  'GIT_UNREACHABLE',
  'GIT_AUTH_REQUIRED', // the repository asks for credentials; prompts are disabled in the sandbox
  'GIT_FETCH_FAILED',
  'GIT_FETCH_CANCELLED', // the user cancelled a git-script fetch; the cache is left as before it
  'GIT_SCRIPT_MISSING',
  'GIT_SCRIPT_NOT_EXECUTABLE',
  'GIT_FETCH_UNKNOWN', // a run or approval names a git-script fetch this host does not hold (fetch again)
  'GIT_NOT_APPROVED', // a git-script run for a commit the user has not approved
  'GIT_SCRIPT_UNKNOWN', // git-run --name names no git-script of the workspace file
  'AUDIT_BROKEN', // the audit chain's tail cannot be read or a line could not be written whole
  'AUDIT_LOCKED', // another writer held the audit lock past the timeout
  'AUDIT_UNSAFE_PATH', // the audit log's folder or file is a symbolic link, not ours, or writable by others
] as const;
export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];

/**
 * A SandboxError as data: what crosses a process boundary (launcher → host → extension, the CLI's report, the
 * audit log's setupError). Declared once, here beside the class that produces it; src/protocol embeds it.
 */
export const SandboxErrorData = z.object({
  code: z.enum(SANDBOX_ERROR_CODES),
  message: z.string(),
  /** The failing call, e.g. "landlock_restrict_self". */
  call: z.string().optional(),
  errno: z.number().optional(),
});
export type SandboxErrorData = z.infer<typeof SandboxErrorData>;

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  readonly call?: string;
  readonly errno?: number;
  constructor(code: SandboxErrorCode, message: string, opts: { call?: string; errno?: number } = {}) {
    super(message);
    this.name = 'SandboxError';
    this.code = code;
    this.call = opts.call;
    this.errno = opts.errno;
  }
  toData(): SandboxErrorData {
    return { code: this.code, message: this.message, call: this.call, errno: this.errno };
  }
}
