// The extension's side of the sandbox host: forks `dist/host.js` on first use, validates every message both
// ways with the protocol's zod schemas, routes run events to their sinks, restarts the host when it dies
// (runs in flight are reported as aborted), and shuts it down on dispose.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { ClientMessage, HostMessage } from '../protocol/host';
import type { Violation } from '../policy/violation';

type Msg<T extends HostMessage['type']> = Extract<HostMessage, { type: T }>;
export type RunRequest = Omit<Extract<ClientMessage, { type: 'run' }>, 'type' | 'requestId'>;
export type Accepted = Msg<'accepted'>;
export type Finished = Msg<'finished'>;
export type LimitMsg = Msg<'limit'>;
export type AlertMsg = Msg<'alert'>['alert'];
export type HostError = Msg<'rejected'>['error'];
export type GitFetchRequest = Omit<Extract<ClientMessage, { type: 'gitFetch' }>, 'type' | 'requestId'>;
export type GitFetched = Msg<'gitFetched'>;

/** Receives one run's events, in order. `aborted` replaces `finished` when the host died under the run. */
export interface RunSink {
  started(m: Msg<'started'>): void;
  output(stream: 'stdout' | 'stderr', data: string): void;
  violation(v: Violation): void;
  limit(m: LimitMsg): void;
  finished(m: Finished): void;
  aborted(reason: string): void;
}

/** The host refused a request; `error.code` is a SandboxError code. */
export class HostRejection extends Error {
  constructor(readonly error: HostError) {
    super(`${error.code}: ${error.message}`);
    this.name = 'HostRejection';
  }
}

interface Pending {
  resolve: (m: HostMessage) => void;
  reject: (e: Error) => void;
}

const SHUTDOWN_GRACE_MS = 2000;
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES = 3;

export class HostClient implements vscode.Disposable {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly sinks = new Map<string, RunSink>();
  /** Progress callbacks of git fetches in flight, by request id. */
  private readonly progress = new Map<string, (message: string, percent?: number) => void>();
  private readonly crashes: number[] = [];
  private stderrTail = '';
  private disposed = false;
  private readonly alertEmitter = new vscode.EventEmitter<AlertMsg>();
  /** Alerts raised by the host's runtime monitor. */
  readonly onAlert = this.alertEmitter.event;

  constructor(
    private readonly hostPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Starts a run; resolves when the host accepted it (events then flow to `sink`). */
  async run(req: RunRequest, sink: RunSink): Promise<Accepted> {
    const requestId = randomUUID();
    const reply = await this.request({ type: 'run', requestId, ...req }, requestId);
    if (reply.type !== 'accepted') throw new Error(`host answered a run with "${reply.type}"`);
    this.sinks.set(reply.runId, sink);
    return reply;
  }

  /** Fetches a git-script in the host's sandbox; resolves with the commit and what approving it means. */
  async gitFetch(req: GitFetchRequest, onProgress: (message: string, percent?: number) => void, cancel?: { onCancellationRequested(f: () => void): { dispose(): void } }): Promise<GitFetched> {
    const requestId = randomUUID();
    this.progress.set(requestId, onProgress);
    // Cancelling kills the fetch's git in the host; the reply is then a GIT_FETCH_CANCELLED rejection.
    const sub = cancel?.onCancellationRequested(() => this.send({ type: 'gitFetchCancel', requestId }));
    try {
      const reply = await this.request({ type: 'gitFetch', requestId, ...req }, requestId);
      if (reply.type !== 'gitFetched') throw new Error(`host answered a git fetch with "${reply.type}"`);
      return reply;
    } finally {
      sub?.dispose();
      this.progress.delete(requestId);
    }
  }

  async gitApprove(fetchId: string): Promise<void> {
    const requestId = randomUUID();
    const reply = await this.request({ type: 'gitApprove', requestId, fetchId }, requestId);
    if (reply.type !== 'gitApproved') throw new Error(`host answered an approval with "${reply.type}"`);
  }

  async gitCacheClean(cacheRoot: string): Promise<{ removed: number; bytes: number }> {
    const requestId = randomUUID();
    const reply = await this.request({ type: 'gitCacheClean', requestId, cacheRoot }, requestId);
    if (reply.type !== 'gitCacheCleaned') throw new Error(`host answered a cache clean with "${reply.type}"`);
    return { removed: reply.removed, bytes: reply.bytes };
  }

  cancel(runId: string): void {
    if (this.sinks.has(runId)) this.send({ type: 'cancel', runId });
  }

  /** Keys typed in the terminal of a run started with `terminal`. */
  terminalInput(runId: string, data: string): void {
    if (this.sinks.has(runId) && data) this.send({ type: 'terminalInput', runId, data });
  }

  terminalResize(runId: string, size: { rows: number; cols: number }): void {
    if (this.sinks.has(runId)) this.send({ type: 'terminalResize', runId, size });
  }

  async capabilities(): Promise<unknown> {
    const requestId = randomUUID();
    const reply = await this.request({ type: 'capabilities', requestId }, requestId);
    return reply.type === 'capabilities' ? reply.report : null;
  }

  private request(m: ClientMessage, requestId: string): Promise<HostMessage> {
    return new Promise<HostMessage>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      try {
        this.send(m);
      } catch (e) {
        this.pending.delete(requestId);
        reject(e as Error);
      }
    });
  }

  private send(m: ClientMessage): void {
    // Validated on the way out too: a bug here should name the field, not surface as a host protocol_error.
    const checked = ClientMessage.safeParse(m);
    if (!checked.success) throw new Error(`invalid message for the host: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.ensure().send(checked.data);
  }

  private ensure(): ChildProcess {
    if (this.disposed) throw new Error('Script Sandbox is shutting down');
    if (this.child?.connected) return this.child;
    const now = Date.now();
    while (this.crashes.length && now - this.crashes[0]! > CRASH_WINDOW_MS) this.crashes.shift();
    if (this.crashes.length >= MAX_CRASHES) {
      throw new Error(`the sandbox host crashed ${this.crashes.length} times in the last minute; not restarting it. Last output: ${this.stderrTail.trim().slice(-400) || '(none)'}`);
    }
    // ELECTRON_RUN_AS_NODE: under desktop VS Code execPath is Electron; the host must run as plain Node.
    const child = fork(this.hostPath, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, serialization: 'json' });
    this.child = child;
    this.log.info(`[host] started ${this.hostPath} (pid ${child.pid})`);
    const onData = (d: Buffer) => {
      const s = d.toString('utf8');
      this.stderrTail = (this.stderrTail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.trim()) this.log.info(`[host] ${line}`);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('message', (raw) => this.receive(raw));
    child.on('error', (e) => this.log.error(`[host] ${e.message}`));
    child.on('exit', (code, signal) => this.exited(child, code, signal));
    return child;
  }

  private receive(raw: unknown): void {
    const r = HostMessage.safeParse(raw);
    if (!r.success) {
      this.log.warn(`[host] invalid message ignored: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      return;
    }
    const m = r.data;
    switch (m.type) {
      case 'hello':
        this.log.info(`[host] ready: pid ${m.pid}, version ${m.version}`);
        return;
      case 'gitProgress':
        this.progress.get(m.requestId)?.(m.message, m.percent);
        return;
      case 'accepted':
      case 'capabilities':
      case 'gitFetched':
      case 'gitApproved':
      case 'gitCacheCleaned':
        this.settle(m.requestId, (p) => p.resolve(m));
        return;
      case 'rejected':
        this.settle(m.requestId, (p) => p.reject(new HostRejection(m.error)));
        return;
      case 'started':
        this.sinks.get(m.runId)?.started(m);
        return;
      case 'output':
        this.sinks.get(m.runId)?.output(m.stream, m.data);
        return;
      case 'violation':
        this.sinks.get(m.violation.runId)?.violation(m.violation);
        return;
      case 'limit':
        this.sinks.get(m.runId)?.limit(m);
        return;
      case 'finished': {
        const sink = this.sinks.get(m.runId);
        this.sinks.delete(m.runId);
        sink?.finished(m);
        return;
      }
      case 'alert':
        this.alertEmitter.fire(m.alert);
        return;
      case 'protocol_error':
        this.log.warn(`[host] rejected a message: ${m.message}`);
        return;
    }
  }

  private settle(requestId: string, f: (p: Pending) => void): void {
    const p = this.pending.get(requestId);
    this.pending.delete(requestId);
    if (p) f(p);
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (!this.disposed) {
      this.crashes.push(Date.now());
      this.log.error(`[host] exited unexpectedly (${how}); it restarts on next use`);
    }
    const reason = `the sandbox host exited (${how}); the run was aborted`;
    for (const [id, s] of this.sinks) {
      this.sinks.delete(id);
      s.aborted(reason);
    }
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error(reason));
    }
  }

  /** Asks the host to cancel its runs and exit; kills it if it has not gone after a grace period. */
  dispose(): void {
    this.disposed = true;
    const child = this.child;
    if (child) {
      try {
        if (child.connected) {
          child.send({ type: 'shutdown' } satisfies ClientMessage);
          // Closing the channel is the host's other signal to stop (it also fires when we are killed).
          child.disconnect();
        }
      } catch {
        // the channel is already closed; the host stops on its own
      }
      const t = setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), SHUTDOWN_GRACE_MS);
      t.unref();
      child.once('exit', () => clearTimeout(t));
    }
    this.alertEmitter.dispose();
  }
}
