// What the workspace's git metadata adds to the protected set: gitdirs named by .git files, common dirs,
// hooks folders and programs named in config, submodules, and the repository that contains the workspace.
import * as path from 'node:path';
import type { ResolvedPolicy } from './schema';
import type { FsModelFs, ProtectedPath } from './fs-model-types';
import { configPath, gitConfigEntries, parseGitFile, readConfigs } from './git-config';
import { commandFiles, configCommand } from './git-config-commands';
import { isUnder, normalizeAbs, normalizePolicyPath, resolveFrom } from './paths';

/** The folder above `d`, or null at a root: `/`, a Windows drive (`C:`) or share (`//server/share`). */
function parentDir(d: string): string | null {
  // A Windows path's dirname runs `C:/x` → `C:` → `.` → `.`: without the drive as a root the walk never ended.
  if (d === '/' || /^[A-Za-z]:$/.test(d) || /^\/\/[^/]+\/[^/]+$/.test(d)) return null;
  const up = path.posix.dirname(d);
  return up === d || up === '.' ? null : up;
}

/** The repository that contains `dir` (not `dir` itself): the first `.git` found walking up from its parent,
 *  as git's discovery does from a subfolder. Filesystem boundaries are not seen: the walk stops at the root. */
function containingRepo(dir: string, fs: FsModelFs): string | null {
  for (let d = parentDir(dir); d !== null; d = parentDir(d)) {
    if (fs.kind(d === '/' ? '/.git' : `${d}/.git`)) return d;
  }
  return null;
}

/** Protected paths that the workspace's git metadata adds: the gitdir a `.git` file names (worktree,
 *  submodule), its common dir, the folder core.hooksPath names (in the repository's config, the global
 *  config or a file either includes), the files those configs include, a core.fsmonitor program inside the
 *  workspace, the `.git` of every checked-out submodule, and the same for the repository that contains the
 *  workspace (git run in the workspace finds it when the workspace has no `.git`, and the user runs git there). */
export function gitDiscovered(policy: ResolvedPolicy, fs: FsModelFs, xdgConfigHome?: string): ProtectedPath[] {
  const ws = policy.workspace;
  const dotGit = `${ws}/.git`;
  if (!policy.filesystem.protected.some((p) => normalizePolicyPath(p) === dotGit)) return []; // unprotected
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
    const commonDir = common?.trim() ? resolveFrom(gitdir, common.trim()) : gitdir;
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
        const sub = resolveFrom(root, e.value);
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
export function xdgGitDir(home: string, xdgConfigHome: string | undefined): string {
  return xdgConfigHome && xdgConfigHome.startsWith('/') ? `${normalizeAbs(xdgConfigHome)}/git` : `${home}/.config/git`;
}
