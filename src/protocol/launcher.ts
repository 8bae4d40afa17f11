// Messages on the launcher's control fd (host ⇄ launcher), validated on arrival.
import { z } from 'zod';
import { Plan } from './plan';
import { SandboxError, SandboxErrorData } from '../errors';
import { describeZodError } from '../policy/schema';

export const LauncherMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('listener'), fd: z.number().int() }),
  z.object({ type: z.literal('error'), error: SandboxErrorData }),
  // Sent right before execve: the launcher's own CPU, so the run's figures can leave it out.
  z.object({ type: z.literal('exec'), cpuUserMs: z.number(), cpuSystemMs: z.number() }),
]);
export type LauncherMessage = z.infer<typeof LauncherMessage>;

export const PlanMessage = z.object({ type: z.literal('plan'), plan: Plan });

export function parsePlanMessage(line: string): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new SandboxError('PROTOCOL_INVALID', `plan message is not JSON: ${(e as Error).message}`);
  }
  const r = PlanMessage.safeParse(raw);
  if (!r.success) throw new SandboxError('PROTOCOL_INVALID', describeZodError(r.error, 'plan message invalid', { first: true }));
  return r.data.plan;
}

export function parseLauncherMessage(line: string): LauncherMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new SandboxError('PROTOCOL_INVALID', `launcher sent non-JSON: ${line.slice(0, 80)}`);
  }
  const r = LauncherMessage.safeParse(raw);
  if (!r.success) throw new SandboxError('PROTOCOL_INVALID', `launcher message invalid: ${line.slice(0, 80)}`);
  return r.data;
}
