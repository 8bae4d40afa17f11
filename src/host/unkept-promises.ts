// Which of this run's promises the machine measured it cannot keep: a capability the report marks unavailable
// names the policy promises it keeps (CapabilityReport `keeps`), and the policy says which of those it makes.
// The enforce gate (run-session.ts) refuses such a run; warn mode runs it and notes each one. Pure: the file
// system is asked only whether a protected secret exists (a promise about a missing file protects nothing).
//
// Profile defaults against the user's own demands (`baseline`): every profile sets an open-files limit
// (permissive too) and every preset but none/strict/api-only carries the built-in network blocks, and Windows
// keeps neither. Counted as demands they would refuse every enforce run there. So a limit that no mechanism
// of this machine keeps, at exactly its profile's value, and the default preset's built-in blocks are the
// profile's baseline: enforce runs and a note says they are not kept. A value other than the profile's (a
// flag, settings, a policy or workspace file), preset none/strict/api-only, denyHosts and blocked ports beyond
// the built-in list are demands: enforce refuses them. The resolved policy keeps no origin, so a value the user
// wrote equal to the profile's default counts as the default. CPU, memory and process limits and reads stay
// demands at any value: Windows keeps them (a machine that measured them unkept, like Wine, refuses them), and
// strict and moderate promise them while permissive runs without.
import type { PolicyPromise, CapabilityReport } from '../protocol/capabilities';
import type { ResolvedPolicy } from '../policy/schema';
import { protectedPaths } from '../policy/protected-set';
import { globCovers, globNames, pathStyleOf } from '../policy/paths';
import { DEFAULT_BLOCKED_PORTS, presetFor } from '../policy/presets';

export interface UnkeptPromise {
  promise: PolicyPromise;
  /** What the policy asked for, in words: "process limit 64", "reads of ~/.ssh refused". */
  what: string;
  /** The capability that would keep it, and why it cannot here. */
  capability: string;
  detail: string;
  /** The profile's default, not the user's demand: noted in enforce too, never refused (see the head comment). */
  baseline: boolean;
}

/**
 * The protected secrets this run promises unreadable and that exist here: not readable by the profile, not
 * opened as a whole by an allow list (the user's own opening, resolve notes it), not the sandbox's own records (its audit
 * log and key: the capability report says reads are not confined at all, those included).
 */
function secretReads(p: ResolvedPolicy, exists: (abs: string) => boolean): string[] {
  // Opened only as a whole: allowRead ~/.aws/config still promises ~/.aws/credentials unreadable.
  const named = (abs: string) => [...p.filesystem.allowRead, ...p.filesystem.allowWrite].some((g) => globNames(g, abs) && globCovers(g, abs));
  // On a Windows plan the profile's Unix system files (`/etc/shadow`) name nothing a Windows user keeps; a
  // root-relative `/etc/…` there is the current drive's (under Wine, drive Z: is the Linux host's own `/`).
  const unix = (abs: string) => pathStyleOf(p.workspace) === 'win32' && /^\/(?!\/)/.test(abs);
  return protectedPaths(p)
    .filter((e) => !e.read && !e.ownRecord && !named(e.abs) && !unix(e.abs) && exists(e.abs))
    .map((e) => e.display);
}

interface Made {
  what: string;
  baseline: boolean;
}

const demand = (what: string | null): Made | null => (what ? { what, baseline: false } : null);

/** A limit nothing on some platform keeps (open files, file size): the profile's own value is its baseline. */
function hygieneLimit(p: ResolvedPolicy, key: 'openFiles' | 'fileSizeMiB', words: (v: number) => string): Made | null {
  const v = p.limits[key];
  if (v == null) return null;
  const baseline = presetFor(p.profile).limits[key] === v;
  return { what: baseline ? `${words(v)} (profile ${p.profile}'s default)` : words(v), baseline };
}

function networkPromise(p: ResolvedPolicy, promise: 'network.none' | 'network.allowList' | 'network.denyList' | 'network.defaultBlocks'): Made | null {
  const n = p.network;
  switch (promise) {
    case 'network.none':
      return demand(n.preset === 'none' ? 'no network (preset none)' : null);
    case 'network.allowList': {
      if (n.preset !== 'strict' && n.preset !== 'api-only') return null;
      const to = [...n.allowHosts, ...n.allowAddresses];
      return demand(`connections only to ${to.length ? to.join(', ') : 'no host'}${n.preset === 'api-only' ? ' on port 443' : ''} (preset ${n.preset})`);
    }
    case 'network.denyList': {
      const extra = n.blockedPorts.filter((x) => !DEFAULT_BLOCKED_PORTS.includes(x));
      const parts = [...(n.denyHosts.length ? [`denyHosts ${n.denyHosts.join(', ')}`] : []), ...(extra.length ? [`blockedPorts ${extra.join(', ')}`] : [])];
      return demand(parts.length ? parts.join(', ') : null);
    }
    case 'network.defaultBlocks':
      return n.preset === 'default' ? { what: 'cloud metadata, private and loopback addresses and the built-in dangerous ports blocked (preset default)', baseline: true } : null;
  }
}

/** The promise as this policy makes it, in words, or null when the policy does not make it. */
function made(p: ResolvedPolicy, promise: PolicyPromise, exists: (abs: string) => boolean): Made | null {
  const l = p.limits;
  switch (promise) {
    case 'limits.cpuSeconds':
      return demand(l.cpuSeconds != null ? `CPU limit ${l.cpuSeconds} s` : null);
    case 'limits.memoryMiB':
      return demand(l.memoryMiB != null ? `memory limit ${l.memoryMiB} MiB` : null);
    case 'limits.maxProcesses':
      return demand(l.maxProcesses != null ? `process limit ${l.maxProcesses}` : null);
    case 'limits.openFiles':
      return hygieneLimit(p, 'openFiles', (v) => `open files limit ${v}`);
    case 'limits.fileSizeMiB':
      return hygieneLimit(p, 'fileSizeMiB', (v) => `file size limit ${v} MiB`);
    case 'filesystem.protectedReads': {
      const s = secretReads(p, exists);
      return demand(s.length ? `reads of ${s.join(', ')} refused` : null);
    }
    case 'filesystem.denyRead':
      return demand(p.filesystem.denyRead.length ? `denyRead ${p.filesystem.denyRead.join(', ')}` : null);
    case 'filesystem.readListedOnly':
      return demand(p.filesystem.readEverywhere ? null : `reads only of the workspace, system paths and allowRead (profile ${p.profile})`);
    case 'network.none':
    case 'network.allowList':
    case 'network.denyList':
    case 'network.defaultBlocks':
      return networkPromise(p, promise);
  }
}

/** Every promise of `policy` that an unavailable capability of `report` keeps. Disabled mode promises nothing. */
export function unkeptPromises(policy: ResolvedPolicy, report: CapabilityReport, exists: (abs: string) => boolean): UnkeptPromise[] {
  if (policy.mode === 'disabled') return [];
  const out: UnkeptPromise[] = [];
  for (const c of report.capabilities) {
    if (c.available || !c.keeps) continue;
    for (const promise of c.keeps) {
      const m = made(policy, promise, exists);
      if (m) out.push({ promise, what: m.what, capability: c.name, detail: c.detail, baseline: m.baseline });
    }
  }
  return out;
}

/** One line per capability: "process limit 64, memory limit 1024 MiB (job_limits: …)". */
export function describeUnkept(unkept: readonly UnkeptPromise[]): string {
  const by = new Map<string, UnkeptPromise[]>();
  for (const u of unkept) by.set(u.capability, [...(by.get(u.capability) ?? []), u]);
  return [...by.values()].map((us) => `${us.map((u) => u.what).join(', ')} (${us[0].capability}: ${us[0].detail})`).join('; ');
}
