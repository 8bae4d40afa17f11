// Which of this run's promises the machine measured it cannot keep: a capability the report marks unavailable
// names the policy promises it keeps (CapabilityReport `keeps`), and the policy says which of those it makes.
// The enforce gate (run-session.ts) refuses such a run; warn mode runs it and notes each one. Pure: the file
// system is asked only whether a protected secret exists (a promise about a missing file protects nothing).
import type { PolicyPromise, CapabilityReport } from '../protocol/capabilities';
import type { ResolvedPolicy } from '../policy/schema';
import { protectedPaths } from '../policy/protected-set';
import { globCovers, globNames, pathStyleOf } from '../policy/paths';

export interface UnkeptPromise {
  promise: PolicyPromise;
  /** What the policy asked for, in words: "process limit 64", "reads of ~/.ssh refused". */
  what: string;
  /** The capability that would keep it, and why it cannot here. */
  capability: string;
  detail: string;
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

/** The promise as this policy makes it, in words, or null when the policy does not make it. */
function made(p: ResolvedPolicy, promise: PolicyPromise, exists: (abs: string) => boolean): string | null {
  const l = p.limits;
  switch (promise) {
    case 'limits.cpuSeconds':
      return l.cpuSeconds != null ? `CPU limit ${l.cpuSeconds} s` : null;
    case 'limits.memoryMiB':
      return l.memoryMiB != null ? `memory limit ${l.memoryMiB} MiB` : null;
    case 'limits.maxProcesses':
      return l.maxProcesses != null ? `process limit ${l.maxProcesses}` : null;
    case 'filesystem.protectedReads': {
      const s = secretReads(p, exists);
      return s.length ? `reads of ${s.join(', ')} refused` : null;
    }
    case 'filesystem.denyRead':
      return p.filesystem.denyRead.length ? `denyRead ${p.filesystem.denyRead.join(', ')}` : null;
    case 'filesystem.readListedOnly':
      return p.filesystem.readEverywhere ? null : `reads only of the workspace, system paths and allowRead (profile ${p.profile})`;
  }
}

/** Every promise of `policy` that an unavailable capability of `report` keeps. Disabled mode promises nothing. */
export function unkeptPromises(policy: ResolvedPolicy, report: CapabilityReport, exists: (abs: string) => boolean): UnkeptPromise[] {
  if (policy.mode === 'disabled') return [];
  const out: UnkeptPromise[] = [];
  for (const c of report.capabilities) {
    if (c.available || !c.keeps) continue;
    for (const promise of c.keeps) {
      const what = made(policy, promise, exists);
      if (what) out.push({ promise, what, capability: c.name, detail: c.detail });
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
