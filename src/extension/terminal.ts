// A run's terminal: the script's output live (colors pass through), violations as highlighted lines the
// moment they arrive, and how the run ended. Ctrl+C or closing the terminal stops the run (whole tree).
import * as vscode from 'vscode';
import type { Violation } from '../policy/violation';
import type { Finished } from './host-client';
import { TerminalRelay } from './run-pseudoterminal';

const ESC = '\x1b[';
const RESET = `${ESC}0m`;
const DIM = `${ESC}2m`;
const BOLD = `${ESC}1m`;
const RED_BG = `${ESC}97;41m`;
const YELLOW_BG = `${ESC}30;43m`;
const RED = `${ESC}31m`;
const GREEN = `${ESC}32m`;
const YELLOW = `${ESC}33m`;

/** Terminals want CRLF; scripts write LF. */
function crlf(s: string): string {
  return s.replace(/\r?\n/g, '\r\n');
}

export class RunTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  /** Written before the terminal opened; VS Code drops writes until open(). */
  private buffer: string[] | null = [];
  private running = true;
  /** Whether the script's last output ended a line: violation lines must start on their own. */
  private atLineStart = true;
  /** Called when the user closes the terminal (or presses Ctrl+C before the run started) while the run is going. */
  onStop: () => void = () => undefined;
  /** Keys and size to the run's pseudo-terminal in the host, once the run is accepted. */
  readonly relay = new TerminalRelay();

  constructor(
    private readonly title: string,
    /** Tasks close their terminal at the end so the task gets the exit code; commands keep it open. */
    private readonly closeOnEnd: boolean,
  ) {}

  open(initialDimensions?: vscode.TerminalDimensions): void {
    this.relay.setSize(initialDimensions);
    const pending = this.buffer ?? [];
    this.buffer = null;
    for (const s of pending) this.writeEmitter.fire(s);
  }

  close(): void {
    if (this.running) this.onStop();
  }

  setDimensions(d: vscode.TerminalDimensions): void {
    this.relay.setSize(d);
  }

  handleInput(data: string): void {
    if (!this.running) return;
    // The run's terminal takes every key once the host accepted the run: Ctrl+C there is SIGINT to the script.
    if (this.relay.connected) return this.relay.input(data);
    if (data === '\x03') {
      this.line(`${YELLOW}^C — stopping the run (the whole process tree)…${RESET}`);
      this.onStop();
    }
  }

  private write(s: string): void {
    if (!s) return;
    this.atLineStart = s.endsWith('\n');
    const out = crlf(s);
    if (this.buffer) this.buffer.push(out);
    else this.writeEmitter.fire(out);
  }

  private line(s: string): void {
    this.write(`${this.atLineStart ? '' : '\n'}${s}\n`);
  }

  header(command: string[], mode: string, profile: string): void {
    this.line(`${DIM}▶ ${this.title} — sandbox ${BOLD}${mode}${RESET}${DIM}, profile ${profile}: ${command.join(' ')}${RESET}`);
  }

  note(s: string): void {
    this.line(`${DIM}${s}${RESET}`);
  }

  output(stream: 'stdout' | 'stderr', data: string): void {
    this.write(stream === 'stderr' ? `${RED}${data}${RESET}` : data);
  }

  violation(v: Violation): void {
    const style = v.action === 'warned' ? YELLOW_BG : RED_BG;
    const tag = v.action === 'warned' ? 'WARNED' : v.action === 'killed' ? 'KILLED' : 'BLOCKED';
    this.line(`${style} ${tag} ${RESET} ${BOLD}${v.message}${RESET} ${DIM}[${v.rule}]${RESET}`);
  }

  limit(message: string, action: string): void {
    this.line(`${RED_BG} LIMIT ${RESET} ${BOLD}${message}${RESET} ${DIM}(${action})${RESET}`);
  }

  error(message: string): void {
    this.line(`${RED}✖ ${message}${RESET}`);
    this.end(125);
  }

  finished(f: Finished, violations: number): void {
    const ok = f.exitCode === 0 && !f.setupError;
    const parts = [
      `exit code ${f.exitCode}${f.signal ? ` (${f.signal})` : ''}`,
      `duration ${fmtMs(f.durationMs)}`,
      `CPU ${f.cpuUserMs == null ? 'n/a' : fmtMs(f.cpuUserMs + (f.cpuSystemMs ?? 0))}`,
      `max memory ${f.maxRssKiB == null ? 'n/a' : fmtKiB(f.maxRssKiB)}`,
      `${violations} violation${violations === 1 ? '' : 's'}`,
    ];
    if (f.setupError) this.line(`${RED}✖ sandbox setup failed: ${f.setupError.code}: ${f.setupError.message}${f.setupError.call ? ` (${f.setupError.call})` : ''}${RESET}`);
    const state = f.cancelled || this.relay.stoppedByInterrupt(f) ? `${YELLOW}■ stopped` : f.timedOut ? `${RED}■ timed out` : ok ? `${GREEN}■ finished` : `${RED}■ failed`;
    this.line(`${state}${RESET} ${DIM}—${RESET} ${parts.join(` ${DIM}·${RESET} `)}`);
    this.end(f.exitCode);
  }

  aborted(reason: string): void {
    this.line(`${RED}■ aborted — ${reason}${RESET}`);
    this.end(125);
  }

  private end(code: number): void {
    if (!this.running) return;
    this.running = false;
    this.relay.end();
    if (this.closeOnEnd) this.closeEmitter.fire(code);
  }

  dispose(): void {
    this.writeEmitter.dispose();
    this.closeEmitter.dispose();
  }
}

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtKiB(kib: number): string {
  return kib < 1024 ? `${kib} KiB` : `${(kib / 1024).toFixed(1)} MiB`;
}
