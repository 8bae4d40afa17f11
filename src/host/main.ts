// The sandbox host: a long-lived Node process forked by the extension. It validates every message, runs
// scripts through the runner and streams events back. A bad message gets a protocol_error, never a crash.
import * as os from 'node:os';
import { resolvePolicy } from '../policy';
import { parseClientMessage, type ClientMessage, type HostMessage } from '../protocol/host';
import { SandboxError } from '../errors';
import { createEngine } from './engine';
import type { RunHandle } from './run-handle';
import { Monitor, type Alert } from './monitor';
import { AuditLog } from '../audit';
import { startRunSession } from './run-session';
import { compileReactions } from '../protocol/run-reactions';
import { GitRequests } from './git-requests';
import { RunTerminal } from './run-terminal';
import { canonicalFolder } from './canonical-folder';

function send(m: HostMessage): void {
  process.send?.(m);
}

function main(): void {
  if (!process.send) {
    process.stderr.write('script-sandbox host: must be started with an IPC channel (by the extension)\n');
    process.exit(2);
  }
  // Pre-warmed launchers: a run from the editor should not pay for starting Node.
  const engine = createEngine({ pool: 2 });
  const runs = new Map<string, RunHandle>();
  const terminals = new Map<string, RunTerminal>();
  // One monitor across runs (the alert window spans runs); rebuilt when a run asks for another rule.
  let monitor: { rule: string; m: Monitor } | null = null;
  const monitorFor = (rule: { threshold: number; windowMs: number; criticalAtOnce: boolean } | undefined): Monitor => {
    const key = JSON.stringify(rule ?? {});
    if (monitor?.rule !== key) {
      const m = new Monitor(rule ?? {});
      m.onAlert((alert: Alert) => send({ type: 'alert', alert }));
      monitor = { rule: key, m };
    }
    return monitor.m;
  };
  // Audit logs by file, opened on first use and kept open: several windows may share one (the log locks).
  // The folders below the workspace are opened without following links (AUDIT_UNSAFE_PATH otherwise).
  const audits = new Map<string, Promise<AuditLog>>();
  const auditFor = (file: string, workspace: string): Promise<AuditLog> => {
    let p = audits.get(file);
    if (!p) {
      p = AuditLog.open(file, { workspace });
      p.catch(() => audits.delete(file));
      audits.set(file, p);
    }
    return p;
  };
  const git = new GitRequests(engine, send, auditFor);
  const closeAudits = () => Promise.all([...audits.values()].map((p) => p.then((l) => l.close()).catch(() => undefined)));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    try {
      for (const h of runs.values()) h.cancel();
      engine.dispose();
    } catch (e) {
      // Exiting matters more than a clean dispose: a host that stays up keeps runs alive.
      process.stderr.write(`script-sandbox host: shutdown: ${(e as Error)?.message ?? e}\n`);
    }
    // Give the logs a moment to take the runs' last records; never hang on them.
    void Promise.race([closeAudits(), new Promise((r) => setTimeout(r, 1500))]).then(() => process.exit(0));
  };

  const startRun = async (m: Extract<ClientMessage, { type: 'run' }>): Promise<void> => {
    let terminal: RunTerminal | null = null;
    try {
      const resolved = resolvePolicy(m.layers, { workspace: canonicalFolder(m.workspace), home: canonicalFolder(os.homedir()), approvedLoosening: m.approvedLoosening });
      const notes = resolved.notes;
      // A git-script: the host sets command, cwd and the checkout's read-only policy, after checking approval.
      const gitRun = m.gitFetchId ? await git.prepareRun(m.gitFetchId, resolved.policy, m.workspace) : null;
      const policy = gitRun?.policy ?? resolved.policy;
      const command = gitRun?.command ?? m.command;
      const cwd = gitRun?.cwd ?? m.cwd;
      const reactions = compileReactions(policy);
      // The log is open before the run starts, so its first record is run_started. In enforce mode nothing
      // runs unrecorded: a log that cannot be opened (e.g. a planted `.sandbox` link) refuses the run; in
      // warn mode the run goes ahead and says so.
      let log: AuditLog | null = null;
      if (m.auditPath) {
        try {
          log = await auditFor(m.auditPath, m.workspace);
        } catch (e) {
          if (reactions.unkeptPromise === 'refuse') throw e instanceof SandboxError ? e : new SandboxError('IO_FAILED', `audit log ${m.auditPath}: ${(e as Error).message}`);
          notes.push(`audit log ${m.auditPath} could not be opened, this run is not recorded: ${(e as Error).message}`);
        }
      }
      terminal = m.terminal ? openTerminal(engine, m.terminal.size) : null;
      const session = startRunSession(engine, {
        command,
        cwd,
        policy,
        reactions,
        env: m.env,
        inferInterpreter: m.inferInterpreter,
        interpreters: m.interpreters,
        ...(terminal ? { terminal } : {}),
        log,
        ...(gitRun ? { gitScript: gitRun.gitScript } : {}),
        monitor: monitorFor(m.alerts),
        listen: (h) => {
          h.on('started', (s) => send({ type: 'started', ...s }));
          h.on('stdout', (b) => send({ type: 'output', runId: h.runId, stream: 'stdout', data: b.toString('utf8') }));
          h.on('stderr', (b) => send({ type: 'output', runId: h.runId, stream: 'stderr', data: b.toString('utf8') }));
          h.on('violation', (v) => send({ type: 'violation', violation: v }));
          h.on('limit', (l) => send({ type: 'limit', runId: h.runId, ...l }));
          h.once('finished', (r) => {
            runs.delete(h.runId);
            terminals.get(h.runId)?.close();
            terminals.delete(h.runId);
            send({ type: 'finished', ...r });
          });
        },
      });
      const h = session.handle;
      notes.push(...session.notes);
      runs.set(h.runId, h);
      if (terminal) terminals.set(h.runId, terminal);
      send({ type: 'accepted', requestId: m.requestId, runId: h.runId, policy, notes });
      const file = m.auditPath;
      session.written.catch((e) => process.stderr.write(`audit log ${file}: ${(e as Error).message}\n`));
    } catch (e) {
      if (terminal && ![...terminals.values()].includes(terminal)) terminal.close();
      const err = e instanceof SandboxError ? e : new SandboxError('SETUP_FAILED', String((e as Error)?.message ?? e));
      send({ type: 'rejected', requestId: m.requestId, error: err.toData() });
    }
  };

  process.on('message', (raw: unknown) => {
    let m: ClientMessage;
    try {
      m = parseClientMessage(raw);
    } catch (e) {
      send({ type: 'protocol_error', message: (e as Error).message });
      return;
    }
    switch (m.type) {
      case 'run':
        void startRun(m);
        break;
      case 'cancel':
        runs.get(m.runId)?.cancel();
        break;
      case 'terminalInput':
        terminals.get(m.runId)?.write(m.data);
        break;
      case 'terminalResize':
        terminals.get(m.runId)?.resize(m.size);
        break;
      case 'capabilities':
        send({ type: 'capabilities', requestId: m.requestId, report: engine.capabilities() });
        break;
      case 'gitFetch':
        void git.fetch(m);
        break;
      case 'gitFetchCancel':
        git.cancel(m);
        break;
      case 'gitApprove':
        git.approve(m);
        break;
      case 'gitCacheClean':
        git.clean(m);
        break;
      case 'shutdown':
        stop();
    }
  });
  // The extension is our parent; when the channel closes, take every run down with us.
  process.on('disconnect', stop);
  // Killed with its window's process group (code-server, a closing desktop window): Node would exit at once
  // and leave the runs' grandchildren orphaned; take the trees down first.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, stop);
  send({ type: 'hello', pid: process.pid, version: '0.1.0' });
}

/** A run's pseudo-terminal, or a typed error where the backend has none. */
function openTerminal(engine: ReturnType<typeof createEngine>, size: { rows: number; cols: number }): RunTerminal {
  const ptys = engine.ptys;
  if (!ptys) throw new SandboxError('PLATFORM_UNSUPPORTED', 'runs in a terminal are not available on this platform');
  return new RunTerminal(ptys, size);
}

main();
