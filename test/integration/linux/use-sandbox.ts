// Test fixtures shared by the integration suites: a fresh sandbox per test (workspace, fake HOME with a
// planted secret, a folder outside both; optionally a git repository), the workspace's audit log, a snapshot
// of a folder to compare before and after an attack, and the probes a test skips on. Each `use…` registers
// its beforeEach/afterEach in the enclosing describe and returns an object that reads the current test's
// values, so closures written at describe level see the sandbox of the test that runs them.
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeSandbox, runCli, type CliResult, type Sandbox } from './helpers';

export interface SandboxOptions {
  /** `git init` the workspace (the test is skipped where git is missing). */
  git?: boolean;
  /** More set-up once the sandbox (and repository) exist. */
  setup?: (sb: Sandbox) => void;
}

/** Both filesystem tiers, for tests that run each case in each: the namespace tier and the fallback tier. */
export const TIERS = [
  ['namespace tier', {}],
  ['fallback tier', { SCRIPT_SANDBOX_NAMESPACES: '0' }],
] as const;

/** A fresh sandbox for each test of the enclosing describe, removed after it. */
export function useSandbox(opts: SandboxOptions = {}): Sandbox {
  let current: Sandbox | null = null;
  beforeEach(function () {
    if (opts.git && !hasTool('git')) this.skip(); // the workspace is a git repository
    current = makeSandbox();
    if (opts.git) execFileSync('git', ['init', '-q', current.workspace]);
    opts.setup?.(current);
  });
  afterEach(() => {
    current?.cleanup();
    current = null;
  });
  const now = (): Sandbox => {
    if (!current) throw new Error('useSandbox: the sandbox exists only while a test runs');
    return current;
  };
  return {
    get root() {
      return now().root;
    },
    get workspace() {
      return now().workspace;
    },
    get home() {
      return now().home;
    },
    get outside() {
      return now().outside;
    },
    cleanup: () => now().cleanup(),
  };
}

export interface AuditFile {
  /** The workspace's audit log, `<workspace>/.sandbox/audit.jsonl`. */
  readonly path: string;
  /** Its non-empty lines (throws when there is no file: a run that started always records). */
  lines(): string[];
  /** Its records, parsed. */
  records(): Array<Record<string, any>>;
  /** `script-sandbox audit verify` on it, with the sandbox's HOME (where the key is). */
  verify(): Promise<CliResult>;
}

/** The audit log of the sandbox's workspace. */
export function useAuditFile(sb: Sandbox): AuditFile {
  const file = () => path.join(sb.workspace, '.sandbox', 'audit.jsonl');
  const lines = () => fs.readFileSync(file(), 'utf8').split('\n').filter(Boolean);
  return {
    get path() {
      return file();
    },
    lines,
    records: () => lines().map((l) => JSON.parse(l) as Record<string, any>),
    verify: () => runCli(['audit', 'verify', file()], { home: sb.home }),
  };
}

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * A C program (an attack, a probe) compiled once for the enclosing describe, in a folder every user can
 * read, removed after it. `bin` stays null without gcc (or a tool in `needs`): the tests skip; a program
 * that does not compile fails the suite instead.
 */
export function useCompiledC(name: string, source: string, needs: string[] = []): { readonly bin: string | null } {
  let dir = '';
  let bin: string | null = null;
  before(function () {
    if (!['gcc', ...needs].every(hasTool)) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, `${name}.c`), source);
    const r = spawnSync('gcc', ['-O0', '-o', path.join(dir, name), path.join(dir, `${name}.c`), '-pthread'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name}.c does not compile: ${r.stderr}`);
    bin = path.join(dir, name);
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get bin() {
      return bin;
    },
  };
}

const UNSHARE = '/usr/bin/unshare';

/** Why the namespace stage cannot run here (the same command the engine uses, tried once), or null. */
export function userNamespacesProblem(): string | null {
  if (!fs.existsSync(UNSHARE)) return 'no util-linux unshare';
  if (!fs.existsSync('/usr/bin/perl')) return 'no perl (the namespace init)';
  const r = spawnSync(UNSHARE, ['--user', '--map-current-user', '--keep-caps', '--mount', '--pid', '--fork', '--mount-proc', '--', '/bin/true'], { stdio: 'ignore' });
  return r.status === 0 ? null : `user namespaces refused for uid ${process.getuid?.()}`;
}

/**
 * Every entry below `dir` (minus `skip` names directly under it): path, type, mode, owner, content hash;
 * `<missing>` when `dir` is gone. Compare a snapshot from before an attack with one from after it.
 */
export function treeSnapshot(dir: string, skip: readonly string[] = []): string[] {
  if (!fs.existsSync(dir)) return ['<missing>'];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      if (d === dir && skip.includes(name)) continue;
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? `l->${fs.readlinkSync(p)}` : st.isFile() ? 'f' : 'other';
      const hash = st.isFile() ? crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 16) : '';
      out.push(`${path.relative(dir, p)} ${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid} ${hash}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * The start of the python attack scripts: `attempt(name, f)` records `<name>: ALLOWED` when `f` succeeds and
 * `<name>: denied (<reason>)` when it raises OSError; `write(p, data, mode)` writes a file (a hook by default).
 * The script then prints `'\n'.join(results)`; a test fails on any ALLOWED line.
 */
export const ATTEMPT_PY = String.raw`
import os
results = []
def attempt(name, f):
    try:
        f()
        results.append(name + ': ALLOWED')
    except OSError as e:
        results.append(name + ': denied (' + (os.strerror(e.errno) if e.errno else str(e)) + ')')
def write(p, data='#!/bin/sh\necho pwned\n', mode='w'):
    with open(p, mode) as fh:
        fh.write(data)
`;
