// Which files "Run in Sandbox" is offered for. Pure (no vscode), so the unit tests check it and check that
// package.json's `when` clauses say the same. By name: the languages and extensions below. By content: a
// file with a `#!` line or the executable bit (the extension lists those in a context key, runnable.ts).
// Never: the policy file, JSON, Markdown, images — even with the x bit set (a checkout on FAT, a zip).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** VS Code language ids of scripts the sandbox can run through an interpreter. */
export const RUNNABLE_LANGUAGES = ['shellscript', 'python', 'javascript', 'typescript', 'powershell', 'bat', 'ruby', 'perl'] as const;

/** Extensions (lower case, with the dot) of the same, for files VS Code gives another language id. */
export const RUNNABLE_EXTENSIONS = ['.sh', '.bash', '.zsh', '.py', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.ps1', '.bat', '.cmd', '.rb', '.pl'] as const;

/** Never runnable, whatever the bits say: data, documents, images. */
export const NEVER_EXTENSIONS = new Set([
  '.json', '.jsonc', '.json5', '.jsonl', '.md', '.markdown', '.txt', '.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.ico', '.bmp', '.tif', '.tiff', '.pdf',
  '.yml', '.yaml', '.toml', '.lock', '.csv', '.html', '.css', '.map',
]);

/** The policy file, in any folder. */
export function isPolicyFile(p: string): boolean {
  return /(^|[/\\])\.vscode[/\\]sandbox\.json$/.test(p);
}

/** Runnable by its language id or its extension alone. */
export function runnableByName(p: string, languageId?: string): boolean {
  if (isPolicyFile(p)) return false;
  const ext = path.extname(p).toLowerCase();
  if (NEVER_EXTENSIONS.has(ext)) return false;
  return (languageId !== undefined && (RUNNABLE_LANGUAGES as readonly string[]).includes(languageId)) || (RUNNABLE_EXTENSIONS as readonly string[]).includes(ext);
}

/** Whether the file's content may make it runnable (what the context key is for): not by name, not excluded. */
export function worthProbing(p: string): boolean {
  if (isPolicyFile(p)) return false;
  const ext = path.extname(p).toLowerCase();
  return !NEVER_EXTENSIONS.has(ext) && !(RUNNABLE_EXTENSIONS as readonly string[]).includes(ext);
}

/** A regular file that starts with `#!` or has an executable bit. Errors (gone, unreadable) are "no". */
export async function runnableByContent(p: string): Promise<boolean> {
  if (!worthProbing(p)) return false;
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    const st = await fh.stat();
    if (!st.isFile()) return false;
    if (st.mode & 0o111) return true;
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf.toString('latin1') === '#!';
  } catch {
    return false;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** The `when` clause of the Run in Sandbox menus (package.json must contain exactly this; a unit test checks). */
export function runMenuWhen(extra = ''): string {
  const langs = RUNNABLE_LANGUAGES.join('|');
  const exts = RUNNABLE_EXTENSIONS.map((e) => e.slice(1)).join('|');
  return `resourceScheme == file${extra} && (resourceLangId =~ /^(${langs})$/ || resourceExtname =~ /^\\.(${exts})$/i || resourcePath in ${RUNNABLE_CONTEXT_KEY})`;
}

/** Context key: an object whose keys are the file system paths of files runnable by content. */
export const RUNNABLE_CONTEXT_KEY = 'scriptSandbox.runnableFiles';
/** At most this many paths in the key (a big repository of executables must not bloat every context lookup). */
export const MAX_RUNNABLE_FILES = 2000;

/** Default interpreter per language id, used for a file without a `#!` line (scriptSandbox.languageInterpreters). */
export const DEFAULT_LANGUAGE_INTERPRETERS: Record<string, string[]> = {
  python: ['python3', '-u'],
  javascript: ['node'],
  typescript: ['node'],
  shellscript: ['bash'],
  powershell: ['pwsh', '-File'],
  ruby: ['ruby'],
  perl: ['perl'],
};

/** Language id by extension, for the interpreter of a file VS Code has not opened. */
export const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  '.sh': 'shellscript', '.bash': 'shellscript', '.zsh': 'shellscript', '.py': 'python', '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript',
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.ps1': 'powershell', '.bat': 'bat', '.cmd': 'bat', '.rb': 'ruby', '.pl': 'perl',
};

/**
 * The interpreter override the host gets for this file (keyed by its extension, as RunRequest.interpreters
 * is): the user's per-extension `interpreters` first, then the per-language setting, but only for a file
 * without a `#!` line — a script that names its interpreter gets that one.
 */
export function interpreterOverrides(file: string, hasShebang: boolean, byExtension: Record<string, string[]>, byLanguage: Record<string, string[]>, languageId?: string): Record<string, string[]> {
  const ext = path.extname(file).toLowerCase();
  if (!ext) return {};
  if (byExtension[ext]) return { [ext]: byExtension[ext]! };
  if (hasShebang) return {};
  const lang = languageId && byLanguage[languageId] ? languageId : LANGUAGE_BY_EXTENSION[ext];
  const argv = lang ? byLanguage[lang] : undefined;
  return argv?.length ? { [ext]: argv } : {};
}
