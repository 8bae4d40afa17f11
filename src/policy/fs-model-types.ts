// The vocabulary of the filesystem model (see fs-model.ts): the model's shapes, the injected file-system
// reads, and the Landlock rights and device nodes every model grants.
import type { LandlockAccess } from './fs-access';

export type FsTier = 'namespaces' | 'fallback';

export const READ_RIGHTS: LandlockAccess[] = ['execute', 'read_file', 'read_dir'];
export const WRITE_RIGHTS: LandlockAccess[] = [
  'write_file',
  'remove_dir',
  'remove_file',
  'make_dir',
  'make_reg',
  'make_sock',
  'make_fifo',
  'make_sym',
  'refer',
  'truncate',
];
export const RW_RIGHTS: LandlockAccess[] = [...READ_RIGHTS, ...WRITE_RIGHTS];

/** Device nodes a script needs; /dev as a whole is never granted (raw disks would bypass every path rule). */
export const DEV_READ_WRITE: readonly string[] = ['/dev/null', '/dev/zero', '/dev/full', '/dev/tty'];
// /dev/fd and /dev/std* are links into /proc/self/fd (covered by /proc); a rule on them would land on
// whatever the launcher's fds are (pipes), which Landlock rejects with EBADFD.
export const DEV_READ_ONLY: readonly string[] = ['/dev/random', '/dev/urandom'];
/** Always readable: kernel interfaces the runtime of nearly every language reads. Writes stay denied. */
export const KERNEL_READ: readonly string[] = ['/proc', '/sys'];

/** Rights on paths, minus the carve-outs (`except`) and everything below them. */
export interface Grant {
  access: LandlockAccess[];
  paths: string[];
  except: string[];
  /**
   * Directories (each on the way to one of `except`) whose entries that are not directories get no Landlock
   * rule of their own: a deny glob's carved folders (`data` for `data/*.key`). A rule on a file follows its
   * inode through a rename made outside the run (`data/draft.txt` moved to `data/new.key`), so every file
   * there is opened by the supervisor, which decides on the name it has now. Subdirectories keep theirs.
   */
  noFileRules?: string[];
  /**
   * Of noFileRules: per directory, the rights that the rule on each of its subdirectories lacks (the rights
   * its deny globs deny: a denyRead glob's, every right; a denyWrite glob's, the write rights). Such a rule
   * follows the folder's inode through a rename outside the run onto the glob (`data/sub` moved to
   * `data/x.key`), so below it those rights go through the supervisor, which decides on the name it has now.
   */
  entryDirsWithout?: Record<string, LandlockAccess[]>;
}

/** The file-system reads the model needs, injected so the logic stays pure and testable. */
export interface FsModelFs {
  /** UTF-8 contents of a regular file, or null (missing, unreadable, not a file). */
  readFile(p: string): string | null;
  /** What is at `p` (following symlinks, as git does), or null when nothing is. */
  kind(p: string): 'file' | 'dir' | 'other' | null;
  /** Names in a directory, or null when it cannot be listed. */
  readdir(dir: string): string[] | null;
}

/** A file system where nothing exists: the model from the policy alone. */
export const NO_FS: FsModelFs = { readFile: () => null, kind: () => null, readdir: () => null };

/** A protected path with its rights. */
export interface ProtectedPath {
  /** Absolute. */
  abs: string;
  /** As written in ALWAYS_PROTECTED (`~/.ssh`, `.git`), or the absolute path. */
  display: string;
  /** Whether the profile may grant reading / writing it at all (an allow entry naming it still unlocks it). */
  read: boolean;
  write: boolean;
  reason: string;
  /** Absolute paths inside it that stay writable (`<gitdir>/objects`, `refs`, `logs`); they may not exist. */
  writableInside: string[];
  /** The sandbox's own records (the audit folder, the state folder with the audit key and locks): hidden
   *  from the script in every mode, warn included. */
  ownRecord?: boolean;
}

/** A protected path inside a writable root: a read-only mount in the namespace tier. */
export interface ProtectedInWritable {
  /** Absolute; may not exist (then there is nothing to mount, and creating it is what is blocked). */
  path: string;
  reason: string;
  /** Absolute paths inside `path` mounted read-write again (git's objects/refs/logs, allowWrite entries
   *  that name something inside it). They may not exist. */
  writableInside: string[];
}

/** A path inside a writable root that the script may neither read nor write. */
export interface HiddenPath {
  path: string;
  reason: string;
}

export interface FsModel {
  tier: FsTier;
  /** Every protected path, with what the workspace's git metadata adds (gitdir of a .git file, its common
   *  dir, core.hooksPath) and the audit folder; without what the user unprotected. */
  protected: ProtectedPath[];
  /** Where writes may happen at all (before carve-outs): the workspace, allowWrite prefixes, `/` when the
   *  profile writes outside system paths, the shared temp dirs. */
  writableRoots: string[];
  /** Write-protected (readable) paths inside writable roots, sorted by path (a parent before what is inside
   *  it; apply each entry, then its writableInside, in this order). Disjoint from `hidden`. */
  protectedInWritable: ProtectedInWritable[];
  /** Unreadable, unwritable paths inside writable roots (secrets, denyRead, the audit folder), sorted. */
  hidden: HiddenPath[];
  /** Globs the kernel could not follow exactly (too many entries to list): what was done instead. */
  notes: string[];
  /** Landlock grants. In the fallback tier protectedInWritable and hidden are carve-outs here; in the
   *  namespace tier they are left to the mounts (carving a path out of a writable directory also takes the
   *  right to create entries next to it). */
  grants: Grant[];
  /** Warn mode: the model the kernel applies, the integrity set (integrity-model.ts); this one says what
   *  enforce would do. Absent in enforce, where the kernel applies this model itself. */
  kernel?: FsModel;
}

export interface FsModelRequest {
  /** The run's private temp dir, always writable. */
  tmpDir: string;
  /** Extra read+execute roots for the interpreter (e.g. ~/.pyenv). */
  toolRoots: string[];
  /** The program path (its folder is readable in strict). */
  file: string;
  tier: FsTier;
  /** The audit log's folder when it is somewhere else than the workspace's `.sandbox`: hidden too. */
  auditDir?: string;
  /** The run's own terminal (a pty slave the host made, or the CLI caller's tty): see terminalGrants. */
  ttyPath?: string;
  /** $XDG_CONFIG_HOME of the user whose git runs later (where git finds its global config); absent: ~/.config. */
  xdgConfigHome?: string;
}
