// The programs a git configuration makes git run later, outside the sandbox: writing one of those files
// plants code as surely as writing a hook.
import * as path from 'node:path';
import { configPath, type GitConfigEntry } from './git-config';
import { systemPathOf } from './protection-rules';

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
