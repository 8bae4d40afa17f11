// script-sandbox git-run: fetch a git-script in the sandbox, ask for approval of its commit (on the
// terminal, or --yes), then run it like `run`, from its read-only checkout. Exit 3 when not approved.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ApprovalStore, cleanGitCache, describeApproval, fetchGitScript, gitScriptRun, parseGitScriptSpec } from '../gitscript';
import type { GitScriptSpec } from '../policy/git-script-spec';
import { AuditLog } from '../audit';
import { createEngine } from '../host/engine';
import { gitSandbox } from '../host/git-sandbox';
import { SandboxError } from '../errors';
import { RUN_SPEC, runArgsFrom, UsageError } from './args';
import { parseCommand, type CommandSpec, type OptionSpec } from './parse';
import { loadPolicy, runWithEngine } from './run';

export const NOT_APPROVED_EXIT = 3;

export function defaultCacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'script-sandbox', 'git');
}

const GIT_OPTIONS: Record<string, OptionSpec> = {
  repo: { type: 'string', value: 'URL', help: 'repository: https://, git://, ssh:// or file://' },
  ref: { type: 'string', value: 'REF', help: 'tag, branch or commit to run' },
  script: { type: 'string', value: 'PATH', help: 'the script inside the repository' },
  name: { type: 'string', value: 'NAME', help: 'a git-script defined in .vscode/sandbox.json (instead of --repo/--ref/--script)' },
  cache: { type: 'string', value: 'DIR', help: 'mirror, checkout and approval cache (default ~/.cache/script-sandbox/git)' },
  yes: { type: 'boolean', short: 'y', help: 'approve a new or changed commit without asking' },
};

export const GIT_RUN_SPEC: CommandSpec = {
  name: 'git-run',
  operands: '[-- ARGS...]',
  summary: 'Fetches a script from git inside the sandbox, asks you to approve its commit, and runs it read-only from its checkout. Exit 3 when not approved.',
  options: { ...GIT_OPTIONS, ...RUN_SPEC.options },
  positionals: 'command',
  notes: RUN_SPEC.notes,
};

export const GIT_CACHE_SPEC: CommandSpec = {
  name: 'git-cache',
  operands: 'clean',
  summary: 'Removes cached mirrors, checkouts and approvals of git-scripts.',
  options: { cache: GIT_OPTIONS.cache! },
  positionals: 'any',
};

function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => rl.question(question, (a) => (rl.close(), resolve(/^y(es)?$/i.test(a.trim())))));
}

export async function cmdGitRun(argv: string[]): Promise<number> {
  const parsed = parseCommand(GIT_RUN_SPEC, argv);
  const git = parsed.values as { repo?: string; ref?: string; script?: string; name?: string; cache?: string; yes?: boolean };
  if (git.name !== undefined && (git.repo || git.ref || git.script)) throw new UsageError('git-run takes either --name or --repo, --ref and --script');
  if (git.name === undefined) for (const f of ['repo', 'ref', 'script'] as const) if (!git[f]) throw new UsageError(`git-run needs --${f} (or --name of a git-script in .vscode/sandbox.json)`);
  const args = runArgsFrom(parsed, process.cwd());
  const cacheRoot = path.resolve(git.cache ?? defaultCacheRoot());
  const workspace = path.resolve(args.workspace);
  const log = await AuditLog.open(path.resolve(args.auditFile ?? path.join(workspace, '.sandbox', 'audit.jsonl')), { workspace });
  await log.append({ type: 'host_started', component: 'cli', version: '0.1.0' });
  const engine = createEngine();
  try {
    const { policy, notes, gitScripts } = loadPolicy(args.workspace, args.policyFile, args.layer);
    for (const n of notes) process.stderr.write(`script-sandbox: ${n}\n`);
    const spec = git.name !== undefined ? namedGitScript(gitScripts, git.name, args.command) : parseGitScriptSpec({ repo: git.repo, ref: git.ref, script: git.script, ...(args.command.length ? { args: args.command } : {}) }, 'git-run');
    const fetched = await fetchGitScript(gitSandbox(engine), spec, {
      cacheRoot,
      // git's per-percent lines are for the editor's progress bar; the CLI prints the stages only.
      onProgress: (m, percent) => percent === undefined && process.stderr.write(`script-sandbox: git: ${m}\n`),
      onViolation: (v) => process.stderr.write(`script-sandbox: git fetch: ${v.message}\n`),
      audit: log,
    });
    const store = ApprovalStore.inCache(cacheRoot);
    const check = await store.check(gitSandbox(engine), fetched, cacheRoot);
    const run = gitScriptRun(fetched, policy, workspace);
    if (check.status !== 'approved') {
      process.stderr.write(`${describeApproval(check, run.policy)}\n`);
      const approved = git.yes || (process.stdin.isTTY ? await ask(`Run this ${check.status === 'new' ? 'new git-script' : 'changed commit'}? [y/N] `) : false);
      if (!approved) {
        process.stderr.write(`script-sandbox: not approved, not run${process.stdin.isTTY ? '' : ' (no terminal to ask on: pass --yes to approve)'}\n`);
        return NOT_APPROVED_EXIT;
      }
      store.approve(fetched);
    }
    return await runWithEngine(args, run.policy, log, { command: run.command, cwd: run.cwd, gitScript: run.gitScript }, engine);
  } catch (e) {
    if (e instanceof SandboxError) await log.append({ type: 'policy_error', source: 'git-run', message: `${e.code}: ${e.message}` }).catch(() => undefined);
    throw e;
  } finally {
    engine.dispose();
    await log.append({ type: 'host_stopped', reason: 'cli exit' });
    await log.close();
  }
}

/** The workspace's git-script of that name; arguments after -- replace its own. */
function namedGitScript(defined: GitScriptSpec[], name: string, command: string[]): GitScriptSpec {
  const spec = defined.find((g) => g.name === name);
  if (!spec) {
    const known = defined.map((g) => g.name).filter(Boolean);
    throw new SandboxError('GIT_SCRIPT_UNKNOWN', `no git-script named "${name}" in .vscode/sandbox.json${known.length ? ` (defined: ${known.join(', ')})` : ' (it defines none under "gitScripts")'}`);
  }
  return command.length ? { ...spec, args: command } : spec;
}

export function cmdGitCache(argv: string[]): number {
  const { values, positionals } = parseCommand(GIT_CACHE_SPEC, argv);
  if (positionals[0] !== 'clean' || positionals.length > 1) throw new UsageError('usage: script-sandbox git-cache clean [--cache DIR]');
  const root = path.resolve((values.cache as string | undefined) ?? defaultCacheRoot());
  const r = fs.existsSync(root) ? cleanGitCache(root) : { removed: 0, bytes: 0 };
  process.stdout.write(`removed ${r.removed} entries (${(r.bytes / 1048576).toFixed(1)} MiB) from ${root}\n`);
  return 0;
}
