// Landlock scoping (ABI 6, Linux 6.12) keeps signals and abstract unix sockets inside the run. An older ABI
// silently drops it, so this decides, without touching the OS, whether something else keeps each promise:
// a PID namespace (the namespace tier) hides every process outside the run from kill(); a private network
// namespace has its own abstract socket names; the supervisor refuses abstract-socket connects and sends in
// enforce. What nothing keeps is refused in enforce (launcher) and named in the capability report (`check`).
import type { Capability } from '../backend';
import type { LandlockPlan, LinuxPlan } from '../../src/protocol/plan';

export type LandlockScope = LandlockPlan['scopes'][number];

/** The first Landlock ABI with LANDLOCK_SCOPE_SIGNAL and LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET. */
export const SCOPES_ABI = 6;

export interface ScopeContext {
  /** Landlock ABI of the kernel; 0 or null: none. */
  abi: number | null;
  /** The run has its own PID namespace (namespace tier). */
  pidNamespace: boolean;
  /** The run has its own network namespace (namespace tier with no network). */
  networkNamespace: boolean;
  /** A supervisor gets connect/sendto/sendmsg and refuses abstract unix addresses (enforce with a listener). */
  supervisorRefusesAbstract: boolean;
}

/** The context of a compiled plan: namespaces when it has the namespace tier's mounts, the listener in enforce. */
export function scopeContextOf(plan: LinuxPlan, abi: number | null): ScopeContext {
  return {
    abi,
    pidNamespace: plan.namespaces !== null,
    networkNamespace: plan.namespaces?.isolateNetwork === true,
    supervisorRefusesAbstract: plan.requireLandlock && plan.seccomp?.listener === true,
  };
}

/** What keeps a scope in this context, or null when nothing does. */
export function scopeKeeper(scope: LandlockScope, ctx: ScopeContext): string | null {
  if ((ctx.abi ?? 0) >= SCOPES_ABI) return `Landlock ABI ${ctx.abi}`;
  if (scope === 'signal') return ctx.pidNamespace ? 'the PID namespace' : null;
  if (ctx.networkNamespace) return 'the private network namespace';
  return ctx.supervisorRefusesAbstract ? 'the supervisor (abstract-socket connects and sends refused)' : null;
}

const NAME: Record<LandlockScope, string> = { signal: 'signals', abstract_unix_socket: 'abstract unix sockets' };

const LOSS: Record<LandlockScope, string> = {
  signal: "signals to processes outside the run (the host, the user's other programs)",
  abstract_unix_socket: "connects to abstract unix sockets of processes outside the run (X11, D-Bus, other users' services)",
};

/** Scopes that nothing keeps here, each with what the script could then do. */
export function unkeptScopes(scopes: readonly LandlockScope[], ctx: ScopeContext): LandlockScope[] {
  return scopes.filter((s) => scopeKeeper(s, ctx) === null);
}

/** The one-sentence refusal for enforce, naming the ABI, what is lost and how to get it back. */
export function scopeRefusal(unkept: readonly LandlockScope[], abi: number | null): string {
  const what = unkept.map((s) => LOSS[s]).join('; ');
  return (
    `Landlock ${abi ? `ABI ${abi}` : 'is missing and'} cannot scope ${unkept.map((s) => NAME[s]).join(' and ')} to the run (scoping needs ABI ${SCOPES_ABI}, Linux 6.12), ` +
    `and nothing else keeps it in this tier, so enforce would allow ${what}: use Linux >= 6.12 or the namespace tier, or run in warn`
  );
}

/**
 * The `landlock_scoping` line of the capability report for a tier. Enforce always asks for both scopes, so a
 * scope nothing keeps makes enforce impossible on this machine (in this tier). Abstract sockets in a private
 * network namespace depend on the run's policy (network none), so only the supervisor counts here.
 */
export function scopingCapability(abi: number | null, tier: { namespaces: boolean; supervised: boolean }): Capability {
  const ctx: ScopeContext = { abi, pidNamespace: tier.namespaces, networkNamespace: false, supervisorRefusesAbstract: tier.supervised };
  const scopes: LandlockScope[] = ['signal', 'abstract_unix_socket'];
  const unkept = unkeptScopes(scopes, ctx);
  const fix = 'Linux >= 6.12 (Landlock ABI 6) scopes signals and abstract unix sockets; on older kernels the namespace tier (util-linux unshare, user namespaces) keeps signals inside the run';
  if ((abi ?? 0) >= SCOPES_ABI) {
    return { name: 'landlock_scoping', available: true, detail: `ABI ${abi}: signals and abstract unix sockets scoped to the run by Landlock`, requiredForEnforce: true, fix };
  }
  const kept = scopes.filter((s) => !unkept.includes(s)).map((s) => `${NAME[s]} kept by ${scopeKeeper(s, ctx)}`);
  const lost = unkept.map((s) => `lost: ${LOSS[s]} (enforce refused)`);
  return {
    name: 'landlock_scoping',
    available: unkept.length === 0,
    detail: `Landlock ${abi ? `ABI ${abi}` : 'missing'}, no scoping (needs ABI ${SCOPES_ABI})${[...kept, ...lost].map((x) => `; ${x}`).join('')}`,
    requiredForEnforce: true,
    fix,
  };
}
