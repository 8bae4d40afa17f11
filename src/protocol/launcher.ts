// Messages on the launcher's control fd (host ⇄ launcher), validated on arrival.
import { z } from 'zod';
import { Plan, type LandlockRule } from './plan';
import { LANDLOCK_ACCESS } from '../policy/fs-access';
import { SandboxError, SandboxErrorData } from '../errors';
import { describeZodError } from '../policy/zod-errors';

export const LauncherMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('listener'), fd: z.number().int() }),
  z.object({ type: z.literal('error'), error: SandboxErrorData }),
  // Sent right before execve: the launcher's own CPU, so the run's figures can leave it out.
  z.object({ type: z.literal('exec'), cpuUserMs: z.number(), cpuSystemMs: z.number() }),
  // The answer to a join (below); a launcher whose join failed exits after saying so.
  z.object({ type: z.literal('joined'), ok: z.boolean(), error: z.string().optional() }),
]);
export type LauncherMessage = z.infer<typeof LauncherMessage>;

export const PlanMessage = z.object({ type: z.literal('plan'), plan: Plan });

/**
 * Before its plan, a waiting launcher may be asked to move itself into cgroups: it writes "0" (itself) to each
 * cgroup.procs file named. Only the launcher moves, whatever happened to its pid meanwhile (held-cgroups.ts).
 */
export const JoinMessage = z.object({ type: z.literal('join'), cgroupProcs: z.array(z.string().startsWith('/').endsWith('/cgroup.procs')).min(1).max(16) });
export type JoinMessage = z.infer<typeof JoinMessage>;

/** What the launcher reads on its control fd before exec: a join, or its plan (parseHostPlanMessage). */
export function parseHostMessage(line: string): JoinMessage | { type: 'plan'; plan: Plan } {
  const raw = hostJson(line);
  if ((raw as { type?: unknown } | null)?.type !== 'join') return { type: 'plan', plan: hostPlanOf(raw) };
  const r = JoinMessage.safeParse(raw);
  if (!r.success) throw new SandboxError('PROTOCOL_INVALID', describeZodError(r.error, 'join message invalid', { first: true }));
  return r.data;
}

export function parsePlanMessage(line: string): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new SandboxError('PROTOCOL_INVALID', `plan message is not JSON: ${(e as Error).message}`);
  }
  return validatedPlan(raw);
}

function validatedPlan(raw: unknown): Plan {
  const r = PlanMessage.safeParse(raw);
  if (!r.success) throw new SandboxError('PROTOCOL_INVALID', describeZodError(r.error, 'plan message invalid', { first: true }));
  return r.data.plan;
}

/**
 * The launcher's reading of its plan. The plan comes from the host over a socketpair only the two of them hold,
 * so the schema's per-element pass over the Landlock rules (hundreds of them: milliseconds of every warm run's
 * set-up, while the script waits) is replaced by a plain check of each rule's shape; the rest of the plan is
 * validated by the schema as before, and apply refuses an access right it does not know. Rejects what
 * parsePlanMessage rejects, with the same error code.
 */
export function parseHostPlanMessage(line: string): Plan {
  return hostPlanOf(hostJson(line));
}

function hostJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    throw new SandboxError('PROTOCOL_INVALID', `plan message is not JSON: ${(e as Error).message}`);
  }
}

function hostPlanOf(raw: unknown): Plan {
  const landlock = (raw as { plan?: { platform?: unknown; landlock?: { rules?: unknown } } } | null)?.plan?.landlock;
  const rules = (raw as { plan?: { platform?: unknown } }).plan?.platform === 'linux' && landlock && typeof landlock === 'object' ? landlock.rules : undefined;
  if (!Array.isArray(rules)) return validatedPlan(raw);
  const checked = rules.map(landlockRuleOf);
  const plan = validatedPlan({ ...(raw as object), plan: { ...(raw as { plan: object }).plan, landlock: { ...landlock, rules: [] } } });
  return plan.platform === 'linux' && plan.landlock ? { ...plan, landlock: { ...plan.landlock, rules: checked } } : plan;
}

const ACCESS_NAMES: ReadonlySet<string> = new Set(LANDLOCK_ACCESS);

function landlockRuleOf(r: unknown, i: number): LandlockRule {
  const x = r as { path?: unknown; access?: unknown; exact?: unknown } | null;
  const ok =
    x !== null &&
    typeof x === 'object' &&
    typeof x.path === 'string' &&
    Array.isArray(x.access) &&
    x.access.every((a) => typeof a === 'string' && ACCESS_NAMES.has(a)) &&
    (x.exact === undefined || x.exact === true);
  if (!ok) throw new SandboxError('PROTOCOL_INVALID', `plan message invalid: plan.landlock.rules.${i} is not a Landlock rule`);
  return x.exact === true ? { path: x.path as string, access: x.access as LandlockRule['access'], exact: true } : { path: x.path as string, access: x.access as LandlockRule['access'] };
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
