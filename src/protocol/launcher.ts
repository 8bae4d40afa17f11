// Messages on the launcher's control fd (host ⇄ launcher), validated on arrival.
import { z } from 'zod';
import type { Plan } from './plan';
import { SandboxError } from '../errors';
import { describeZodError } from '../policy/schema';

const ErrorData = z.object({
  code: z.string(),
  message: z.string(),
  call: z.string().optional(),
  errno: z.number().optional(),
});

export const LauncherMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('listener'), fd: z.number().int() }),
  z.object({ type: z.literal('error'), error: ErrorData }),
  // Sent right before execve: the launcher's own CPU, so the run's figures can leave it out.
  z.object({ type: z.literal('exec'), cpuUserMs: z.number(), cpuSystemMs: z.number() }),
]);
export type LauncherMessage = z.infer<typeof LauncherMessage>;

const Rlimit = z.object({ resource: z.enum(['cpu', 'fsize', 'nofile', 'core', 'as', 'nproc']), soft: z.number(), hard: z.number() });
const LandlockRule = z.object({ path: z.string(), access: z.array(z.string()) });
const LinuxPlanSchema = z.object({
  platform: z.literal('linux'),
  runId: z.string(),
  file: z.string().min(1),
  argv: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()),
  cwd: z.string().min(1),
  rlimits: z.array(Rlimit),
  noNewPrivs: z.boolean(),
  landlock: z
    .object({ handled: z.array(z.string()), rules: z.array(LandlockRule), carveOuts: z.array(z.string()), scopes: z.array(z.enum(['abstract_unix_socket', 'signal'])) })
    .nullable(),
  seccomp: z.object({ program: z.string(), listener: z.boolean() }).nullable(),
  requireLandlock: z.boolean(),
  namespaces: z
    .object({ writable: z.array(z.string()), readOnly: z.array(z.string()), hidden: z.array(z.string()), pinned: z.array(z.string()), isolateNetwork: z.boolean(), privateShm: z.object({ sizeBytes: z.number().int().positive().nullable() }).optional() })
    .nullable()
    .default(null),
  terminal: z.object({ path: z.string().regex(/^\/dev\/pts\/\d+$/) }).nullable().optional(),
});

const Win32PlanSchema = z.object({
  platform: z.literal('win32'),
  runId: z.string(),
  application: z.string().min(1),
  commandLine: z.string().min(1),
  env: z.record(z.string(), z.string()),
  cwd: z.string().min(1),
  job: z.object({ hostPid: z.number().int(), handle: z.string().regex(/^\d+$/) }).nullable(),
  requireJob: z.boolean(),
  namespaces: z.null(),
});

// macOS (native/darwin/plan.ts): the Seatbelt profile text and Darwin's rlimits.
const DarwinPlanSchema = z.object({
  platform: z.literal('darwin'),
  runId: z.string(),
  file: z.string().min(1),
  argv: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()),
  cwd: z.string().min(1),
  rlimits: z.array(Rlimit),
  seatbelt: z.string().min(1).nullable(),
});

export const PlanMessage = z.object({ type: z.literal('plan'), plan: z.discriminatedUnion('platform', [LinuxPlanSchema, Win32PlanSchema, DarwinPlanSchema]) });

export function parsePlanMessage(line: string): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new SandboxError('PROTOCOL_INVALID', `plan message is not JSON: ${(e as Error).message}`);
  }
  const r = PlanMessage.safeParse(raw);
  if (!r.success) throw new SandboxError('PROTOCOL_INVALID', describeZodError(r.error, 'plan message invalid', { first: true }));
  return r.data.plan as Plan;
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
