// A real sandbox host (dist/host.js), forked with an IPC channel exactly as the extension's HostClient forks
// it, and a small client that waits for messages by predicate. Shared by the bad-input, fault and load tiers.
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { REPO } from './helpers';

export const HOST = path.join(REPO, 'dist', 'host.js');
export type Msg = Record<string, unknown> & { type: string };

export class HostProcess {
  readonly child: ChildProcess;
  readonly messages: Msg[] = [];
  stderr = '';
  private waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string> = {}) {
    this.child = fork(HOST, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...env }, serialization: 'json' });
    this.child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-8000)));
    this.child.stdout!.on('data', () => undefined);
    this.child.on('message', (m) => this.receive(m as Msg));
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private receive(m: Msg): void {
    this.messages.push(m);
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  /** The next message (from now, or already received when `past`) matching pred; rejects after timeoutMs. */
  waitFor(pred: (m: Msg) => boolean, timeoutMs = 30_000, what = 'a message', past = false): Promise<Msg> {
    if (past) {
      const m = this.messages.find(pred);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: Msg) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`host ${this.pid}: no ${what} within ${timeoutMs} ms (alive: ${this.alive}; stderr: ${this.stderr.slice(-500)})`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  ready(timeoutMs = 30_000): Promise<Msg> {
    return this.waitFor((m) => m.type === 'hello', timeoutMs, 'hello', true);
  }

  send(m: unknown): void {
    this.child.send(m as never);
  }

  /** Starts a run and resolves with its runId once accepted (rejects on a rejection). */
  async run(req: { requestId: string; command: string[]; cwd: string; workspace: string; env?: Record<string, string>; layers?: unknown; auditPath?: string }, timeoutMs = 60_000): Promise<string> {
    this.send({ type: 'run', env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' }, layers: {}, ...req });
    const m = await this.waitFor((x) => (x.type === 'accepted' || x.type === 'rejected') && x.requestId === req.requestId, timeoutMs, `answer to ${req.requestId}`);
    if (m.type === 'rejected') throw new Error(`run ${req.requestId} rejected: ${JSON.stringify(m.error)}`);
    return String(m.runId);
  }

  finished(runId: string, timeoutMs = 60_000): Promise<Msg> {
    return this.waitFor((m) => m.type === 'finished' && m.runId === runId, timeoutMs, `finished of ${runId}`, true);
  }

  output(runId: string): string {
    return this.messages
      .filter((m) => m.type === 'output' && m.runId === runId && m.stream === 'stdout')
      .map((m) => String(m.data))
      .join('');
  }

  /** Shuts down as the extension does (shutdown + disconnect); SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    try {
      this.send({ type: 'shutdown' });
      this.child.disconnect();
    } catch {
      // channel closed
    }
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
