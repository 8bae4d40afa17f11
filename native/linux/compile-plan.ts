// compile: ResolvedPolicy + run request → LinuxPlan. Pure except for reading directories to turn
// "everything under X but not Y" into concrete Landlock rules (Landlock can only grant).
import * as path from 'node:path';
import type { ResolvedPolicy } from '../../src/policy/schema';
import { buildFsModel } from '../../src/policy/fs-model';
import { READ_RIGHTS, WRITE_RIGHTS, type FsModel, type FsModelFs, type FsTier, type Grant } from '../../src/policy/fs-model-types';
import { integrityModel } from '../../src/policy/integrity-model';
import { globIsSubtree } from '../../src/policy/glob-kernel-paths';
import { diskModelFs } from './carve-outs';
import { liftCoveredCarveOuts } from './carve-out-lift';
import { isUnder } from '../../src/policy/paths';
import type { LandlockAccess, LandlockPlan, LandlockRule, LinuxPlan, NamespacePlan, RlimitSpec } from '../../src/protocol/plan';
import { diskMountFs, namespacePlanFor, uncoveredProtected, type MountFs } from './namespace-plan';
import { buildProfileFilter, compileFilter, encodeFilter } from './seccomp';
import type { SeccompAction, SeccompArch, SyscallFilterOptions } from './seccomp';

const ALL_RIGHTS: LandlockAccess[] = [...READ_RIGHTS, ...WRITE_RIGHTS, 'make_char', 'make_block', 'ioctl_dev'];

export interface CompileRequest {
  runId: string;
  file: string; // absolute program path
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Per-run private temp dir, always writable. */
  tmpDir: string;
  /** Extra read+execute roots for the interpreter (e.g. ~/.pyenv), computed by the host. */
  toolRoots: string[];
  arch: SeccompArch;
  /** Extra rlimit for the process count (RLIMIT_NPROC) when no cgroup holds it; null = none. */
  nprocLimit: number | null;
  /**
   * No cgroup keeps the tree's memory, only the host's watchdog (RSS, fds, the private /dev/shm). SysV shared
   * memory and message queues filled and detached are held by the run's IPC namespace and by no process, so
   * the watchdog cannot see them, and the namespace's caps (kernel.shmall) are writable only by its root, which
   * an unprivileged launcher (--map-current-user) is not: with a memory limit, SysV IPC is then refused.
   */
  memoryWatchdogOnly?: boolean;
  /** A supervisor will take the seccomp listener: deny-list and monitored calls notify it. */
  listener: boolean;
  /** The launcher runs in its own user/mount/PID namespaces (the namespace tier): protected paths inside
   *  writable roots are read-only mounts. false/absent: the fallback tier, where they are Landlock carve-outs. */
  namespaces?: boolean;
  /** The audit log's folder when it is not the workspace's `.sandbox` (hidden from the script). */
  auditDir?: string;
  /** The run's own terminal, granted by its exact path (fs-model terminalGrants). */
  ttyPath?: string;
  /** Where the user's git finds its global config ($XDG_CONFIG_HOME); default: this process's environment. */
  xdgConfigHome?: string;
}

export type RunFsRequest = Pick<CompileRequest, 'tmpDir' | 'toolRoots' | 'file' | 'namespaces' | 'auditDir' | 'listener' | 'ttyPath' | 'xdgConfigHome'>;

export interface RunFs {
  model: FsModel;
  /** The mounts of the namespace tier; null in the fallback tier. */
  mounts: NamespacePlan | null;
  /** Warn mode: what the kernel still keeps, the integrity set (src/policy/fs-model `integrityModel`), as
   *  Landlock grants and, in the namespace tier, mounts. null in enforce (the model above is kept whole). */
  integrity: { model: FsModel; mounts: NamespacePlan | null } | null;
}

/**
 * The filesystem model of a run as compiled: the one the Landlock rules, the namespace stage's mounts and the
 * supervisor's diagnostics share. In the namespace tier, a protected path the mounts cannot cover (missing,
 * with no placeholder possible: an rc file in a writable home) stays a Landlock carve-out, so the supervisor
 * is never its only guard. In warn mode `model` still says what enforce would do (the supervisor reports
 * that), and `integrity` is what the kernel applies.
 */
export function runFs(p: ResolvedPolicy, req: RunFsRequest, fs: FsModelFs = diskModelFs): RunFs {
  const tier: FsTier = req.namespaces ? 'namespaces' : 'fallback';
  const modelReq = { ...req, tier, xdgConfigHome: 'xdgConfigHome' in req ? req.xdgConfigHome : process.env.XDG_CONFIG_HOME };
  const policyFs = withMounts(p, buildFsModel(p, modelReq, fs), req, fs);
  const integrity = p.mode === 'warn' ? withMounts(p, integrityModel(p, modelReq, fs), req, fs) : null;
  // The supervisor performs warn mode's calls where the integrity rules carve a folder: it needs both.
  return { ...policyFs, model: integrity ? { ...policyFs.model, kernel: integrity.model } : policyFs.model, integrity };
}

function withMounts(p: ResolvedPolicy, model: FsModel, req: RunFsRequest, fs: FsModelFs): { model: FsModel; mounts: NamespacePlan | null } {
  if (model.tier === 'fallback') return { model, mounts: null };
  // A fixture tree (unit tests) has no links: what exists is itself resolved.
  const disk: MountFs = memoMountFs(fs === diskModelFs ? diskMountFs : { realpath: (x) => (fs.kind(x) === null ? null : x), kind: (x) => fs.kind(x) });
  const mounts = namespacePlanFor(p, model, req, disk);
  const cuts = uncoveredProtected(mounts, [...model.protectedInWritable.map((e) => e.path), ...model.hidden.map((h) => h.path)], disk);
  const grants = cuts.length
    ? model.grants.map((g) =>
        g.access.includes('write_file')
          ? { ...g, except: [...new Set([...g.except, ...cuts.filter((c) => g.paths.some((root) => isUnder(c, root) || isUnder(root, c)))])] }
          : g,
      )
    : model.grants;
  return { model: { ...model, grants }, mounts };
}

/**
 * The mount plan's reads, each path read once per plan: the mount plan and the carve-out check walk the same
 * missing protected paths up to their existing ancestors (about 500 realpath calls for one compile, most of
 * them repeats). One view of the disk per plan, as a single pass would see it; nothing outlives the call.
 */
function memoMountFs(disk: MountFs): MountFs {
  const real = new Map<string, string | null>();
  const kinds = new Map<string, ReturnType<MountFs['kind']>>();
  return {
    realpath(x) {
      let v = real.get(x);
      if (v === undefined) real.set(x, (v = disk.realpath(x)));
      return v;
    },
    kind(x) {
      let v = kinds.get(x);
      if (v === undefined) kinds.set(x, (v = disk.kind(x)));
      return v;
    },
  };
}

export function runFsModel(p: ResolvedPolicy, req: RunFsRequest, fs: FsModelFs = diskModelFs): FsModel {
  return runFs(p, req, fs).model;
}

/** The Landlock grants of a run (runFsModel's), read from the disk. */
export function landlockGrants(p: ResolvedPolicy, req: RunFsRequest, fs: FsModelFs = diskModelFs): Grant[] {
  return runFsModel(p, req, fs).grants;
}

/** `noFileRules`: directories whose non-directory entries get no rule (Grant noFileRules); `entryDirsWithout`:
 *  the rights their subdirectories' rules lack (Grant entryDirsWithout). */
export type ExpandFn = (rules: LandlockRule[], carveOuts: string[], noFileRules?: string[], entryDirsWithout?: Record<string, LandlockAccess[]>) => LandlockRule[];

/** `prune`: drops rules that others already cover (landlock-prune.ts); default: every rule is kept.
 *  `realpath`: lifts carve-outs another grant's rule covers whole before expanding (carve-out-lift.ts). */
export function landlockPlan(grants: Grant[], expand: ExpandFn, scopes: LandlockPlan['scopes'], prune: (rules: LandlockRule[]) => LandlockRule[] = (r) => r, realpath?: (p: string) => string | null): LandlockPlan {
  const rules: LandlockRule[] = [];
  for (const g of realpath ? liftCoveredCarveOuts(grants, realpath) : grants) {
    const base = g.paths.map((p) => ({ path: p, access: g.access }));
    rules.push(...(g.except.length ? expand(base, g.except, g.noFileRules, g.entryDirsWithout) : base));
    // The expansion leaves the carve-outs' ancestors unlistable (`ls ~`, `ls /etc` would fail). Listing them
    // again reveals names, never contents: READ_FILE stays off for the carve-outs.
    if (g.except.length && g.access.includes('read_dir')) {
      for (const c of g.except) {
        for (let a = path.dirname(c); ; a = path.dirname(a)) {
          if (g.paths.some((root) => a === root || a.startsWith(root === '/' ? '/' : root + '/'))) rules.push({ path: a, access: ['read_dir'] });
          if (a === '/') break;
        }
      }
    }
  }
  return { handled: ALL_RIGHTS, rules: prune(rules), carveOuts: [], scopes };
}

export function rlimitsFor(p: ResolvedPolicy, nprocLimit: number | null): RlimitSpec[] {
  const l = p.limits;
  const out: RlimitSpec[] = [{ resource: 'core', soft: 0, hard: 0 }];
  // CPU: the soft limit sends SIGXCPU (reported), the hard limit one second later SIGKILL.
  if (l.cpuSeconds != null) out.push({ resource: 'cpu', soft: l.cpuSeconds, hard: l.cpuSeconds + 1 });
  if (l.fileSizeMiB != null) out.push({ resource: 'fsize', soft: l.fileSizeMiB * 1024 * 1024, hard: l.fileSizeMiB * 1024 * 1024 });
  if (l.openFiles != null) out.push({ resource: 'nofile', soft: l.openFiles, hard: l.openFiles });
  if (nprocLimit != null) out.push({ resource: 'nproc', soft: nprocLimit, hard: nprocLimit });
  return out;
}

export interface CompileDeps {
  expand: ExpandFn;
  /** Reads of the workspace's git metadata for the protected set; default: the disk. */
  fs?: FsModelFs;
  /** The encoded (base64) seccomp program for these options; default: built each time. A cache may answer:
   *  the program is a pure function of the options. */
  seccompProgram?: (o: SyscallFilterOptions) => string;
  /** Drops Landlock rules other rules already cover; default: none dropped. */
  prune?: (rules: LandlockRule[]) => LandlockRule[];
  /** The disk's realpath, to lift carve-outs another grant covers whole (carve-out-lift.ts); default: none lifted. */
  realpath?: (p: string) => string | null;
  /** Told the run's filesystem model this compile read from the disk (null: disabled mode, none), so the
   *  supervisor's diagnostics can share it instead of reading the disk a second time. */
  onFsModel?: (model: FsModel | null) => void;
}

/** The seccomp program for `o`, built, compiled and encoded (base64), as the plan carries it. */
export function encodedProfile(o: SyscallFilterOptions): string {
  return encodeFilter(compileFilter(buildProfileFilter(o))).toString('base64');
}

/**
 * `metadataLocked`: the run has no private mount namespace (the fallback tier), so chmod/chown/xattr/utime
 * calls, which Landlock does not mediate, are denied by the syscall filter instead of by read-only mounts;
 * and, with no IPC namespace, SysV IPC calls are denied too.
 */
export function compileLinuxPlan(p: ResolvedPolicy, req: CompileRequest, deps: CompileDeps, metadataLocked = !req.namespaces): LinuxPlan {
  const sandboxed = p.mode !== 'disabled';
  const enforce = p.mode === 'enforce';
  const listener = sandboxed && req.listener;
  const fs = sandboxed ? runFs(p, { ...req, listener }, deps.fs ?? diskModelFs) : null;
  deps.onFsModel?.(fs?.model ?? null);
  // What the kernel applies: the whole policy in enforce; in warn only the integrity set (warn reports the
  // policy and blocks none of it, but never relaxes the protected paths and the sandbox's own records).
  const kernelFs = !fs ? null : enforce ? fs : fs.integrity;
  // enforce: the kernel blocks (Landlock, BPF); with a listener the deny list goes through the supervisor,
  // which answers EPERM and reports the syscall by name. warn: nothing is blocked; the filter only notifies
  // (or logs, without a listener) and the supervisor lets every call continue, reporting would-be blocks.
  // The foreign-architecture kill stays in every mode: it is not a policy, it is the filter's integrity.
  // So do the foreign-pid denials (prlimit64 etc. on another pid): plain EPERM in the BPF, see profile.ts.
  const denyAction: SeccompAction = listener ? { kind: 'notify' } : enforce ? { kind: 'errno', errno: 1 } : { kind: 'log' };
  const seccomp = sandboxed
    ? {
        program: (deps.seccompProgram ?? encodedProfile)({
          arch: req.arch,
          network: p.network.preset === 'none' && enforce ? 'none' : 'inet',
          allowPtrace: p.syscalls.allowPtrace,
          extraDeny: p.syscalls.extraDeny,
          denyAction,
          monitor: listener
            ? // network in every preset: with no IP sockets (none) unix socket paths still need their check.
              {
                network: true,
                fileWrites: true,
                // The fallback tier: files the supervisor creates in a carved directory have no Landlock
                // rule, so reading them back is performed by the supervisor too (supervisor-emulate.ts).
                // Both tiers: a deny-read glob's directories are carved for reading too (new names there have
                // no Landlock read right), and reads there are performed by the supervisor. A deny-write glob
                // too: what the supervisor makes in a carved directory has no rule, and where the read grant
                // is expanded there as well (the workspace root holding the hidden audit folder) reading it
                // back is the supervisor's to perform.
                fileReads: !enforce || p.filesystem.reportReads || !req.namespaces || [...p.filesystem.denyRead, ...p.filesystem.denyWrite].some((g) => !globIsSubtree(g)),
              }
            : null,
          // warn: the same calls notify (or log) and are reported as would-be blocks.
          metadataLocked,
          // warn included: the integrity set's metadata (a hook's mode, the key's) has no other guard here.
          metadataAlwaysRefused: metadataLocked && !enforce,
          // With a listener the supervisor performs chmod/chown/utimes itself, deciding each (supervisor-metadata.ts).
          metadataPerformed: metadataLocked && !!listener,
          // The same tier has no IPC namespace either: SysV IPC would reach the host's segments. With only the
          // watchdog keeping memory, detached SysV segments would be memory nobody counts.
          ipcLocked: metadataLocked ? 'no-namespace' : req.memoryWatchdogOnly && p.limits.memoryMiB != null ? 'uncounted-memory' : false,
        }),
        listener,
      }
    : null;
  return {
    platform: 'linux',
    runId: req.runId,
    file: req.file,
    argv: req.argv,
    env: req.env,
    cwd: req.cwd,
    // warn: limits are reported by the watchdog and never stop the run; core dumps stay off.
    rlimits: enforce ? rlimitsFor(p, req.nprocLimit) : [{ resource: 'core', soft: 0, hard: 0 }],
    noNewPrivs: sandboxed,
    landlock: kernelFs ? landlockPlan(kernelFs.model.grants, deps.expand, enforce ? ['abstract_unix_socket', 'signal'] : [], deps.prune, deps.realpath) : null,
    seccomp,
    // warn included: without Landlock the fallback tier cannot keep the integrity set, so the run is refused.
    requireLandlock: kernelFs !== null,
    namespaces: kernelFs ? kernelFs.mounts : null,
  };
}

export { grantsAllow } from '../../src/policy/grants-allow';
export { READ_RIGHTS, WRITE_RIGHTS, type Grant } from '../../src/policy/fs-model-types';
