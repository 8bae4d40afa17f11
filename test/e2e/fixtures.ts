// Workspaces the VS Code tiers open: scripts that really do what the sandbox stops (no faked violations).
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
