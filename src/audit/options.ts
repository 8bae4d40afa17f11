// What an AuditLog can be told at open, and the defaults.
import type { ProcessIdentity } from '../../native/linux/file-lock';

export const DEFAULT_AUDIT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_AUDIT_KEEP = 5;
export type FsyncPolicy = 'always' | 'lifecycle' | 'never';

export interface AuditLogOptions {
  /** Rotate when a line would take the file past this size. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept (audit.1.jsonl … audit.N.jsonl), at least 1. Default 5. */
  keep?: number;
  /** Regular expressions; matching text is masked in every field. */
  secretPatterns?: string[];
  /** Literal secret values masked in every field (see also addSecretValues). */
  secretValues?: string[];
  fsync?: FsyncPolicy;
  /** How long append waits for another writer's lock before failing with AUDIT_LOCKED. Default 10 s. */
  lockTimeoutMs?: number;
  /** Close runs of dead writers with run_aborted on open. Default true. */
  recover?: boolean;
  /**
   * The trusted folder the log's path is walked from without following links (the workspace). Folders of
   * the log below it that are links, not ours, or writable by others are refused (AUDIT_UNSAFE_PATH).
   * Without it (or for a log outside it) the log's own folder is the anchor.
   */
  workspace?: string;
  /** The user's audit state folder (key, locks). Default ~/.local/state/script-sandbox. */
  stateDir?: string;
  /** Clock for record times (tests). */
  now?: () => number;
  /** Tests only: write as this process identity (to simulate dead writers and reused pids). */
  writerIdentity?: ProcessIdentity;
}

