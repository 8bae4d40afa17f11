// Where launchers come from. Today: a cold spawn per run. The pool (pre-warmed launchers, koffi already
// loaded) implements the same interface, so the runner does not change when it arrives.
import type { ChildProcess } from 'node:child_process';
import { spawnLauncher, type EarlyLauncher } from './launcher-spawn';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Plan } from '../protocol/plan';
import { SandboxError, type SandboxErrorData } from '../errors';
import { parseLauncherMessage } from '../protocol/launcher';

export interface LaunchOptions {
  stdin: 'pipe' | 'inherit' | 'ignore';
}

export type ExecOutcome =
  | { ok: true; launcherCpu: { userMs: number; systemMs: number } }
  /**
   * silent: the launcher said nothing after the plan was sent (no listener, no exec, no error) before its
   * channel closed: typically a pooled launcher killed while it waited. The script cannot have started (the
   * launcher announces exec first), so the runner may give the plan to another launcher.
   */
  | { ok: false; error: SandboxErrorData; silent?: boolean };

export interface Launcher {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /**
   * Resolves once the script is exec'd (the launcher's 'exec' message, then the control fd closed at execve),
   * or with an error: one the launcher reported, or LAUNCHER_CRASHED when the channel closed without 'exec'.
   */
  exec(plan: Plan): Promise<ExecOutcome>;
  /**
   * Resolves when the process (launcher, then script) has exited; its output may still be in flight. In the
   * namespace tier that is the init's status line, which comes before the stage has torn its namespaces down.
   */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the host's own child is reaped: only then is the run's CPU in the host's children usage. */
  readonly reaped: Promise<void>;
  /**
   * Resolves when stdout/stderr are drained (every writer gone: the script's processes; the stage and its
   * init hand theirs to /dev/null), or after `graceMs` (a daemon that inherited the pipes would keep them
   * open forever; its leftovers are cut off).
   */
  drained(graceMs: number): Promise<void>;
  /** Called with the seccomp listener fd number in the launcher; the host must take its copy and resolve. */
  onListener: ((fd: number) => Promise<void>) | null;
  /**
   * Asks the waiting launcher to move itself into cgroups (it writes "0" to each cgroup.procs file named);
   * resolves whether it did. One that could not exits. A plan given meanwhile goes out after the answer, so
   * the launcher is in the cgroups, or gone, before it reads its plan.
   */
  join(cgroupProcs: string[]): Promise<boolean>;
  kill(): void;
}

export interface LauncherSource {
  acquire(opts: LaunchOptions): Promise<Launcher>;
  /** Whether pid is a live launcher this source started (the host's own child, not a run's orphan). */
  owns(pid: number): boolean;
  /** The run that used `l` has handed over its result: a pool may start its replacement now. Optional. */
  released?(l: Launcher): void;
  dispose(): void;
}

/**
 * Spawns `node launcher.js` with fd 3 as a socketpair control channel. With `namespacePrefix` (the namespace
 * tier), the launcher is started under that command (util-linux unshare and an init, see
 * native/linux/namespace-stage.ts): the host's child is then `unshare`, the launcher its grandchild, and fd 4
 * carries the init's report of the launcher's (then the script's) exact wait status.
 */
export class ColdLauncherSource implements LauncherSource {
  private readonly live = new Set<ChildProcess>();
  constructor(
    private readonly launcherPath: string,
    private readonly nodePath = process.execPath,
    private readonly namespacePrefix: string[] = [],
  ) {}

  owns(pid: number): boolean {
    for (const c of this.live) if (c.pid === pid) return true;
    return false;
  }

  acquire(opts: LaunchOptions): Promise<Launcher> {
    return this.adopt(spawnLauncher(this.launcherPath, this.nodePath, this.namespacePrefix, opts.stdin));
  }

  /**
   * A launcher process started elsewhere exactly as acquire() would start it (the CLI entry's EarlyLauncher);
   * null when it was not (another prefix, launcher, node or stdin), and the caller then discards it.
   */
  adoptEarly(early: EarlyLauncher, stdin: LaunchOptions['stdin']): Promise<Launcher> | null {
    if (early.claimed || early.stdin !== stdin || early.launcherPath !== this.launcherPath || early.nodePath !== this.nodePath) return null;
    if (early.prefix.length !== this.namespacePrefix.length || early.prefix.some((a, i) => a !== this.namespacePrefix[i])) return null;
    early.claimed = true;
    return this.adopt(early.child);
  }

  private adopt(child: ChildProcess): Promise<Launcher> {
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
    // An early launcher that failed to spawn or died before it was adopted: its 'error' or 'exit' has been
    // emitted already, and startLauncher would wait for it.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.live.delete(child);
      return Promise.reject(new SandboxError('LAUNCHER_CRASHED', 'the early launcher exited before it was used'));
    }
    return startLauncher(child, this.namespacePrefix.length > 0);
  }

  dispose(): void {
    for (const c of this.live) c.kill('SIGKILL');
    this.live.clear();
  }
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

function startLauncher(child: ChildProcess, ns: boolean): Promise<Launcher> {
  const control = child.stdio[3] as net.Socket;
  const lines = lineReader(control);
  const childExit = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // Namespace tier: the init's fd-4 line has the exact wait status, and it comes as soon as the script is
  // reaped. Without it (the init was killed), `unshare`'s own status, which cannot carry a signal.
  const exited = ns ? initStatus(child.stdio[4] as net.Socket).then((st) => (st === null ? childExit : fromWaitStatus(st))) : childExit;
  const reaped = childExit.then(() => undefined);
  const ended = (r: Readable | null) => new Promise<void>((resolve) => (!r || r.destroyed || r.readableEnded ? resolve() : r.once('close', () => resolve())));
  const drained = (graceMs: number) =>
    Promise.race([Promise.all([ended(child.stdout), ended(child.stderr)]), new Promise<void>((r) => setTimeout(r, graceMs).unref())]).then(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    });

  return new Promise((resolve, reject) => {
    const onEarlyExit = () => reject(new SandboxError('LAUNCHER_CRASHED', 'launcher exited before it was ready (is koffi installed? run script-sandbox check)'));
    child.once('exit', onEarlyExit);
    child.once('error', (e) => reject(new SandboxError('LAUNCHER_CRASHED', `cannot start the launcher: ${e.message}`, { call: 'spawn' })));
    lines.next().then((first) => {
      child.off('exit', onEarlyExit);
      if (first === null) return reject(new SandboxError('LAUNCHER_CRASHED', 'launcher closed its control channel before it was ready'));
      const msg = parseLauncherMessage(first);
      if (msg.type === 'error') return reject(new SandboxError(msg.error.code as never, msg.error.message, msg.error));
      if (msg.type !== 'ready') return reject(new SandboxError('PROTOCOL_INVALID', `launcher sent ${msg.type} before ready`));
      const pids = ns ? namespacePids(child.pid!) : { init: null, launcher: child.pid! };
      if (pids === null) {
        try {
          child.kill('SIGKILL');
        } catch {
          // gone
        }
        return reject(new SandboxError('LAUNCHER_CRASHED', `cannot find the launcher's host pid below unshare (${child.pid})`));
      }
      let joining: Promise<boolean> | null = null;
      const launcher: Launcher = {
        pid: pids.launcher,
        stdin: child.stdin,
        stdout: child.stdout!,
        stderr: child.stderr!,
        exited,
        reaped,
        drained,
        onListener: null,
        kill: () => {
          if (pids.init !== null) {
            // Namespace tier: the launcher (the script) first. The init then reaps it and exits, which kills
            // every other process in the namespace, and the stage process (the host's child) reaps the init,
            // so the run's CPU reaches the host's children usage. Killing the init or the stage outright would
            // drop that; they are killed only if the init is still there a moment later.
            const init = pids.init;
            try {
              process.kill(pids.launcher, 'SIGKILL');
            } catch {
              // gone
            }
            const later = setTimeout(() => {
              if (parentOf(init) !== child.pid) return; // exited (and its pid maybe reused)
              try {
                process.kill(init, 'SIGKILL');
              } catch {
                // gone
              }
            }, 300);
            later.unref();
            void exited.then(() => clearTimeout(later));
            return;
          }
          try {
            child.kill('SIGKILL');
          } catch {
            // gone
          }
        },
        join(cgroupProcs: string[]): Promise<boolean> {
          const asked = (joining ?? Promise.resolve(true)).then(async () => {
            control.write(JSON.stringify({ type: 'join', cgroupProcs }) + '\n');
            const line = await lines.next();
            if (line === null) return false;
            const m = parseLauncherMessage(line);
            return m.type === 'joined' && m.ok;
          });
          const settled = asked.catch(() => false);
          joining = settled;
          void settled.then(() => {
            if (joining === settled) joining = null;
          });
          return settled;
        },
        async exec(plan: Plan): Promise<ExecOutcome> {
          // A join still answering first: its reply must not be read as the plan's, and the plan must find the
          // launcher in its cgroups. Without one, no await: the plan goes out at once (runner.ts startOn).
          if (joining) await joining;
          control.write(JSON.stringify({ type: 'plan', plan }) + '\n');
          let launcherCpu: { userMs: number; systemMs: number } | null = null;
          let heard = false;
          for (;;) {
            const line = await lines.next();
            if (line === null && !heard) {
              return { ok: false, silent: true, error: { code: 'LAUNCHER_CRASHED', message: 'launcher exited before it answered the plan (killed while it waited, or crashed at once)' } };
            }
            heard = true;
            // Closed after the 'exec' message: fd 3 went at execve, the script is running. Closed without it:
            // the launcher died during setup (killed, crashed), which is a setup error, not a started run.
            if (line === null) {
              return launcherCpu
                ? { ok: true, launcherCpu }
                : { ok: false, error: { code: 'LAUNCHER_CRASHED', message: 'launcher exited before the script started (killed or crashed during setup)' } };
            }
            const m = parseLauncherMessage(line);
            if (m.type === 'exec') {
              launcherCpu = { userMs: m.cpuUserMs, systemMs: m.cpuSystemMs };
              continue;
            }
            if (m.type === 'error') return { ok: false, error: m.error as SandboxErrorData };
            if (m.type === 'listener') {
              if (!launcher.onListener) return { ok: false, error: { code: 'PROTOCOL_INVALID', message: 'launcher offered a listener nobody asked for' } };
              await launcher.onListener(m.fd);
              control.write('{"type":"ack"}\n');
            }
          }
        },
      };
      resolve(launcher);
    }, reject);
  });
}


const SIGNAL_NAMES = Object.fromEntries(Object.entries(os.constants.signals).map(([k, v]) => [v, k])) as Record<number, NodeJS.Signals>;

/** A wait status (as the init reads it from waitpid) as Node reports exits. */
export function fromWaitStatus(st: number): Exit {
  const sig = st & 0x7f;
  return sig ? { code: null, signal: SIGNAL_NAMES[sig] ?? 'SIGKILL' } : { code: (st >> 8) & 0xff, signal: null };
}

/** The init's status line on fd 4, or null when it ended without one. */
function initStatus(sock: net.Socket): Promise<number | null> {
  return new Promise((resolve) => {
    let text = '';
    sock.setEncoding('utf8');
    // The init writes its one line right after it reaped the script, before its own exit (which waits for
    // the rest of the namespace to die): the line, not the close, is the script's end.
    const done = () => {
      const m = /^(\d+)\n/.exec(text);
      resolve(m ? Number(m[1]) : null);
    };
    sock.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) done();
    });
    sock.once('close', done);
    sock.once('error', () => undefined);
  });
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: scan the table for the parent.
    const out: number[] = [];
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
      } catch {
        // exited
      }
    }
    return out;
  }
}

/**
 * Host pids of the namespace's init (unshare's child) and the launcher (the init's child). The launcher's own
 * process.pid is 2 inside its PID namespace; supervision (pidfd_getfd), the watchdog, the cgroup and every
 * kill use the host's pid.
 */
function namespacePids(unsharePid: number): { init: number; launcher: number } | null {
  const init = childrenOf(unsharePid)[0];
  if (init === undefined) return null;
  const launcher = childrenOf(init)[0];
  return launcher === undefined ? null : { init, launcher };
}

/** Async line iterator over a socket; null at end of stream. */
function lineReader(sock: net.Socket): { next(): Promise<string | null> } {
  let buf = '';
  let ended = false;
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    wake();
  });
  sock.on('end', () => {
    ended = true;
    wake();
  });
  sock.on('close', () => {
    ended = true;
    wake();
  });
  sock.on('error', () => {
    ended = true;
    wake();
  });
  return {
    async next() {
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          return line;
        }
        if (ended) return null;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}
