// A run as its callers see it: the RunHandle that emits the run's events (started, output, limit, violation,
// finished) and the exit status a run reports.
import { EventEmitter } from 'node:events';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import type { Violation } from '../policy/violation';
import type { LimitEvent, RunResult, RunStarted } from '../protocol/run-events';

export interface RunHandleEvents {
  started: [RunStarted];
  stdout: [Buffer];
  stderr: [Buffer];
  limit: [LimitEvent];
  violation: [Violation];
  finished: [RunResult];
}

export class RunHandle extends EventEmitter<RunHandleEvents> {
  private result: RunResult | null = null;
  private readonly done: Promise<RunResult>;
  /** Writable stdin when requested with stdin: 'pipe'. */
  stdin: NodeJS.WritableStream | null = null;
  cancelImpl: () => void = () => undefined;

  /** performance.now() when the run was requested: the origin of RunResult.phases. */
  readonly requestedAt = performance.now();

  constructor(readonly runId: string) {
    super();
    this.done = new Promise((resolve) => this.once('finished', (r) => resolve(r)));
  }

  /** Kills the whole tree; the run finishes with cancelled = true. */
  cancel(): void {
    this.cancelImpl();
  }

  wait(): Promise<RunResult> {
    return this.result ? Promise.resolve(this.result) : this.done;
  }

  /** Whether the run has its result (its teardown then ran or runs with it). */
  get finished(): boolean {
    return this.result !== null;
  }

  finish(r: RunResult): void {
    if (this.result) return;
    this.result = r;
    this.emit('finished', r);
  }
}

const SIGNAL_NUMBERS = os.constants.signals as Record<string, number>;

export function exitStatusFor(code: number | null, signal: string | null): number {
  if (signal) return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
  return code ?? 125;
}

export function newRunId(): string {
  return `${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
}

/** The exit status of a run that never started: 127 not found, 126 not executable, 125 any other setup failure. */
export function exitForError(code: string): number {
  return code === 'SCRIPT_NOT_FOUND' ? 127 : code === 'SCRIPT_NOT_EXECUTABLE' ? 126 : 125;
}
