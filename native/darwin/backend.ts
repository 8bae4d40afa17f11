// The macOS backend: compile (policy → DarwinPlan with its Seatbelt profile), the launcher's apply, the probe.
import type { SandboxBackend } from '../backend';
import type { ResolvedPolicy } from '../../src/policy/schema';
import type { RlimitSpec } from '../../src/protocol/plan';
import type { FsModelFs } from '../../src/policy/fs-model-types';
import type { DarwinPlan } from './plan';
import { seatbeltProfile, type Canonical, type SeatbeltProfile } from './seatbelt';
import { darwinReport, probeDarwinFacts } from './capabilities';
import { createDarwinApplier } from './applier';
import { loadChildrenUsage, type ChildrenUsage } from './libsystem';
import { realpathCanonical } from './sbpl';
import { diskModelFs } from '../linux/carve-outs';

export interface DarwinCompileRequest {
  runId: string;
  file: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  tmpDir: string;
  toolRoots: string[];
  auditDir?: string;
  /** The run's egress proxy port when the network preset is not none. */
  proxyPort: number | null;
}

export interface DarwinBackend extends SandboxBackend {
  readonly platform: 'darwin';
  readonly supported: true;
  compile(policy: ResolvedPolicy, req: DarwinCompileRequest, fs?: FsModelFs): DarwinPlan;
  profile(policy: ResolvedPolicy, req: DarwinCompileRequest, fs?: FsModelFs): SeatbeltProfile;
  /** Host side: getrusage(RUSAGE_CHILDREN), libSystem loaded on first call. */
  childrenUsage(): ChildrenUsage;
}

/** Limits setrlimit holds on macOS; memory and process count are the watchdog's. */
export function darwinRlimits(p: ResolvedPolicy): RlimitSpec[] {
  const l = p.limits;
  const out: RlimitSpec[] = [{ resource: 'core', soft: 0, hard: 0 }];
  if (l.cpuSeconds != null) out.push({ resource: 'cpu', soft: l.cpuSeconds, hard: l.cpuSeconds + 1 });
  if (l.fileSizeMiB != null) out.push({ resource: 'fsize', soft: l.fileSizeMiB * 1024 * 1024, hard: l.fileSizeMiB * 1024 * 1024 });
  if (l.openFiles != null) out.push({ resource: 'nofile', soft: l.openFiles, hard: l.openFiles });
  return out;
}

/** Pure compile: the profile in enforce only (warn applies none: see the capability report). */
export function compileDarwinPlan(p: ResolvedPolicy, req: DarwinCompileRequest, fs?: FsModelFs, canonical?: Canonical): DarwinPlan {
  const enforce = p.mode === 'enforce';
  return {
    platform: 'darwin',
    runId: req.runId,
    file: req.file,
    argv: req.argv,
    env: req.env,
    cwd: req.cwd,
    rlimits: enforce ? darwinRlimits(p) : [{ resource: 'core', soft: 0, hard: 0 }],
    seatbelt: enforce ? seatbeltProfile(p, req, fs, canonical).text : null,
    namespaces: null,
  };
}

export function createDarwinBackend(): DarwinBackend {
  let usage: (() => ChildrenUsage) | null = null;
  // The launcher's half, the same object a launcher loads alone (native/index.ts loadApplier).
  const applier = createDarwinApplier();
  return {
    platform: 'darwin',
    supported: true,
    probe: () => darwinReport(probeDarwinFacts()),
    applyAndExec: (plan, hooks) => applier.applyAndExec(plan, hooks),
    // The workspace's git metadata is read from the disk (diskModelFs has no Linux calls, only node:fs).
    compile: (p, req, fs = diskModelFs) => compileDarwinPlan(p, req, fs, realpathCanonical),
    profile: (p, req, fs = diskModelFs) => seatbeltProfile(p, req, fs, realpathCanonical),
    childrenUsage: () => (usage ??= loadChildrenUsage())(),
  };
}
