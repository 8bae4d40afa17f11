// The pre-exec program. Started by the host (possibly ahead of time, as a pool member) with fd 3 a
// socketpair to the host. It loads its OS's applier, says "ready", waits for one plan (moving itself into
// cgroups first when the host asks: a join), applies it and execs the script. Everything it writes to fd 3 is a LauncherMessage; success is an 'exec' message then the
// close of fd 3 at exec (it is close-on-exec by then), which the host requires (a close without 'exec' is a
// launcher that died during setup); failure is an error message followed by exit 125.
import * as fs from 'node:fs';
import { loadApplier } from '../../native';
import { SandboxError } from '../errors';
import { parseHostMessage, type LauncherMessage } from '../protocol/launcher';
import type { Plan } from '../protocol/plan';
import { parsePlanSample, warmUp } from './warm-up';

const CONTROL_FD = 3;

function send(msg: LauncherMessage): void {
  fs.writeSync(CONTROL_FD, JSON.stringify(msg) + '\n');
}

/**
 * Blocking reads of whole lines from the control fd (the launcher has nothing else to do meanwhile). What a
 * read brings past a line's end is kept for the next line: the host may send a join and the plan at once.
 */
class ControlLines {
  private readonly buf = Buffer.alloc(65536);
  private pending: Buffer[] = [];

  next(): string {
    for (;;) {
      const have = Buffer.concat(this.pending);
      const nl = have.indexOf(10);
      if (nl >= 0) {
        this.pending = nl + 1 < have.length ? [Buffer.from(have.subarray(nl + 1))] : [];
        return have.subarray(0, nl).toString('utf8');
      }
      this.pending = [have];
      let n: number;
      try {
        n = fs.readSync(CONTROL_FD, this.buf, 0, this.buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        throw e;
      }
      if (n === 0) throw new SandboxError('PROTOCOL_INVALID', 'host closed the control channel before sending a plan');
      this.pending.push(Buffer.from(this.buf.subarray(0, n)));
    }
  }
}

/** Waits for the host to confirm it holds its own copy of an fd we announced. */
function awaitAck(lines: ControlLines): void {
  const line = lines.next();
  if (line.trim() !== '{"type":"ack"}') throw new SandboxError('PROTOCOL_INVALID', `expected ack from host, got ${line.slice(0, 80)}`);
}

/**
 * Moves this process into the named cgroups ("0" is the writer itself), so no other process can be moved in
 * its place whatever became of its pid. A launcher that cannot join exits: a run may already have taken it on
 * the promise of the join (held-cgroups.ts), and must never start outside its cgroup.
 */
function join(cgroupProcs: string[]): void {
  try {
    for (const f of cgroupProcs) fs.writeFileSync(f, '0');
  } catch (e) {
    send({ type: 'joined', ok: false, error: (e as Error).message });
    process.exit(125);
  }
  send({ type: 'joined', ok: true });
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
    const lines = new ControlLines();
    let msg = parseHostMessage(lines.next());
    while (msg.type === 'join') {
      join(msg.cgroupProcs);
      msg = parseHostMessage(lines.next());
    }
    const plan = withOwnCpuAdded(msg.plan);
    applier.applyAndExec(plan, {
      onListener(fd) {
        send({ type: 'listener', fd });
        awaitAck(lines);
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

/** The build's workload before it writes this bundle's code cache (src/protocol/code-cache.ts). */
export const codeCacheWorkload = parsePlanSample;
