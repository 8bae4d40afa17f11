// A run's pseudo-terminal, host side: the master of a pty pair the native backend made. The slave's path goes
// into the plan (the launcher makes it the script's terminal) and into the grants (the only /dev/pts entry the
// run may open). Input (keys, Ctrl+C as \x03) is written to the master, where the line discipline turns it
// into input, echo and signals exactly as in a shell; output is read from it in whole UTF-8 characters.
//
// The end of the output is read from the master itself, not taken from the stream: the slave's writes reach
// the master's line discipline through the kernel's flip buffer, at most 4 KiB at a time, and the master
// polls POLLHUP as soon as the slave's last fd is closed. libuv ends a stream at POLLHUP after any short
// read, so a tty stream stops with the rest of a script's last output still queued in the kernel (a CI
// flake: "hi Ada" lost after exit). Only a read that fails EIO says the slave is gone and nothing is left: the
// kernel flushes the flip buffer into the line discipline before it answers EIO.
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
/** One synchronous drain of the master reads at most this much (a pty holds 10-20 KB when its writer waits). */
const MAX_DRAIN_BYTES = 1 << 20;

export class RunTerminal implements RunTerminalPort {
  readonly path: string;
  private readonly master: number;
  private stream: tty.ReadStream;
  private readonly decoder = new StringDecoder('utf8');
  /** Resolves when the output has ended (finishOutput). */
  private readonly closed: Promise<void>;
  private ended: () => void = () => undefined;
  private outputDone = false;
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
    this.closed = new Promise((resolve) => (this.ended = resolve));
    try {
      this.stream = this.startReader();
    } catch (e) {
      calls.close(this.master);
      throw e;
    }
  }

  /**
   * A stream on a duplicate of the master, which it closes at its end. The master itself stays open until the
   * run has ended: closing it hangs the terminal up, and the kernel would SIGHUP a session leader that closed
   * its stdio but is still working (a daemon detaching, a tool's last step).
   */
  private startReader(): tty.ReadStream {
    const reader = this.calls.dup(this.master);
    let stream: tty.ReadStream;
    try {
      // A tty stream reads through libuv without a thread; the master is O_NONBLOCK (writes never block the host).
      stream = new tty.ReadStream(reader);
    } catch (e) {
      this.calls.close(reader);
      throw e;
    }
    stream.on('data', (b: Buffer) => this.emit(this.decoder.write(b)));
    // EIO (the slave's last holder closed it) or libuv's end at POLLHUP: either ends the stream, not the output.
    stream.on('error', () => undefined);
    stream.once('close', () => this.readerClosed(stream));
    return stream;
  }

  /** The stream ended by itself: the rest is read from the master, and reading goes on if the slave is held again. */
  private readerClosed(stream: tty.ReadStream): void {
    // Closed by close(): that drained the master itself, which may be closed (its number reused) by now.
    if (stream !== this.stream || !this.masterOpen) return;
    if (this.drainMaster() === 'open') {
      // EAGAIN: someone holds the slave again (reopened by its path after the last close); keep reading.
      try {
        this.stream = this.startReader();
        return;
      } catch {
        // No fd for another reader: the output ends here.
      }
    }
    this.finishOutput();
  }

  /**
   * Reads what the master has now, synchronously: 'gone' at EIO (or end of file), when the slave has no holder
   * and everything it wrote is read; 'open' at EAGAIN, when a holder may still write. Bounded, so a writer as
   * fast as this loop cannot keep the host in it.
   */
  private drainMaster(): 'gone' | 'open' {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (let total = 0; total < MAX_DRAIN_BYTES; ) {
      let n: number;
      try {
        n = fs.readSync(this.master, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 'open';
        if (code === 'EINTR') continue;
        return 'gone';
      }
      if (n === 0) return 'gone';
      total += n;
      this.emit(this.decoder.write(buf.subarray(0, n)));
    }
    return 'open';
  }

  /** No more output: the decoder's last bytes go out, input has nowhere to go, drained() resolves. */
  private finishOutput(): void {
    if (this.outputDone) return;
    this.outputDone = true;
    this.done = true;
    this.emit(this.decoder.end());
    this.dropPending();
    this.ended();
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

  /**
   * Closes the reading stream, reads what the master still has (the grace ran out with a holder of the slave
   * left: what it wrote until now still goes out), then closes the master, hanging up whatever is left of the
   * session; idempotent.
   */
  close(): void {
    this.dropPending();
    this.done = true;
    if (!this.stream.destroyed) this.stream.destroy();
    if (this.masterOpen) {
      if (!this.outputDone) this.drainMaster();
      this.masterOpen = false;
      this.calls.close(this.master);
    }
    this.finishOutput();
  }
}
