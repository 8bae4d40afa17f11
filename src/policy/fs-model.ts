// The one filesystem model of a run: from the resolved policy (and a few reads of the workspace's git
// metadata) to what the kernel grants (Landlock grants with carve-outs), what is protected inside writable
// roots (read-only mounts in the namespace tier) and what is hidden there. The Linux compile step turns the
// grants into Landlock rules, the namespace stage turns protectedInWritable/hidden into mounts, and the
// evaluator (decidePath, explain, the supervisor's diagnostics) reads the same protected set, so an
// explanation names the rule the kernel applies.
//
// Globs become kernel paths through their literal prefix (`/ws/secrets/**` → `/ws/secrets`), computed on
// the escaped pattern: a workspace named `proj (copy)` or `{a,b}` was escaped by resolve, so its characters
// are literal here. Landlock knows no wildcards: a deny glob blocks all of its prefix, an allow glob grants
// all of its prefix, and the evaluator says so.
import * as path from 'node:path';
import type { LandlockAccess } from './fs-access';
import type { ResolvedPolicy } from './schema';
import { ALWAYS_PROTECTED, SHARED_TEMP_PATHS, SYSTEM_PATHS, sharedTempWritable } from './presets';
import { minimatch } from 'minimatch';
import { expandEntry, globCovers, globNames, globStaticPrefix, hasMagic, isUnder, normalizeAbs } from './paths';

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
const RW_RIGHTS: LandlockAccess[] = [...READ_RIGHTS, ...WRITE_RIGHTS];

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

// ---------------------------------------------------------------- protected set

/** The literal prefix of a glob, unescaped (`/a/b\(c\)/*.txt` → `/a/b(c)`). */
export function kernelPrefix(glob: string): string {
  return normalizeAbs(globStaticPrefix(glob));
}

/** A glob whose matches are exactly its literal prefix and everything below it: a literal path or `X/**`. */
export function globIsSubtree(glob: string): boolean {
  const parts = glob.split('/');
  const idx = parts.findIndex((x) => hasMagic(x));
  return idx === -1 || (idx === parts.length - 1 && parts[idx] === '**');
}

const MM = { dot: true, nocomment: true, nonegate: true } as const;
/** Entries listed per glob before giving up on following it exactly. */
export const GLOB_LIST_BUDGET = 20_000;

/**
 * The paths a glob stands for in the kernel, which knows no wildcards: its literal prefix for a subtree glob;
 * otherwise the existing entries it matches (a matching folder stands for everything below it), listed from
 * the prefix down (`null` when more than GLOB_LIST_BUDGET entries had to be listed). A snapshot: entries made
 * later are decided by the supervisor, which evaluates the glob itself.
 */
export function globKernelPaths(glob: string, fs: FsModelFs, budget = GLOB_LIST_BUDGET): string[] | null {
  const pre = kernelPrefix(glob);
  if (globIsSubtree(glob)) return [pre];
  const out: string[] = [];
  let left = budget;
  const walk = (dir: string): boolean => {
    const names = fs.readdir(dir);
    if (!names) return true;
    for (const name of [...names].sort()) {
      if (--left < 0) return false;
      const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (minimatch(child, glob, MM)) out.push(child);
      else if (fs.kind(child) === 'dir' && minimatch(child, glob, { ...MM, partial: true }) && !walk(child)) return false;
    }
    return true;
  };
  if (fs.kind(pre) !== 'dir') return minimatch(pre, glob, MM) && fs.kind(pre) ? [pre] : [];
  return walk(pre) ? out : null;
}

/** The policy's protected paths with their rights, matched back to ALWAYS_PROTECTED (an unknown entry is a
 *  secret: neither readable nor writable). From the policy alone: no git discovery. */
export function protectedPaths(policy: ResolvedPolicy): ProtectedPath[] {
  const known = new Map(ALWAYS_PROTECTED.map((e) => [expandEntry(e.path, policy.home, policy.workspace), e]));
  return policy.filesystem.protected.map((raw) => {
    const abs = normalizeAbs(raw);
    const e = known.get(abs);
    if (!e) return { abs, display: abs, read: false, write: false, reason: 'protected path', writableInside: [] };
    const own = OWN_RECORDS.includes(e.path) ? { ownRecord: true } : {};
    return { abs, display: e.path, read: e.read, write: e.write, reason: e.reason, writableInside: (e.writableInside ?? []).map((w) => `${abs}/${w}`), ...own };
  });
}

/** ALWAYS_PROTECTED entries that are the sandbox's own records (see ProtectedPath.ownRecord). */
export const OWN_RECORDS: readonly string[] = ['.sandbox', '~/.local/state/script-sandbox'];

/** One `key = value` of git-config text: section lower-cased, subsection as written (null when none), key
 *  lower-cased, value decoded as git does. */
export interface GitConfigEntry {
  section: string;
  subsection: string | null;
  key: string;
  value: string;
}

/** The entries of git-config text, in order. Parsed as git does for what the model reads: `[section]`,
 *  `[section "sub"]` (and the old `[section.sub]`), keys case-insensitive, a value's inline `#`/`;` comment
 *  and unquoted trailing whitespace dropped, whitespace inside quotes kept (`"hooks "` is `hooks `), the
 *  escapes `\"` `\\` `\n` `\t` `\b`, and a backslash at the end of a line continuing the value. */
export function gitConfigEntries(text: string): GitConfigEntry[] {
  const out: GitConfigEntry[] = [];
  const lines = text.split(/\r?\n/);
  let section = '';
  let subsection: string | null = null;
  for (let li = 0; li < lines.length; li++) {
    let line = lines[li].replace(/^\s+/, '');
    for (;;) {
      if (!line || line.startsWith('#') || line.startsWith(';')) break;
      if (line.startsWith('[')) {
        const sec = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
        if (!sec) break;
        const name = sec[1];
        if (sec[2] !== undefined) {
          section = name.toLowerCase();
          subsection = sec[2].replace(/\\(.)/g, '$1');
        } else {
          const dot = name.indexOf('.');
          section = (dot === -1 ? name : name.slice(0, dot)).toLowerCase();
          subsection = dot === -1 ? null : name.slice(dot + 1).toLowerCase();
        }
        line = line.slice(sec[0].length).replace(/^\s+/, ''); // `[core] hooksPath = x` on one line
        continue;
      }
      const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(=?)/.exec(line);
      if (!kv) break;
      if (!kv[2]) break; // a bare key (boolean true): no path
      let rest = line.slice(kv[0].length);
      let value = '';
      let quoted = false;
      let spaces = '';
      let started = false;
      for (let i = 0; ; i++) {
        if (i >= rest.length) {
          break;
        }
        const c = rest[i];
        if (c === '\\') {
          if (i + 1 >= rest.length) {
            // continuation: the value goes on on the next line
            if (li + 1 < lines.length) {
              rest = lines[++li];
              i = -1;
              continue;
            }
            break;
          }
          const n = rest[++i];
          value += spaces + (n === 'n' ? '\n' : n === 't' ? '\t' : n === 'b' ? '\b' : n);
          spaces = '';
          started = true;
        } else if (c === '"') {
          quoted = !quoted;
          value += spaces;
          spaces = '';
          started = true;
        } else if (!quoted && (c === '#' || c === ';')) break;
        else if (!quoted && /\s/.test(c)) {
          if (started) spaces += ' ';
        } else {
          value += spaces + c;
          spaces = '';
          started = true;
        }
      }
      out.push({ section, subsection, key: kv[1].toLowerCase(), value });
      break;
    }
  }
  return out;
}

/** Values of `section.key` in git-config text, in order (sections and keys case-insensitive, any
 *  subsection). */
export function gitConfigValues(text: string, section: string, key: string): string[] {
  const s = section.toLowerCase();
  const k = key.toLowerCase();
  return gitConfigEntries(text)
    .filter((e) => e.section === s && e.key === k)
    .map((e) => e.value);
}

/** The path a `.git` file points to (`gitdir: <path>`, relative to the worktree root), or null. */
export function parseGitFile(text: string, worktree: string): string | null {
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
  return m ? normalizeAbs(path.posix.resolve(worktree, m[1])) : null;
}

const GIT_CONFIG_INCLUDE_DEPTH = 10;

/** A path from git config: `~` is the home folder, a relative path is relative to `base`. */
function configPath(v: string, home: string, base: string): string {
  return v === '~' || v.startsWith('~/') ? normalizeAbs(home + v.slice(1)) : normalizeAbs(path.posix.resolve(base, v));
}

/** Config files and the files they include (include.path, includeIf.*.path: relative to the including file's
 *  folder), followed transitively, with their entries. Conditions of includeIf are not evaluated: every file
 *  git might include counts. */
function readConfigs(files: readonly string[], home: string, fs: FsModelFs): { file: string; included: boolean; entries: GitConfigEntry[] }[] {
  const out: { file: string; included: boolean; entries: GitConfigEntry[] }[] = [];
  const seen = new Set<string>();
  const visit = (file: string, included: boolean, depth: number) => {
    if (seen.has(file) || depth > GIT_CONFIG_INCLUDE_DEPTH) return;
    seen.add(file);
    const entries = gitConfigEntries(fs.readFile(file) ?? '');
    out.push({ file, included, entries });
    for (const e of entries) {
      if ((e.section === 'include' || e.section === 'includeif') && e.key === 'path' && e.value) {
        visit(configPath(e.value, home, path.posix.dirname(file)), true, depth + 1);
      }
    }
  };
  for (const f of files) visit(f, false, 0);
  return out;
}

/** The repository that contains `dir` (not `dir` itself): the first `.git` found walking up from its parent,
 *  as git's discovery does from a subfolder. Filesystem boundaries are not seen: the walk stops at `/`. */
function containingRepo(dir: string, fs: FsModelFs): string | null {
  for (let d = path.posix.dirname(dir); ; d = path.posix.dirname(d)) {
    if (fs.kind(d === '/' ? '/.git' : `${d}/.git`)) return d;
    if (d === '/') return null;
  }
}

/** The command a git config entry makes git run later (through the shell), or null: core.pager/editor/
 *  sshCommand/askPass/gitProxy, sequence.editor, diff.external, diff.<driver>.textconv/command,
 *  filter.<driver>.clean/smudge/process, merge.<driver>.driver, alias.* starting with `!`, credential.helper
 *  (a `!` command or an absolute path; other names are `git credential-<name>` on PATH), gpg[.<format>].program,
 *  interactive.diffFilter, pager.<command>, trailer.<t>.command/cmd, mergetool/difftool/browser.<t>.cmd/path,
 *  remote.<r>.receivepack/uploadpack (run locally for a local remote), sendemail.tocmd/cccmd/headercmd. */
export function configCommand(e: GitConfigEntry): string | null {
  const { section: s, subsection: sub, key: k, value: v } = e;
  if (!v) return null;
  if (s === 'core' && sub === null && ['pager', 'editor', 'sshcommand', 'askpass', 'gitproxy'].includes(k)) return v;
  if (s === 'sequence' && k === 'editor') return v;
  if (s === 'diff' && (sub === null ? k === 'external' : k === 'textconv' || k === 'command')) return v;
  if (s === 'filter' && sub !== null && ['clean', 'smudge', 'process'].includes(k)) return v;
  if (s === 'merge' && sub !== null && k === 'driver') return v;
  if (s === 'alias') return v.startsWith('!') ? v.slice(1) : null;
  if (s === 'credential' && k === 'helper') return v.startsWith('!') ? v.slice(1) : v.startsWith('/') ? v : null;
  if (s === 'gpg' && k === 'program') return v;
  if (s === 'interactive' && k === 'difffilter') return v;
  if (s === 'pager' && sub === null) return v;
  if (s === 'trailer' && sub !== null && (k === 'command' || k === 'cmd')) return v;
  if ((s === 'mergetool' || s === 'difftool' || s === 'browser') && sub !== null && (k === 'cmd' || k === 'path')) return v;
  if (s === 'remote' && sub !== null && (k === 'receivepack' || k === 'uploadpack')) return v;
  if (s === 'sendemail' && (k === 'tocmd' || k === 'cccmd' || k === 'headercmd')) return v;
  return null;
}

/** Interpreters whose first argument is the program that runs (`sh tools/x.sh`). */
const INTERPRETERS = new Set(['sh', 'bash', 'dash', 'zsh', 'python', 'python3', 'node', 'perl', 'ruby']);

/** The first two shell words of a command, quotes removed (nothing expanded). */
function shellWords(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let started = false;
  let quote: string | null = null;
  for (const c of cmd) {
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started) words.push(cur);
      cur = '';
      started = false;
      if (words.length === 2) return words;
    } else {
      cur += c;
      started = true;
    }
  }
  if (started) words.push(cur);
  return words.slice(0, 2);
}

/**
 * The files a config command runs, absolute (git runs these from the top of the work tree: a relative path is
 * relative to `root`): its first word when it is a path (a bare name is looked up on PATH), and the script an
 * interpreter is given (`sh tools/x.sh`, `python3 x.py`). Words with expansions (`$`, backquote, `%`) and
 * system paths are left out. Missing files count: creating one plants the program as surely.
 */
export function commandFiles(cmd: string, home: string, root: string): string[] {
  const [first, second] = shellWords(cmd.trim());
  const out: string[] = [];
  const add = (w: string | undefined, needSlash: boolean) => {
    if (!w || /[$`%]/.test(w) || w.startsWith('-') || (needSlash && !w.includes('/'))) return;
    const abs = configPath(w, home, root);
    if (!systemPathOf(abs)) out.push(abs);
  };
  if (!first) return out;
  add(first, true);
  if (INTERPRETERS.has(path.posix.basename(first))) add(second, false);
  return out;
}

/** Protected paths that the workspace's git metadata adds: the gitdir a `.git` file names (worktree,
 *  submodule), its common dir, the folder core.hooksPath names (in the repository's config, the global
 *  config or a file either includes), the files those configs include, a core.fsmonitor program inside the
 *  workspace, the `.git` of every checked-out submodule, and the same for the repository that contains the
 *  workspace (git run in the workspace finds it when the workspace has no `.git`, and the user runs git there). */
function gitDiscovered(policy: ResolvedPolicy, fs: FsModelFs, xdgConfigHome?: string): ProtectedPath[] {
  const ws = policy.workspace;
  const dotGit = `${ws}/.git`;
  if (!policy.filesystem.protected.some((p) => normalizeAbs(p) === dotGit)) return []; // unprotected
  const out: ProtectedPath[] = [];
  const git = (abs: string, reason: string): ProtectedPath => ({ abs, display: abs, read: true, write: false, reason, writableInside: ['objects', 'refs', 'logs'].map((w) => `${abs}/${w}`) });
  const plain = (abs: string, reason: string): ProtectedPath => ({ abs, display: abs, read: true, write: false, reason, writableInside: [] });
  const home = policy.home;
  // git reads $XDG_CONFIG_HOME/git/config when that is set, else ~/.config/git/config: both count.
  const globalConfigs = [...new Set([`${xdgGitDir(home, xdgConfigHome)}/config`, `${home}/.config/git/config`, `${home}/.gitconfig`])];

  const repo = (root: string, own: boolean) => {
    const dg = `${root}/.git`;
    let gitdir: string;
    const kind = fs.kind(dg);
    if (!own) {
      if (kind === 'dir') out.push(git(dg, 'git directory of the repository that contains the workspace: its hooks and config run outside the sandbox'));
      else if (kind === 'file') out.push(plain(dg, 'the .git file of the repository that contains the workspace'));
    }
    if (kind === 'dir') gitdir = dg;
    else if (kind === 'file') {
      const target = parseGitFile(fs.readFile(dg) ?? '', root);
      if (!target) return;
      gitdir = target;
      out.push(git(gitdir, 'git directory named by a .git file (worktree or submodule): hooks and config run outside the sandbox'));
    } else return;
    const common = fs.readFile(`${gitdir}/commondir`);
    const commonDir = common?.trim() ? normalizeAbs(path.posix.resolve(gitdir, common.trim())) : gitdir;
    if (commonDir !== gitdir) out.push(git(commonDir, 'git common directory of this worktree: its hooks and config run outside the sandbox'));
    const configs = readConfigs([...globalConfigs, `${commonDir}/config`, `${gitdir}/config.worktree`], home, fs);
    for (const c of configs) {
      if (c.included) out.push(plain(c.file, 'a file git config includes (include.path / includeIf.*.path): its settings run commands outside the sandbox'));
      for (const e of c.entries) {
        if (e.section !== 'core' || e.subsection !== null || !e.value) continue;
        if (e.key === 'hookspath') {
          // Relative to the work tree, whichever config file names it.
          const abs = configPath(e.value, home, root);
          out.push(plain(abs, 'git hooks folder named by core.hooksPath (hooks run outside the sandbox)'));
          // Husky v9 sets core.hooksPath=.husky/_, whose generated hooks source the user's scripts in .husky:
          // writing .husky/pre-commit runs code as surely as writing .husky/_/pre-commit.
          if (path.posix.basename(abs) === '_') out.push(plain(path.posix.dirname(abs), 'the scripts the husky hooks in core.hooksPath run (hooks run outside the sandbox)'));
        } else if (e.key === 'fsmonitor') {
          const abs = configPath(e.value, home, root);
          // Missing too: creating the program plants it (a boolean value means git's built-in monitor).
          if (isUnder(abs, ws) && !/^(true|false|yes|no|on|off|1|0)$/i.test(e.value.trim())) out.push(plain(abs, 'the core.fsmonitor program (git status runs it outside the sandbox)'));
        }
      }
      for (const e of c.entries) {
        const cmd = configCommand(e);
        if (!cmd) continue;
        const name = `${e.section}${e.subsection !== null ? `.${e.subsection}` : ''}.${e.key}`;
        for (const abs of commandFiles(cmd, home, root)) out.push(plain(abs, `the program git config ${name} runs (outside the sandbox, from the work tree)`));
      }
    }
    if (own) {
      // A checked-out submodule's .git is a file naming its gitdir; rewritten, it points the superproject's
      // git at a gitdir whose config runs commands.
      for (const e of gitConfigEntries(fs.readFile(`${root}/.gitmodules`) ?? '')) {
        if (e.section !== 'submodule' || e.key !== 'path' || !e.value) continue;
        const sub = normalizeAbs(path.posix.resolve(root, e.value));
        if (sub === root || !isUnder(sub, root)) continue;
        const sk = fs.kind(`${sub}/.git`);
        if (sk === 'dir') out.push(git(`${sub}/.git`, 'git directory of a submodule: its hooks and config run outside the sandbox'));
        else if (sk === 'file') out.push(plain(`${sub}/.git`, 'the .git file of a submodule (names the gitdir whose config git runs)'));
      }
    }
  };
  repo(ws, true);
  const outer = containingRepo(ws, fs);
  if (outer) repo(outer, false);
  return out;
}

/** The user's git configuration folder: $XDG_CONFIG_HOME/git when that is an absolute path, else ~/.config/git. */
function xdgGitDir(home: string, xdgConfigHome: string | undefined): string {
  return xdgConfigHome && xdgConfigHome.startsWith('/') ? `${normalizeAbs(xdgConfigHome)}/git` : `${home}/.config/git`;
}

/** Every protected path of a run: the policy's, what git metadata adds, the audit folder; minus unprotect. */
export function protectedSet(policy: ResolvedPolicy, fs: FsModelFs = NO_FS, opts: { auditDir?: string; xdgConfigHome?: string } = {}): ProtectedPath[] {
  const out = protectedPaths(policy);
  const add = (e: ProtectedPath) => {
    if (!out.some((x) => x.abs === e.abs)) out.push(e);
  };
  // ~/.config/git stands for the user's git configuration folder, which $XDG_CONFIG_HOME moves.
  const cfg = out.find((e) => e.display === '~/.config/git');
  const xdg = xdgGitDir(policy.home, opts.xdgConfigHome);
  if (cfg && xdg !== cfg.abs) add({ ...cfg, abs: xdg, display: '$XDG_CONFIG_HOME/git' });
  for (const e of gitDiscovered(policy, fs, opts.xdgConfigHome)) add(e);
  if (opts.auditDir) add({ abs: normalizeAbs(opts.auditDir), display: normalizeAbs(opts.auditDir), read: false, write: false, reason: 'the sandbox audit log (hidden from the script)', writableInside: [], ownRecord: true });
  const un = policy.filesystem.unprotect ?? [];
  return out.filter((e) => !un.some((u) => isUnder(e.abs, normalizeAbs(u))));
}

// ---------------------------------------------------------------- evaluation shared with decidePath

export interface ProtectionBlock {
  entry: ProtectedPath;
  /** An allow entry names the protected path and covers the path: access is allowed after all. */
  unlockedBy: string | null;
}

/**
 * The protected entries that block `access` at `p` (absolute, normalised), in order, each with the allow glob
 * that unlocks it (an allow entry of the same access whose literal prefix lies inside the protected path and
 * contains `p`), or null. Writing inside an entry's writableInside is not blocked by that entry.
 */
export function protectionBlocks(policy: ResolvedPolicy, prot: readonly ProtectedPath[], p: string, access: 'read' | 'write'): ProtectionBlock[] {
  const unlockList = access === 'read' ? policy.filesystem.allowRead : policy.filesystem.allowWrite;
  const out: ProtectionBlock[] = [];
  for (const e of prot) {
    if (!isUnder(p, e.abs) || (access === 'read' ? e.read : e.write)) continue;
    if (access === 'write' && e.writableInside.some((w) => isUnder(p, w))) continue;
    const g = unlockList.find((x) => globNames(x, e.abs) && globCovers(x, p));
    out.push({ entry: e, unlockedBy: g ?? null });
  }
  return out;
}

/** The deny glob that blocks `access` at `p` (it matches `p` or a folder above it): denyRead for reading;
 *  denyWrite, then denyRead (a carve-out takes every right) for writing. */
export function denyingGlob(policy: ResolvedPolicy, p: string, access: 'read' | 'write'): { list: 'denyRead' | 'denyWrite'; glob: string } | null {
  const fsp = policy.filesystem;
  const lists = access === 'read' ? ([['denyRead', fsp.denyRead]] as const) : ([['denyWrite', fsp.denyWrite], ['denyRead', fsp.denyRead]] as const);
  for (const [list, globs] of lists) {
    const glob = globs.find((g) => globCovers(g, p));
    if (glob) return { list, glob };
  }
  return null;
}

export function systemPathOf(p: string): string | null {
  return SYSTEM_PATHS.find((s) => isUnder(p, s)) ?? null;
}

// ---------------------------------------------------------------- the model

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs.map((x) => normalizeAbs(x)))];
}

/** Carve-outs strictly below one of `paths`: for a grant that gives back something inside a carve-out (the
 *  carve-outs above it are what it overrides; one equal to it was ruled out before). */
function below(paths: readonly string[], cuts: readonly string[]): string[] {
  return cuts.filter((c) => paths.some((p) => c !== p && isUnder(c, p)));
}

/** The filesystem model of one run. Pure apart from `fs` (reads of the workspace's git metadata). */
export function buildFsModel(policy: ResolvedPolicy, req: FsModelRequest, fs: FsModelFs = NO_FS): FsModel {
  const fsp = policy.filesystem;
  const ws = normalizeAbs(policy.workspace);
  const prot = protectedSet(policy, fs, { auditDir: req.auditDir, xdgConfigHome: req.xdgConfigHome });
  const notes: string[] = [];
  // Each glob as kernel paths; a glob too wide to list is widened (deny: its prefix) or dropped (allow).
  const kernelPaths = (field: string, g: string, deny: boolean): string[] => {
    const paths = globKernelPaths(g, fs);
    if (paths) return paths;
    notes.push(`${field} ${g}: too many entries below ${kernelPrefix(g)} to follow the pattern; the kernel ${deny ? 'blocks all of it' : 'grants none of it'}`);
    return deny ? [kernelPrefix(g)] : [];
  };
  const denyReadOf = fsp.denyRead.map((g) => ({ glob: g, paths: kernelPaths('denyRead', g, true) }));
  const denyWriteOf = fsp.denyWrite.map((g) => ({ glob: g, paths: kernelPaths('denyWrite', g, true) }));
  const allowReadOf = fsp.allowRead.map((g) => ({ glob: g, paths: kernelPaths('allowRead', g, false) }));
  const allowWriteOf = fsp.allowWrite.map((g) => ({ glob: g, paths: kernelPaths('allowWrite', g, false) }));
  const denyRead = uniq(denyReadOf.flatMap((x) => x.paths));
  const denyWrite = uniq(denyWriteOf.flatMap((x) => x.paths));
  const allowReadP = uniq(allowReadOf.flatMap((x) => x.paths));
  const allowWriteP = uniq(allowWriteOf.flatMap((x) => x.paths));

  // Writable roots. A root inside a system path (a workspace below /opt, allowWrite /usr/local/x) gets its
  // own grant: the system-path carve-outs of the main grant would remove it.
  const writeRoots: string[] = [];
  const sysRoots: string[] = [];
  const tempRoots: string[] = [];
  if (!fsp.readOnly) {
    if (fsp.writeOutsideSystem) writeRoots.push('/');
    const wsSys = systemPathOf(ws);
    (wsSys && wsSys !== ws ? sysRoots : writeRoots).push(ws);
    // An allowWrite path inside a system path is writable only when its glob names that system path.
    for (const { glob, paths } of allowWriteOf) {
      for (const a of paths) {
        const sys = systemPathOf(a);
        (sys && globNames(glob, sys) ? sysRoots : writeRoots).push(a);
      }
    }
    if (sharedTempWritable(policy.profile)) tempRoots.push(...SHARED_TEMP_PATHS);
  }
  const writableAt = (p: string) =>
    sysRoots.some((r) => isUnder(p, r)) ||
    tempRoots.some((r) => isUnder(p, r)) ||
    (writeRoots.some((r) => isUnder(p, r)) && !systemPathOf(p) && !isUnder(p, '/dev'));

  // What the evaluator would say at p about deny lists and protection (the validity of grant-backs).
  const evaluatorAllows = (p: string, access: 'read' | 'write') =>
    !denyingGlob(policy, p, access) && protectionBlocks(policy, prot, p, access).every((b) => b.unlockedBy !== null);
  // What allow entries naming a protected path unlock inside it.
  const unlocks = (of: typeof allowReadOf, e: ProtectedPath, access: 'read' | 'write') =>
    uniq(of.filter((x) => globNames(x.glob, e.abs)).flatMap((x) => x.paths.filter((u) => isUnder(u, e.abs) && evaluatorAllows(u, access))));
  const readUnlocks = (e: ProtectedPath) => unlocks(allowReadOf, e, 'read');
  const writeUnlocks = (e: ProtectedPath) => (fsp.readOnly ? [] : unlocks(allowWriteOf, e, 'write'));

  const readSecrets = prot.filter((e) => !e.read && !readUnlocks(e).includes(e.abs));
  const writeProtected = prot.filter((e) => !e.write && !writeUnlocks(e).includes(e.abs));

  const hidden: HiddenPath[] = [];
  for (const e of readSecrets) {
    if (writableAt(e.abs) && readUnlocks(e).length === 0 && writeUnlocks(e).length === 0) hidden.push({ path: e.abs, reason: e.reason });
  }
  for (const { glob, paths } of denyReadOf) {
    for (const d of paths) if (writableAt(d) && !hidden.some((h) => h.path === d)) hidden.push({ path: d, reason: `denyRead ${glob}` });
  }
  const isHidden = (p: string) => hidden.some((h) => h.path === p);

  const protectedInWritable: ProtectedInWritable[] = [];
  for (const e of writeProtected) {
    if (!e.read || !writableAt(e.abs) || isHidden(e.abs)) continue;
    const inside = uniq([...e.writableInside.filter((w) => evaluatorAllows(w, 'write')), ...writeUnlocks(e)]);
    protectedInWritable.push({ path: e.abs, reason: e.reason, writableInside: inside });
  }
  for (const { glob, paths } of denyWriteOf) {
    for (const d of paths) {
      if (writableAt(d) && !isHidden(d) && !protectedInWritable.some((x) => x.path === d)) protectedInWritable.push({ path: d, reason: `denyWrite ${glob}`, writableInside: [] });
    }
  }
  hidden.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  protectedInWritable.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // Carve-outs. Reads: secrets, denyRead, /dev. Writes: those, write-protected paths and denyWrite; in the
  // namespace tier minus what the mounts keep.
  const readExcept = uniq([...readSecrets.map((e) => e.abs), ...denyRead, '/dev']);
  const mounted = new Set(req.tier === 'namespaces' ? [...hidden.map((h) => h.path), ...protectedInWritable.map((x) => x.path)] : []);
  const writeExcept = uniq([...readExcept, ...writeProtected.map((e) => e.abs), ...denyWrite]).filter((c) => !mounted.has(c));

  const readRoots = fsp.readEverywhere ? ['/'] : [...SYSTEM_PATHS, ws, ...req.toolRoots, path.posix.dirname(req.file), ...allowReadP, ...allowWriteP];
  const grants: Grant[] = [
    { access: READ_RIGHTS, paths: uniq(readRoots), except: readExcept },
    { access: RW_RIGHTS, paths: uniq(writeRoots), except: uniq([...SYSTEM_PATHS, ...writeExcept]) },
  ];
  if (sysRoots.length) grants.push({ access: RW_RIGHTS, paths: uniq(sysRoots), except: writeExcept });
  if (tempRoots.length) grants.push({ access: RW_RIGHTS, paths: [...tempRoots], except: writeExcept.filter((c) => c !== '/dev') });

  // What stays writable inside a protected path, and what an allow entry naming a protected path unlocks.
  for (const e of prot) {
    const inWritable = protectedInWritable.find((x) => x.path === e.abs);
    if (inWritable) {
      if (req.tier === 'fallback' && inWritable.writableInside.length) {
        grants.push({ access: RW_RIGHTS, paths: inWritable.writableInside, except: below(inWritable.writableInside, writeExcept) });
      }
    } else if (!e.write) {
      // A readable path unlocked as a whole is a writable root already; a secret is granted write rights
      // only: writing it does not make it readable.
      const wu = writeUnlocks(e).filter((u) => !e.read || u !== e.abs);
      if (wu.length) grants.push({ access: e.read ? RW_RIGHTS : WRITE_RIGHTS, paths: wu, except: below(wu, writeExcept) });
    }
    if (!e.read) {
      const ru = readUnlocks(e).filter((u) => u !== e.abs);
      if (ru.length) grants.push({ access: READ_RIGHTS, paths: ru, except: below(ru, readExcept) });
    }
  }

  // The private temp dir and device nodes are granted explicitly, under no exception.
  grants.push(
    { access: RW_RIGHTS, paths: [normalizeAbs(req.tmpDir)], except: [] },
    { access: ['read_file', 'write_file', 'read_dir', 'ioctl_dev', 'truncate'], paths: [...DEV_READ_WRITE], except: [] },
    { access: ['read_file', 'read_dir'], paths: [...DEV_READ_ONLY], except: [] },
    { access: READ_RIGHTS, paths: [...KERNEL_READ], except: readExcept },
    ...terminalGrants(req.ttyPath, req.tier),
  );

  return {
    tier: req.tier,
    protected: prot,
    writableRoots: uniq([...writeRoots, ...sysRoots, ...tempRoots]),
    protectedInWritable,
    hidden,
    notes,
    grants: grants.filter((g) => g.paths.length > 0),
  };
}

// ---------------------------------------------------------------- terminals

/** A pty slave path (`/dev/pts/N`): the only terminals a grant may name besides the multiplexers. */
export const PTY_SLAVE = /^\/dev\/pts\/\d+$/;

/** The devpts mount point: in the namespace tier the launcher mounts a private instance over it. */
export const DEVPTS_DIR = '/dev/pts';

/**
 * Terminals of a run: the pty multiplexers and exactly the run's own terminal. Never the host's /dev/pts as a
 * whole: every other session's terminal of the same user is in there (read what they type, write onto their
 * screen). In the namespace tier the launcher mounts a private devpts instance over /dev/pts (and its ptmx
 * over /dev/ptmx), so /dev/pts as a whole is granted there: it holds only the ptys the script makes itself
 * (`script`, expect, pty.spawn need their new slaves; Landlock checks the open inside TIOCGPTPEER too). The
 * launcher drops that rule when it could not mount the private instance (see apply.ts devptsStep), so a
 * failed mount falls back to the exact-path grants, never to the host's instance. Fallback tier cost: a pty
 * the script makes itself has an ungranted slave (EACCES).
 */
export function terminalGrants(ttyPath: string | undefined, tier: FsTier = 'fallback'): Grant[] {
  const own = ttyPath && PTY_SLAVE.test(ttyPath) ? [ttyPath] : [];
  const exact: Grant = { access: ['read_file', 'write_file', 'ioctl_dev'], paths: ['/dev/ptmx', '/dev/pts/ptmx', ...own], except: [] };
  if (tier !== 'namespaces') return [exact];
  return [exact, { access: ['read_file', 'write_file', 'ioctl_dev', 'read_dir'], paths: [DEVPTS_DIR], except: [] }];
}

// ---------------------------------------------------------------- warn mode: the integrity set

/** Device nodes a warn run keeps besides DEV_READ_WRITE/DEV_READ_ONLY: shared memory and message queues
 *  (tmpfs-like, no raw hardware). The rest of /dev stays out: a raw disk would bypass every path rule. */
export const WARN_DEV_READ_WRITE: readonly string[] = ['/dev/shm', '/dev/mqueue'];

/**
 * What the kernel keeps in warn mode: warn reports the policy and blocks none of it, but never relaxes the
 * integrity set, the things whose change would alter what git, VS Code, the shell or this extension do after
 * the run, or the run's own record. So every protected path (the policy's protected list with what the git
 * metadata adds, minus what the user unprotected) stays unwritable, wherever it is (a warn run has no write
 * roots: anything the user can write is writable), and the sandbox's own records (ownRecord) stay unreadable
 * too. Reading a secret, writing outside the grants, deny lists: reported by the supervisor, not blocked.
 *
 * The model's shape is FsModel's: writableRoots `/`, protectedInWritable/hidden the integrity set (the
 * namespace tier's mounts), and grants for Landlock: everything on `/` except /dev (granted node by node as in
 * enforce) and, in the fallback tier, the integrity set as carve-outs given back read-only.
 */
export function integrityModel(policy: ResolvedPolicy, req: FsModelRequest, fs: FsModelFs = NO_FS): FsModel {
  const fsp = policy.filesystem;
  const prot = protectedSet(policy, fs, { auditDir: req.auditDir, xdgConfigHome: req.xdgConfigHome });
  // An allow entry naming a protected path unlocks what it covers inside it, as in enforce.
  const inside = (globs: readonly string[], e: ProtectedPath) =>
    uniq(globs.filter((g) => globNames(g, e.abs)).flatMap((g) => (globKernelPaths(g, fs) ?? []).filter((u) => isUnder(u, e.abs))));
  const hidden: HiddenPath[] = [];
  const readOnly: ProtectedInWritable[] = [];
  for (const e of prot) {
    const wu = e.write ? [e.abs] : inside(fsp.allowWrite, e);
    const ru = e.read ? [e.abs] : inside(fsp.allowRead, e);
    if (wu.includes(e.abs)) continue; // unlocked as a whole by the user's allowWrite
    if (e.ownRecord && ru.length === 0 && wu.length === 0) hidden.push({ path: e.abs, reason: e.reason });
    else readOnly.push({ path: e.abs, reason: e.reason, writableInside: uniq([...e.writableInside, ...wu]) });
  }
  // What a hidden path covers needs no rule of its own.
  const isHiddenAt = (p: string) => hidden.some((h) => h.path !== p && isUnder(p, h.path));
  const hiddenOut = hidden.filter((h) => !isHiddenAt(h.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const roOut = readOnly.filter((x) => !hidden.some((h) => isUnder(x.path, h.path))).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hiddenPaths = hiddenOut.map((h) => h.path);
  const roPaths = roOut.map((x) => x.path);
  const backWritable = uniq(roOut.flatMap((x) => x.writableInside));

  const everything: LandlockAccess[] = [...RW_RIGHTS, 'make_char', 'make_block', 'ioctl_dev'];
  // Namespace tier: the mounts keep the integrity set (compile adds carve-outs for what they cannot cover);
  // a carve-out would also take the right to create entries next to a protected path.
  const cuts = req.tier === 'fallback' ? uniq([...hiddenPaths, ...roPaths, '/dev']) : ['/dev'];
  const grants: Grant[] = [{ access: everything, paths: ['/'], except: cuts }];
  if (req.tier === 'fallback') {
    grants.push({ access: READ_RIGHTS, paths: roPaths, except: below(roPaths, hiddenPaths) });
    grants.push({ access: RW_RIGHTS, paths: backWritable, except: below(backWritable, [...roPaths, ...hiddenPaths]) });
  }
  grants.push(
    { access: RW_RIGHTS, paths: [normalizeAbs(req.tmpDir)], except: [] },
    { access: ['read_file', 'write_file', 'read_dir', 'ioctl_dev', 'truncate'], paths: [...DEV_READ_WRITE], except: [] },
    { access: ['read_file', 'read_dir'], paths: [...DEV_READ_ONLY], except: [] },
    { access: RW_RIGHTS, paths: [...WARN_DEV_READ_WRITE], except: [] },
    ...terminalGrants(req.ttyPath, req.tier),
  );
  return {
    tier: req.tier,
    protected: prot,
    writableRoots: ['/'],
    protectedInWritable: roOut,
    hidden: hiddenOut,
    notes: [],
    grants: grants.filter((g) => g.paths.length > 0),
  };
}

// ---------------------------------------------------------------- kernel answers, for diagnostics

/**
 * Whether the grants let `access` happen at `p`: the same answer Landlock gives. Pure. A directory on the
 * way to an exception is expanded into rules on its existing children, so a new entry there (`exists`
 * false) cannot be created.
 */
export function grantsAllow(grants: readonly Grant[], p: string, access: 'read' | 'write', exists = true): boolean {
  const need: LandlockAccess = access === 'read' ? 'read_file' : 'write_file';
  const under = (x: string, root: string) => root === '/' || x === root || x.startsWith(root + '/');
  const parent = path.posix.dirname(p);
  return grants.some(
    (g) =>
      g.access.includes(need) &&
      g.paths.some((root) => under(p, root)) &&
      !g.except.some((e) => under(p, e)) &&
      (exists || !g.except.some((e) => e !== parent && under(e, parent) && g.paths.some((root) => under(parent, root)))),
  );
}

/**
 * Whether the kernel lets `access` happen at `p` under the whole model: the grants, and in the namespace
 * tier the mounts made from protectedInWritable (read-only, writableInside read-write again, applied in
 * order) and hidden (nothing).
 */
export function modelAllows(model: FsModel, p: string, access: 'read' | 'write', exists = true): boolean {
  if (!grantsAllow(model.grants, p, access, exists)) return false;
  if (model.tier === 'fallback') return true;
  if (model.hidden.some((h) => isUnder(p, h.path))) return false;
  if (access === 'read') return true;
  let writable = true;
  for (const e of model.protectedInWritable) {
    if (isUnder(p, e.path)) writable = e.writableInside.some((w) => isUnder(p, w));
  }
  return writable;
}
