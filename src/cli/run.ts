// script-sandbox run: load the policy layers, open the audit log, run one command in the sandbox and report
// on the terminal (and in --events FILE). git-run uses the same path for the git-script it fetched.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePolicyFile, parseWorkspaceFile, resolvePolicy, validateLayer } from '../policy';
import type { GitScriptSpec } from '../policy/git-script-spec';
import type { PolicyInput, ResolvedPolicy } from '../policy/schema';
import { SandboxError } from '../errors';
import { createEngine, createEngineSoon, type Engine } from '../host/engine';
import type { RunResult } from '../protocol/run-events';
import { AuditLog } from '../audit';
import { Monitor } from '../host/monitor';
import { startRunSession } from '../host/run-session';
import { compileReactions } from '../protocol/run-reactions';
import { parseRunArgs, UsageError } from './args';
import { callerTty } from './caller-tty';
import type { EarlyLauncher } from '../host/launcher-spawn';
import { isLooseningApproved, policyTextDigest } from '../host/loosening-approvals';
import { canonicalFolder } from '../host/canonical-folder';
import { version as PACKAGE_VERSION } from '../../package.json';

const VERSION: string = PACKAGE_VERSION;

export interface LoadedPolicy {
  policy: ResolvedPolicy;
  notes: string[];
  /** The git-scripts the workspace file defines. */
  gitScripts: GitScriptSpec[];
}

/** Layers: defaults < --policy FILE (the user's own) < <workspace>/.vscode/sandbox.json (tighten only) < flags. */
export function loadPolicy(workspace: string, policyFile: string | null, runLayer: PolicyInput): LoadedPolicy {
  const named = path.resolve(workspace);
  if (!fs.existsSync(named) || !fs.statSync(named).isDirectory()) throw new UsageError(`--workspace ${workspace}: not a directory`);
  const ws = canonicalFolder(named);
  const readText = (file: string): string => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new SandboxError('POLICY_INVALID', `${file}: cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
  };
  const user = policyFile ? parsePolicyFile(readText(path.resolve(policyFile)), path.resolve(policyFile)) : undefined;
  const wsFile = path.join(ws, '.vscode', 'sandbox.json');
  const wsText = fs.existsSync(wsFile) ? readText(wsFile) : undefined;
  const wsContent = wsText !== undefined ? parseWorkspaceFile(wsText, wsFile) : undefined;
  // A loosening approved with `script-sandbox approve` (or in the editor) for exactly this text.
  const approvedLoosening = wsText !== undefined && isLooseningApproved(named, policyTextDigest(wsText)); // keyed as `approve` records it
  try {
    return { ...resolvePolicy({ user, workspace: wsContent?.layer, run: runLayer }, { workspace: ws, home: canonicalFolder(os.homedir()), approvedLoosening }), gitScripts: wsContent?.gitScripts ?? [] };
  } catch (e) {
    if (e instanceof SandboxError && e.code === 'POLICY_LOOSENING') {
      throw new SandboxError('POLICY_LOOSENING', `${e.message}. To approve it from a terminal: script-sandbox approve --workspace ${ws}${policyFile ? ` --policy ${policyFile}` : ''}`);
    }
    throw e;
  }
}

export async function cmdRun(argv: string[], early?: EarlyLauncher): Promise<number> {
  const args = parseRunArgs(argv, process.cwd());
  if (!args.command.length) throw new UsageError('run needs a command: script-sandbox run [flags] -- COMMAND');
  const workspace = path.resolve(args.workspace);
  // Usage mistakes are found before the log: opening it creates <workspace>/.sandbox, which turned a mistyped
  // --workspace into a new, empty (and writable) workspace that the run then used.
  if (!fs.existsSync(workspace) || !fs.statSync(workspace).isDirectory()) throw new UsageError(`--workspace ${args.workspace}: not a directory`);
  if (args.policyFile && !fs.existsSync(path.resolve(args.policyFile))) throw new UsageError(`--policy ${args.policyFile}: no such file`);
  try {
    validateLayer(args.layer, 'run flags');
  } catch (e) {
    if (e instanceof SandboxError) throw new UsageError(e.message);
    throw e;
  }
  // The launcher (a second Node start) boots, and the namespace stage is probed, while this process reads its
  // log and policy. An engine that cannot be made here fails again, at the same place as before, once the log
  // is open to record it.
  const enginePromise = createEngineSoon('inherit', { early });
  enginePromise.catch(() => undefined);
  // The audit log opens first, so that a policy that fails to load is recorded too.
  let log: AuditLog;
  try {
    log = await openAuditLog(path.resolve(args.auditFile ?? path.join(workspace, '.sandbox', 'audit.jsonl')), workspace);
  } catch (e) {
    enginePromise.then((en) => en.dispose(), () => undefined);
    throw e;
  }
  let engine: Engine | undefined;
  let failed = false;
  try {
    // Inside the try: a log that refuses its first line (a broken chain: AUDIT_BROKEN) must still dispose the
    // engine, whose early launcher otherwise kept this process alive forever (red team rt21).
    await log.append({ type: 'host_started', component: 'cli', version: VERSION });
    let loaded: LoadedPolicy;
    try {
      loaded = loadPolicy(args.workspace, args.policyFile, args.layer);
    } catch (e) {
      if (e instanceof SandboxError) await log.append({ type: 'policy_error', source: args.policyFile ?? 'run flags', message: e.message });
      throw e;
    }
    const { policy, notes } = loaded;
    log.addSecretPatterns(policy.env.secretPatterns);
    for (const n of notes) process.stderr.write(`script-sandbox: ${n}\n`);
    return await runWithEngine(args, policy, log, undefined, (engine = await enginePromise.catch(() => undefined)));
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    if (engine) engine.dispose();
    else enginePromise.then((en) => en.dispose(), () => undefined);
    // A log that refused a line refuses this one too: an error already on its way is the one to report.
    const stopped = log.append({ type: 'host_stopped', reason: 'cli exit' });
    await stopped.then(() => undefined, () => undefined);
    await log.close();
    if (!failed) await stopped;
  }
}

/** The audit log, or one IO_FAILED line naming the file and the errno (a read-only or full workspace), not a stack trace. */
async function openAuditLog(file: string, workspace: string): Promise<AuditLog> {
  try {
    return await AuditLog.open(file, { workspace });
  } catch (e) {
    if (e instanceof SandboxError || !(e instanceof Error)) throw e;
    const err = e as NodeJS.ErrnoException;
    if (!err.code) throw e;
    const hint = err.code === 'EROFS' || err.code === 'EACCES' || err.code === 'ENOSPC' ? '; pass --audit FILE on a writable file system' : '';
    throw new SandboxError('IO_FAILED', `cannot open the audit log ${file}: ${err.code}${hint}`, { call: err.syscall, errno: typeof err.errno === 'number' ? -err.errno : undefined });
  }
}

export interface RunTarget {
  command: string[];
  cwd: string;
  gitScript?: { repo: string; ref: string; commit: string };
}

export async function runWithEngine(args: ReturnType<typeof parseRunArgs>, policy: ResolvedPolicy, log: AuditLog, target: RunTarget = { command: args.command, cwd: process.cwd() }, given?: Engine): Promise<number> {
  const engine = given ?? createEngine();
  const monitor = new Monitor();
  try {
    const reactions = compileReactions(policy);
    const env = stringEnv(process.env);
    // The caller's terminal stays the script's stdin (typing works), granted by its exact path.
    const tty = callerTty();
    monitor.onAlert((a) => process.stderr.write(`script-sandbox: ALERT (${a.reason}): ${a.message}\n`));
    const { handle, notes, written } = startRunSession(engine, {
      command: target.command,
      cwd: target.cwd,
      policy,
      reactions,
      env,
      stdin: 'inherit',
      inferInterpreter: !!target.gitScript,
      ...(tty ? { callerTty: tty } : {}),
      log,
      ...(target.gitScript ? { gitScript: target.gitScript } : {}),
      monitor,
      eventsFile: args.eventsFile,
      listen: (h) => {
        h.on('stdout', (b) => process.stdout.write(b));
        h.on('stderr', (b) => process.stderr.write(b));
        h.on('limit', (l) => process.stderr.write(`script-sandbox: ${l.action}: ${l.message}\n`));
        h.on('violation', (v) => process.stderr.write(`script-sandbox: ${v.message}\n`));
      },
    });
    for (const n of notes) process.stderr.write(`script-sandbox: ${n}\n`);
    const cancel = () => handle.cancel();
    process.once('SIGINT', cancel);
    process.once('SIGTERM', cancel);
    const r = await handle.wait();
    await written;
    reportEnd(r);
    return r.exitCode;
  } finally {
    monitor.dispose();
    if (!given) engine.dispose();
  }
}

function reportEnd(r: RunResult): void {
  if (r.setupError) {
    process.stderr.write(`script-sandbox: ${r.setupError.message}${r.setupError.call ? ` (${r.setupError.call}${r.setupError.errno ? `, errno ${r.setupError.errno}` : ''})` : ''}\n`);
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
