// Keys and window size of a run in a pseudo-terminal, between VS Code's Pseudoterminal (RunTerminal) and the
// host's pty. Keys go to the host as they are typed: the terminal's line discipline does echo, line editing,
// Ctrl+C (SIGINT), Ctrl+D (end of input) and Ctrl+Z, as in a shell. No vscode import: the logic is testable.

export interface TerminalSize {
  rows: number;
  cols: number;
}

/** The host side of one run's terminal, known once the host accepted the run. */
export interface HostTerminalLink {
  input(data: string): void;
  resize(size: TerminalSize): void;
}

/** Keys typed before the host accepted the run; beyond this they are dropped (nobody types that much). */
const MAX_QUEUED = 64 * 1024;
const DEFAULT_SIZE: TerminalSize = { rows: 24, cols: 80 };

export class TerminalRelay {
  private link: HostTerminalLink | null = null;
  private queued = '';
  private size: TerminalSize | null = null;
  private interrupted = false;
  private ended = false;

  /** The size to ask for in the run request: VS Code's, once it gave one (open, setDimensions). */
  requestSize(): TerminalSize {
    return this.size ?? DEFAULT_SIZE;
  }

  get connected(): boolean {
    return this.link !== null;
  }

  setSize(d: { rows: number; columns: number } | undefined): void {
    if (!d || d.rows < 1 || d.columns < 1) return;
    this.size = { rows: Math.floor(d.rows), cols: Math.floor(d.columns) };
    this.link?.resize(this.size);
  }

  connect(link: HostTerminalLink): void {
    if (this.ended) return;
    this.link = link;
    if (this.size) link.resize(this.size);
    if (this.queued) link.input(this.queued);
    this.queued = '';
  }

  input(data: string): void {
    if (this.ended) return;
    if (data.includes('\x03')) this.interrupted = true;
    if (this.link) this.link.input(data);
    else if (this.queued.length + data.length <= MAX_QUEUED) this.queued += data;
  }

  end(): void {
    this.ended = true;
    this.link = null;
    this.queued = '';
  }

  /** The user pressed Ctrl+C and the script then ended by SIGINT (or a shell's 130): the user stopped it. */
  stoppedByInterrupt(f: { signal: string | null; exitCode: number }): boolean {
    return this.interrupted && (f.signal === 'SIGINT' || f.exitCode === 130);
  }
}
