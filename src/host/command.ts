// Turns the user's command into the program to exec, with a shell's answers for the failures:
// 127 when there is no such program, 126 when it cannot be executed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SandboxError } from '../errors';

export interface ResolvedCommand {
  file: string;
  argv: string[];
  /** The script file the user named (for diagnostics), when the command is a script. */
  script: string | null;
  /** The interpreter from the shebang or the file type, if any. */
  interpreter: string | null;
}

const BY_EXTENSION: Record<string, string[]> = {
  '.sh': ['/bin/sh'],
  '.bash': ['bash'],
  '.py': ['python3'],
  '.js': ['node'],
  '.mjs': ['node'],
  '.cjs': ['node'],
  '.rb': ['ruby'],
  '.pl': ['perl'],
  '.ps1': ['pwsh', '-File'],
};

/** Windows PATH entries are `;`-separated and a bare name may omit its extension (PATHEXT). */
const WINDOWS_PATHS = path.delimiter === ';';
const PATHEXT = ['.COM', '.EXE', '.BAT', '.CMD'];

export function findInPath(name: string, pathVar: string | undefined): string | null {
  const names = WINDOWS_PATHS && !path.extname(name) ? [name, ...PATHEXT.map((e) => name + e)] : [name];
  for (const dir of (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(path.delimiter)) {
    if (!dir) continue;
    for (const n of names) {
      const p = path.join(dir, n);
      try {
        const st = fs.statSync(p);
        if (st.isFile() && isExecutable(p)) return p;
      } catch {
        // keep looking
      }
    }
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function readShebang(file: string): string[] | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const head = buf.subarray(0, n).toString('utf8');
    if (!head.startsWith('#!')) return null;
    const line = head.slice(2).split('\n')[0]!.trim();
    return line ? line.split(/\s+/) : null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Resolves argv[0]. A name without a slash is looked up in PATH; a path is taken relative to cwd.
 * With `inferInterpreter` (the extension's "Run in Sandbox"), a script that is not executable runs
 * through the interpreter of its shebang or its file type, as a user expects from a right-click.
 */
export function resolveCommand(
  argv: string[],
  opts: { cwd: string; pathVar: string | undefined; inferInterpreter?: boolean; interpreters?: Record<string, string[]> },
): ResolvedCommand {
  const [cmd, ...rest] = argv;
  if (!cmd) throw new SandboxError('SCRIPT_NOT_FOUND', 'no command given');
  // A path names a file (relative to cwd); a bare name is looked up in PATH. Windows paths may use `\\`.
  if (!cmd.includes('/') && !(WINDOWS_PATHS && cmd.includes('\\'))) {
    const found = findInPath(cmd, opts.pathVar);
    if (!found) throw new SandboxError('SCRIPT_NOT_FOUND', `${cmd}: command not found in PATH`);
    return { file: found, argv: [cmd, ...rest], script: null, interpreter: null };
  }
  const abs = path.resolve(opts.cwd, cmd);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new SandboxError('SCRIPT_NOT_FOUND', `${cmd}: no such file`);
  }
  if (st.isDirectory()) throw new SandboxError('SCRIPT_NOT_EXECUTABLE', `${cmd}: is a directory`);
  if (isExecutable(abs) && !opts.inferInterpreter) return { file: abs, argv: [cmd, ...rest], script: abs, interpreter: readShebang(abs)?.[0] ?? null };
  const interp = interpreterFor(abs, opts.interpreters ?? {});
  if (opts.inferInterpreter && interp) {
    const [prog, ...progArgs] = interp;
    const file = prog!.includes('/') ? prog! : findInPath(prog!, opts.pathVar);
    if (!file) throw new SandboxError('SCRIPT_NOT_FOUND', `${cmd}: interpreter ${prog} not found in PATH`);
    return { file, argv: [prog!, ...progArgs, abs, ...rest], script: abs, interpreter: file };
  }
  if (isExecutable(abs)) return { file: abs, argv: [cmd, ...rest], script: abs, interpreter: readShebang(abs)?.[0] ?? null };
  throw new SandboxError('SCRIPT_NOT_EXECUTABLE', `${cmd}: permission denied (not executable; run it through an interpreter, e.g. sh ${cmd})`);
}

function interpreterFor(file: string, overrides: Record<string, string[]>): string[] | null {
  const ext = path.extname(file).toLowerCase();
  if (overrides[ext]) return overrides[ext]!;
  const shebang = readShebang(file);
  if (shebang) {
    // "#!/usr/bin/env python3" → python3 from PATH; "#!/bin/bash -e" → as written.
    if (path.basename(shebang[0]!) === 'env' && shebang[1]) return shebang.slice(1).filter((a) => a !== '-S');
    return shebang;
  }
  return BY_EXTENSION[ext] ?? null;
}

/**
 * Where an interpreter outside the system paths is installed (~/.pyenv, ~/.nvm/versions/node/v20, …), so
 * strict reads can include it: the parent of its bin directory, for the file as named and as resolved.
 * Never a home directory or the root itself: then only the file's own directory.
 */
export function toolRootsFor(files: string[], homes: string[]): string[] {
  const roots = new Set<string>();
  const tooBroad = (d: string) => d === '/' || homes.some((h) => h === d || h.startsWith(d + '/')) || /^\/(home|root|Users)$/.test(d);
  for (const f of files) {
    let real: string;
    try {
      real = fs.realpathSync(f);
    } catch {
      continue;
    }
    for (const p of [f, real]) {
      if (/^\/(usr|bin|sbin|lib|lib64|etc|opt)\//.test(p)) continue;
      const prefix = path.dirname(path.dirname(p));
      roots.add(tooBroad(prefix) ? path.dirname(p) : prefix);
    }
  }
  return [...roots];
}
