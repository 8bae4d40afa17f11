// script-sandbox approve: records, from a terminal, the approval the extension asks for when a workspace's
// .vscode/sandbox.json loosens your policy (host/loosening-approvals.ts; the extension honours it too). Shows
// what loosens, asks y/N on a terminal (or --yes), and ties the approval to the file's exact text.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parsePolicyFile, parseWorkspaceFile, resolvePolicy } from '../policy';
import { SandboxError } from '../errors';
import { isLooseningApproved, policyTextDigest, recordLooseningApproval } from '../host/loosening-approvals';
import { COMMON_RUN_OPTIONS } from './args';
import { parseCommand, UsageError, type CommandSpec } from './parse';

export const NOT_APPROVED_EXIT = 3;

export const APPROVE_SPEC: CommandSpec = {
  name: 'approve',
  summary: "Approves a workspace policy file (.vscode/sandbox.json) that loosens your policy, for this exact file content (an edit needs a new approval). Exit 3 when not approved.",
  options: {
    workspace: COMMON_RUN_OPTIONS.workspace!,
    policy: COMMON_RUN_OPTIONS.policy!,
    yes: { type: 'boolean', short: 'y', help: 'approve without asking' },
  },
  positionals: 'none',
};

export async function cmdApprove(argv: string[]): Promise<number> {
  const v = parseCommand(APPROVE_SPEC, argv).values as { workspace?: string; policy?: string; yes?: boolean };
  const ws = path.resolve(v.workspace ?? process.cwd());
  if (!fs.existsSync(ws) || !fs.statSync(ws).isDirectory()) throw new UsageError(`--workspace ${v.workspace ?? ws}: not a directory`);
  const file = path.join(ws, '.vscode', 'sandbox.json');
  if (!fs.existsSync(file)) throw new UsageError(`${file}: no workspace policy file, nothing to approve`);
  const text = fs.readFileSync(file, 'utf8');
  const digest = policyTextDigest(text);
  const user = v.policy ? parsePolicyFile(fs.readFileSync(path.resolve(v.policy), 'utf8'), path.resolve(v.policy)) : undefined;
  const content = parseWorkspaceFile(text, file);
  let why: string;
  try {
    resolvePolicy({ user, workspace: content.layer }, { workspace: ws, home: os.homedir() });
    process.stdout.write(`${file} does not loosen your policy: nothing to approve.\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof SandboxError) || e.code !== 'POLICY_LOOSENING') throw e;
    why = e.message;
  }
  if (isLooseningApproved(ws, digest)) {
    process.stdout.write(`${file}: already approved (this exact content).\n`);
    return 0;
  }
  process.stderr.write(`${why}\n`);
  const ok = v.yes || (process.stdin.isTTY ? await ask('Approve this loosening for this workspace, until the file changes? [y/N] ') : false);
  if (!ok) {
    process.stderr.write(`script-sandbox: not approved${process.stdin.isTTY ? '' : ' (no terminal to ask on: pass --yes to approve)'}\n`);
    return NOT_APPROVED_EXIT;
  }
  recordLooseningApproval(ws, digest);
  process.stdout.write(`approved: runs in ${ws} may use ${file} as it is now (sha256 ${digest.slice(0, 12)}…).\n`);
  return 0;
}

function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => rl.question(question, (a) => (rl.close(), resolve(/^y(es)?$/i.test(a.trim())))));
}
