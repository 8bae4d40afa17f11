// The command line and environment block for CreateProcessW. Windows passes one string; each program parses
// it itself. Executables use the MSVCRT rules; `.bat`/`.cmd` go through cmd.exe, whose own parsing made
// CVE-2024-27980 ("BatBadBut") possible, so its arguments are quoted for cmd and the characters no quoting
// makes safe are refused. Pure: unit-tested on Linux.
import * as path from 'node:path';
import { SandboxError } from '../../src/errors';

/** One argument, quoted for CommandLineToArgvW / the MSVCRT parser (backslashes double only before a quote). */
export function quoteArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    if (ch === '"') {
      out += '\\'.repeat(slashes * 2 + 1) + '"';
    } else {
      out += '\\'.repeat(slashes) + ch;
    }
    slashes = 0;
  }
  return out + '\\'.repeat(slashes * 2) + '"';
}

/**
 * One argument for a batch file run as `cmd.exe /d /s /c "…"`. Quoted when it holds anything cmd treats
 * specially; inner quotes doubled; `%` made inert with `%%cd:~,%` (an empty substring expansion, so
 * `%PATH%` cannot expand: the Rust std fix for the same CVE). Line breaks and NUL end a cmd command
 * line whatever the quoting, so they are refused.
 */
export function quoteBatchArg(arg: string): string {
  if (/[\r\n\0]/.test(arg)) throw new SandboxError('SCRIPT_NOT_EXECUTABLE', `a batch file argument may not contain a line break or NUL: ${JSON.stringify(arg)}`);
  const needs = arg === '' || /[\s"&|<>^(),;=%!`']/.test(arg);
  let body = arg.replace(/"/g, '""').replace(/%/g, '%%cd:~,%');
  if (!needs) return body;
  // A trailing backslash would escape the closing quote for the batch file's own parsing of %1.
  const trail = /\\+$/.exec(body)?.[0] ?? '';
  if (trail) body += trail;
  return `"${body}"`;
}

export interface Win32Command {
  /** lpApplicationName: the program's absolute path (never searched for). */
  application: string;
  /** lpCommandLine. */
  commandLine: string;
  /** How the script is run, for the report: "direct", "cmd.exe", "powershell", "python", "node". */
  via: 'direct' | 'cmd.exe' | 'powershell' | 'python' | 'node';
}

export interface CommandContext {
  /** %SystemRoot%, e.g. C:\Windows. */
  systemRoot: string;
  /** Absolute paths of interpreters found by the host (python.exe, node.exe), when known. */
  python?: string | null;
  node?: string | null;
}

/**
 * The program and command line for one resolved command: `.bat`/`.cmd` through `cmd.exe /d /s /c`,
 * `.ps1` through Windows PowerShell with `-NoProfile -ExecutionPolicy Bypass -File`, `.py` through python,
 * `.js` through node, anything else (an `.exe`) directly. `file` is absolute; `args` are the arguments
 * after the program name.
 */
export function win32Command(file: string, args: string[], ctx: CommandContext): Win32Command {
  const ext = path.win32.extname(file).toLowerCase();
  const sys32 = path.win32.join(ctx.systemRoot, 'System32');
  if (ext === '.bat' || ext === '.cmd') {
    const cmd = path.win32.join(sys32, 'cmd.exe');
    // /d: no AutoRun commands from the registry; /s /c "…": cmd strips exactly the outer quotes.
    const inner = [quoteBatchArg(file), ...args.map(quoteBatchArg)].join(' ');
    return { application: cmd, commandLine: `${quoteArg(cmd)} /d /s /c "${inner}"`, via: 'cmd.exe' };
  }
  if (ext === '.ps1') {
    const ps = path.win32.join(sys32, 'WindowsPowerShell', 'v1.0', 'powershell.exe');
    return { application: ps, commandLine: [ps, '-NoProfile', '-ExecutionPolicy', 'Bypass', '-File', file, ...args].map(quoteArg).join(' '), via: 'powershell' };
  }
  if (ext === '.py' || ext === '.pyw') {
    if (!ctx.python) throw new SandboxError('SCRIPT_NOT_FOUND', `${file}: python.exe not found in PATH`);
    return { application: ctx.python, commandLine: [ctx.python, file, ...args].map(quoteArg).join(' '), via: 'python' };
  }
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
    if (!ctx.node) throw new SandboxError('SCRIPT_NOT_FOUND', `${file}: node.exe not found in PATH`);
    return { application: ctx.node, commandLine: [ctx.node, file, ...args].map(quoteArg).join(' '), via: 'node' };
  }
  return { application: file, commandLine: [file, ...args].map(quoteArg).join(' '), via: 'direct' };
}

/**
 * The UTF-16 environment block (CREATE_UNICODE_ENVIRONMENT): `K=V\0…\0\0`, sorted case-insensitively as
 * Windows expects. Names with `=` (other than the hidden `=C:` drive entries) or NUL are refused.
 */
export function environmentBlock(env: Record<string, string>): Buffer {
  const entries = Object.entries(env).filter(([k]) => k !== '');
  for (const [k, v] of entries) {
    if (k.includes('\0') || v.includes('\0') || (k.indexOf('=', 1) !== -1)) throw new SandboxError('SETUP_FAILED', `environment variable cannot be passed on Windows: ${JSON.stringify(k)}`);
  }
  entries.sort(([a], [b]) => {
    const x = a.toUpperCase();
    const y = b.toUpperCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const text = entries.map(([k, v]) => `${k}=${v}\0`).join('') + '\0';
  return Buffer.from(entries.length ? text : '\0\0', 'utf16le');
}

/** Variables Windows programs need to start at all (Winsock reads SystemRoot, cmd reads ComSpec/PATHEXT): system
 *  facts, no user data, added from the host's own environment when the policy's filter left them out (libuv
 *  does the same for its children). */
export const WINDOWS_REQUIRED_ENV: readonly string[] = ['SystemRoot', 'SystemDrive', 'windir', 'ComSpec', 'PATHEXT'];

/**
 * One entry per name, compared case-insensitively as Windows does: a later entry's value wins and the first
 * spelling is kept, so `Path` from the user and `PATH` from a policy's `set` become one variable, not two
 * (with two, which one a program sees depends on the block's order). Then the required system variables.
 */
export function windowsEnv(env: Record<string, string>, host: Record<string, string | undefined> = {}): Record<string, string> {
  const names = new Map<string, string>();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const u = k.toUpperCase();
    const name = names.get(u) ?? k;
    names.set(u, name);
    out[name] = v;
  }
  for (const req of WINDOWS_REQUIRED_ENV) {
    if (names.has(req.toUpperCase())) continue;
    const hk = Object.keys(host).find((k) => k.toUpperCase() === req.toUpperCase());
    const v = hk ? host[hk] : undefined;
    if (v !== undefined) {
      out[req] = v;
      names.set(req.toUpperCase(), req);
    }
  }
  return out;
}

/**
 * The caller's environment with each name that a policy pattern names literally (case-insensitively) spelled
 * as the pattern: Windows' `Path` passes an allow entry `PATH` (and a deny list cannot be dodged by case).
 * Duplicates that differ only in case collapse to one (the later wins).
 */
export function envNamesForPolicy(env: Record<string, string>, literals: readonly string[]): Record<string, string> {
  const spell = new Map(literals.filter((p) => !/[*?]/.test(p)).map((p) => [p.toUpperCase(), p]));
  const merged = new Map<string, [string, string]>();
  for (const [k, v] of Object.entries(env)) {
    const u = k.toUpperCase();
    const prev = merged.get(u);
    merged.set(u, [spell.get(u) ?? prev?.[0] ?? k, v]);
  }
  return Object.fromEntries([...merged.values()]);
}
