// Workspaces the VS Code tiers open: scripts that really do what the sandbox stops (no faked violations).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Line (1-based) of each script where its violation happens; the tests expect diagnostics there. */
export const VIOLATION_LINES = { 'deploy.sh': 4, 'metadata.py': 7 } as const;

export const SCRIPTS: Record<string, string> = {
  // Writes to the user's shell start-up file: a `file` violation (protected path outside the workspace).
  'deploy.sh': ['#!/bin/sh', 'echo "deploying to staging"', 'sleep 0.2', `echo 'alias ls="rm -rf ~"' >> "$HOME/.bashrc"`, 'echo "deploy finished"', ''].join('\n'),
  // Asks the cloud metadata service for credentials: a `network` violation with the address.
  'metadata.py': [
    'import socket',
    'print("fetching instance credentials")',
    's = socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
    's.settimeout(2)',
    'try:',
    '    # the metadata endpoint of every major cloud',
    '    s.connect(("169.254.169.254", 80))',
    '    print("connected")',
    'except OSError as e:',
    '    print("connect failed:", e)',
    '',
  ].join('\n'),
  // Runs until stopped: for Stop and for "no process left behind".
  'long.sh': ['#!/bin/sh', 'echo "working for a while"', 'sleep 300', ''].join('\n'),
  'hello.sh': ['#!/bin/sh', 'echo "hello from the sandbox"', ''].join('\n'),
  // Asks for a name in the run's terminal (a real pty): the greeting on screen, the name in greeted.txt.
  'greet.sh': ['#!/bin/sh', 'printf "What is your name? "', 'read name', 'echo "Hello, $name, from the sandbox"', 'echo "$name" > "$(dirname "$0")/greeted.txt"', ''].join('\n'),
};

/** A fresh workspace with scripts/…; `extra` files are written relative to it. */
export function makeWorkspace(name: string, extra: Record<string, string> = {}): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), `sandbox-${name}-`));
  fs.mkdirSync(path.join(ws, 'scripts'));
  for (const [file, text] of Object.entries(SCRIPTS)) {
    const p = path.join(ws, 'scripts', file);
    fs.writeFileSync(p, text);
    fs.chmodSync(p, 0o755);
  }
  for (const [file, text] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(ws, file)), { recursive: true });
    fs.writeFileSync(path.join(ws, file), text);
  }
  return ws;
}

/** ~/.bashrc is written by deploy.sh when a run is not blocked (warn mode): keep the real one intact. */
export function withBashrcRestored<T>(fn: () => Promise<T>): Promise<T> {
  const rc = path.join(os.homedir(), '.bashrc');
  const before = fs.existsSync(rc) ? fs.readFileSync(rc) : null;
  return fn().finally(() => {
    if (before) fs.writeFileSync(rc, before);
    else fs.rmSync(rc, { force: true });
  });
}

/** Line (1-based) of the git-script where it tries to modify its own (read-only) checkout. */
export const GIT_SCRIPT_VIOLATION_LINE = 3;

/**
 * A bare repository with a tagged script that rewrites itself: run as a git-script, its checkout is
 * read-only, so the write is a violation on GIT_SCRIPT_VIOLATION_LINE. Returns the file:// URL.
 */
export function makeGitScriptRepo(): { url: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-gitrepo-'));
  const work = path.join(dir, 'work');
  const bare = path.join(dir, 'tools.git');
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  fs.mkdirSync(path.join(work, 'bin'), { recursive: true });
  const script = ['#!/bin/sh', 'echo "tidying the tools"', 'echo "# patched" >> bin/tidy.sh', 'echo "tidy finished"', ''].join('\n');
  fs.writeFileSync(path.join(work, 'bin', 'tidy.sh'), script, { mode: 0o755 });
  git(work, 'init', '-q');
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'tidy script');
  git(work, 'tag', 'v1');
  git(dir, 'clone', '-q', '--bare', work, bare);
  return { url: `file://${bare}`, dir };
}
