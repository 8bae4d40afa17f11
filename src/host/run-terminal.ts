// A run's pseudo-terminal, host side: the master of a pty pair the native backend made. The slave's path goes
// into the plan (the launcher makes it the script's terminal) and into the grants (the only /dev/pts entry the
// run may open). Input (keys, Ctrl+C as \x03) is written to the master, where the line discipline turns it
// into input, echo and signals exactly as in a shell; output is read from it in whole UTF-8 characters.
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { StringDecoder } from 'node:string_decoder';
import type { PtyCalls, TerminalSize } from '../../native/backend';

/** What the runner needs of a run's terminal (see RunRequest.terminal). */
export interface RunTerminalPort {
  /** The slave (`/dev/pts/N`): granted to the run and attached by the launcher as the script's terminal. */
  readonly path: string;
  /** Receives the script's output; the runner forwards it as the run's stdout. */
  onOutput(cb: (b: Buffer) => void): void;
  /** Resolves when every holder of the slave is gone and the output is read, or after graceMs. */
  drained(graceMs: number): Promise<void>;
}

/** Input not yet accepted by the terminal (the script is not reading); beyond this it is dropped. */
const MAX_PENDING_INPUT = 1 << 20;
const RETRY_MS = 20;

export class RunTerminal implements RunTerminalPort {
  readonly path: string;
  private readonly master: number;
  private readonly stream: tty.ReadStream;
  private readonly decoder = new StringDecoder('utf8');
  private readonly closed: Promise<void>;
  private sink: ((b: Buffer) => void) | null = null;
  private early: Buffer[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private retry: NodeJS.Timeout | null = null;
  private done = false;
  private masterOpen = true;

  constructor(
    private readonly calls: PtyCalls,
    size: TerminalSize,
  ) {
    const pair = calls.open(size);
    this.master = pair.master;
    this.path = pair.slave;
    let reader = -1;
    try {
      // The stream reads a duplicate and closes it at EIO (the slave's last fd closed). The master itself stays
      // open until the run has ended: closing it hangs the terminal up, and the kernel would SIGHUP a session
      // leader that closed its stdio but is still working (a daemon detaching, a tool's last step).
      reader = calls.dup(this.master);
      // A tty stream reads through libuv without a thread; the master is O_NONBLOCK (writes never block the host).
      this.stream = new tty.ReadStream(reader);
    } catch (e) {
      if (reader >= 0) calls.close(reader);
      calls.close(this.master);
      throw e;
    }
    this.closed = new Promise((resolve) => this.stream.once('close', () => resolve()));
    this.stream.on('data', (b: Buffer) => this.emit(this.decoder.write(b)));
    // EIO: the last holder of the slave closed it (the script and its tree are gone). It ends the stream.
    this.stream.on('error', () => undefined);
    this.stream.once('close', () => {
      this.done = true;
      this.emit(this.decoder.end());
      this.dropPending();
    });
  }

  private emit(s: string): void {
    if (!s) return;
    const b = Buffer.from(s, 'utf8');
    if (this.sink) this.sink(b);
    else this.early.push(b);
  }

  onOutput(cb: (b: Buffer) => void): void {
    this.sink = cb;
    for (const b of this.early.splice(0)) cb(b);
  }

  /** Typed input; queued while the terminal's input buffer is full. */
  write(data: string | Buffer): void {
    if (this.done) return;
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!b.length) return;
    if (this.pendingBytes + b.length > MAX_PENDING_INPUT) return;
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.flush();
  }

  private flush(): void {
    while (this.pending.length && !this.done) {
      const b = this.pending[0]!;
      let n: number;
      try {
        n = fs.writeSync(this.master, b);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          this.retry ??= setTimeout(() => {
            this.retry = null;
            this.flush();
          }, RETRY_MS);
          return;
        }
        // EIO and friends: nobody holds the slave any more; input has nowhere to go.
        this.dropPending();
        return;
      }
      this.pendingBytes -= n;
      if (n < b.length) this.pending[0] = b.subarray(n);
      else this.pending.shift();
    }
  }

  private dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  resize(size: TerminalSize): void {
    if (this.done) return;
    try {
      this.calls.resize(this.master, size);
    } catch {
      // The terminal is closing; a late resize has nothing left to apply to.
    }
  }

  drained(graceMs: number): Promise<void> {
    return Promise.race([this.closed, new Promise<void>((r) => setTimeout(r, graceMs).unref())]).then(() => this.close());
  }

  /** Closes the reading stream and then the master (hanging up whatever is left of the session); idempotent. */
  close(): void {
    this.dropPending();
    this.done = true;
    if (!this.stream.destroyed) this.stream.destroy();
    if (this.masterOpen) {
      this.masterOpen = false;
      this.calls.close(this.master);
    }
  }
}
