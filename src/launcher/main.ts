// The pre-exec program. Started by the host (possibly ahead of time, as a pool member) with fd 3 a
// socketpair to the host. It loads the native backend, says "ready", waits for one plan, applies it and
// execs the script. Everything it writes to fd 3 is a LauncherMessage; success is an 'exec' message then the
// close of fd 3 at exec (it is close-on-exec by then), which the host requires (a close without 'exec' is a
// launcher that died during setup); failure is an error message followed by exit 125.
import * as fs from 'node:fs';
import { loadApplier } from '../../native';
import { SandboxError } from '../errors';
import { parseHostPlanMessage, type LauncherMessage } from '../protocol/launcher';
import type { Plan } from '../protocol/plan';
import { warmUp } from './warm-up';

const CONTROL_FD = 3;

function send(msg: LauncherMessage): void {
  fs.writeSync(CONTROL_FD, JSON.stringify(msg) + '\n');
}

/** Blocking read of one line from the control fd (the launcher has nothing else to do meanwhile). */
function readLine(): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(CONTROL_FD, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      throw e;
    }
    if (n === 0) throw new SandboxError('PROTOCOL_INVALID', 'host closed the control channel before sending a plan');
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl >= 0) {
      chunks.push(Buffer.from(buf.subarray(0, nl)));
      return Buffer.concat(chunks).toString('utf8');
    }
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
}

/** Waits for the host to confirm it holds its own copy of an fd we announced. */
function awaitAck(): void {
  const line = readLine();
  if (line.trim() !== '{"type":"ack"}') throw new SandboxError('PROTOCOL_INVALID', `expected ack from host, got ${line.slice(0, 80)}`);
}

/**
 * RLIMIT_CPU counts the whole process, and the launcher is the same process as the script: add the CPU the
 * launcher has already used, so the script gets the budget the policy gave it.
 */
function withOwnCpuAdded(plan: Plan): Plan {
  // Windows: the script is a separate process in a job; the launcher's CPU is not charged to it.
  if (plan.platform !== 'linux') return plan;
  const u = process.cpuUsage();
  const used = Math.ceil((u.user + u.system) / 1e6);
  return {
    ...plan,
    rlimits: plan.rlimits.map((r) => (r.resource === 'cpu' && r.soft >= 0 ? { ...r, soft: r.soft + used, hard: r.hard + used } : r)),
  };
}

/** The launcher's whole life; src/launcher/entry.ts (dist/launcher.js) calls it once the bundle is loaded. */
export function main(): void {
  try {
    const applier = loadApplier();
    warmUp(applier);
    send({ type: 'ready', pid: process.pid });
    const plan = withOwnCpuAdded(parseHostPlanMessage(readLine()));
    applier.applyAndExec(plan, {
      onListener(fd) {
        send({ type: 'listener', fd });
        awaitAck();
      },
      beforeExec() {
        const u = process.cpuUsage();
        send({ type: 'exec', cpuUserMs: u.user / 1000, cpuSystemMs: u.system / 1000 });
      },
    });
  } catch (e) {
    const err =
      e instanceof SandboxError ? e : new SandboxError('SETUP_FAILED', `launcher failed: ${(e as Error)?.message ?? String(e)}`);
    try {
      send({ type: 'error', error: err.toData() });
    } catch {
      // The host is gone; nothing left to tell.
    }
    process.exit(125);
  }
}

