// Main-thread side of the seccomp supervisor: one worker thread serves every run. A run's listener is
// taken from its launcher with pidfd_getfd before the script is exec'd, so no notification can go
// unanswered; violations come back as messages and are handed to the run's callback.
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { loadNotifyCalls, type NotifyCalls } from '../../../native/linux/notify';
import type { Violation } from '../../policy/violation';
import type { SupervisedRun, SupervisorControl, SupervisorEvent } from './supervisor-protocol';

export interface Supervision {
  /** Resolves once every violation the worker saw so far has been delivered. */
  flush(): Promise<void>;
  detach(): void;
}

interface RunHooks {
  onViolation(v: Violation): void;
  onError(message: string): void;
}

/** How long a stopped supervisor worker may take to leave its loop (one poll wakes it at once). */
const STOP_GRACE_MS = 3000;

export class Supervisor {
  private readonly n: NotifyCalls;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly wake: [number, number];
  private readonly hooks = new Map<string, RunHooks>();
  private readonly syncs = new Map<number, () => void>();
  /**
   * Runs whose listener hung up (no process left under their filter), with the flushes waiting for that.
   * The worker posts 'hup' after every violation of the run, in order, and nothing of the run can follow it,
   * so a flush after the hup needs no round trip to the worker.
   */
  private readonly hups = new Map<string, Array<() => void> | 'hup'>();
  private nextToken = 1;
  private disposed = false;

  constructor(workerPath: string, syscallNames: Record<number, string>) {
    this.n = loadNotifyCalls();
    this.wake = this.n.pipe();
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(workerPath, {
      workerData: { kind: 'script-sandbox-supervisor', control: port2, wakeFd: this.wake[0], names: syscallNames },
      transferList: [port2],
    });
    this.worker.on('message', (m: SupervisorEvent | { type: 'synced'; token: number }) => this.onMessage(m));
    this.worker.on('error', (e) => {
      for (const h of this.hooks.values()) h.onError(`supervisor worker failed: ${e.message}`);
    });
    this.worker.unref();
  }

  private send(m: SupervisorControl | { type: 'sync'; token: number }): void {
    this.port.postMessage(m);
    this.n.poke(this.wake[1]);
  }

  private onMessage(m: SupervisorEvent | { type: 'synced'; token: number }): void {
    if (m.type === 'violation') this.hooks.get(m.violation.runId)?.onViolation(m.violation);
    else if (m.type === 'error') this.hooks.get(m.runId)?.onError(m.message);
    else if (m.type === 'hup') {
      const waiting = this.hups.get(m.runId);
      if (!this.hooks.has(m.runId)) return; // detached already
      this.hups.set(m.runId, 'hup');
      if (Array.isArray(waiting)) for (const w of waiting) w();
    } else if (m.type === 'synced') {
      this.syncs.get(m.token)?.();
      this.syncs.delete(m.token);
    }
  }

  /** Takes the listener `fd` from the launcher `pid` and starts answering its notifications. */
  attach(pid: number, fd: number, run: Omit<SupervisedRun, 'listener'>, hooks: RunHooks): Supervision {
    const pidfd = this.n.pidfdOpen(pid);
    let listener: number;
    try {
      listener = this.n.pidfdGetfd(pidfd, fd);
    } finally {
      this.n.close(pidfd);
    }
    this.hooks.set(run.runId, hooks);
    // While a run is attached the worker keeps the process alive (a pending flush must be answered).
    this.worker.ref();
    this.send({ type: 'add', run: { ...run, listener } });
    return {
      flush: () =>
        new Promise<void>((resolve) => {
          if (this.disposed) return resolve();
          const hup = this.hups.get(run.runId);
          if (hup === 'hup') return resolve();
          // Whichever comes first: the hup (every violation is in) or the worker's answer to this sync.
          if (hup) hup.push(resolve);
          else this.hups.set(run.runId, [resolve]);
          const token = this.nextToken++;
          this.syncs.set(token, resolve);
          this.send({ type: 'sync', token });
        }),
      detach: () => {
        this.hooks.delete(run.runId);
        this.hups.delete(run.runId);
        if (!this.hooks.size) this.worker.unref();
        if (!this.disposed) this.send({ type: 'remove', runId: run.runId });
      },
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.send({ type: 'stop' });
    for (const r of this.syncs.values()) r();
    this.syncs.clear();
    // The worker leaves its loop at the poke above. Terminating it instead could land while it is inside a
    // native call (poll, up to 1 s): koffi then throws into a terminating isolate, which is a fatal error that
    // takes the whole host down (seen once in CI). So it is kept alive until it has left on its own, and the
    // wake pipe it polls is closed after that; terminate only if it has not left within a few seconds.
    this.worker.ref();
    const force = setTimeout(() => void this.worker.terminate(), STOP_GRACE_MS);
    force.unref();
    this.worker.once('exit', () => {
      clearTimeout(force);
      this.n.close(this.wake[0]);
      this.n.close(this.wake[1]);
    });
  }
}
