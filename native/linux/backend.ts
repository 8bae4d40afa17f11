// The Linux backend: the launcher's apply, the host's compile/probe and the process-tree helpers.
import * as os from 'node:os';
import type { Capability, CapabilityReport, SandboxBackend } from '../backend';
import type { LinuxPlan } from '../../src/protocol/plan';
import type { ResolvedPolicy } from '../../src/policy/schema';
import { loadLibc } from './libc';
import { createLinuxApplier } from './applier';
import { probeLinux } from './capabilities';
import { landlockAbi } from './landlock';
import { diskFs } from './carve-outs';
import { cachedExpansion } from './carve-out-cache';
import { pruneCoveredRules } from './landlock-prune';
import { detectCgroups, RunCgroup, type CgroupSupport } from './cgroup';
import { compileLinuxPlan, encodedProfile, landlockGrants, runFsModel, type CompileRequest, type Grant, type RunFsRequest } from './compile-plan';
import type { FsModel } from '../../src/policy/fs-model-types';
import { loadHostCalls, type HostCalls } from './host-calls';
import { loadPtyCalls, type PtyCalls } from './pty';
import * as procfs from './procfs';
import { probeNamespaceStage, probeNamespaceStageAsync, type NamespaceStage } from './namespace-stage';
import { hostArch, syscallTable } from './seccomp';

export interface LinuxBackend extends SandboxBackend {
  readonly platform: 'linux';
  readonly supported: true;
  /** `onFsModel`: told the filesystem model the plan was compiled from (compile-plan.ts CompileDeps). */
  compile(policy: ResolvedPolicy, req: Omit<CompileRequest, 'arch'>, onFsModel?: (model: FsModel | null) => void): LinuxPlan;
  /** What Landlock grants for this run, for the supervisor's diagnostics. */
  grants(policy: ResolvedPolicy, req: RunFsRequest): Grant[];
  /** The run's filesystem model as compiled (grants, protected set, the mounts' data), read from the disk. */
  fsModel(policy: ResolvedPolicy, req: RunFsRequest): FsModel;
  /** Syscall number → name for this machine's architecture. */
  syscallNames(): Record<number, string>;
  detectCgroups(): CgroupSupport;
  createCgroup(support: CgroupSupport, runId: string): RunCgroup;
  readonly hostCalls: HostCalls;
  readonly ptys: PtyCalls;
  readonly procfs: typeof procfs;
  /** Whether the launcher can be started in its own namespaces here; probed once, on first call. */
  namespaceStage(): NamespaceStage;
  /** The same probe without blocking; its result is what namespaceStage() returns afterwards. */
  namespaceStageAsync(): Promise<NamespaceStage>;
  /** The kernel's Landlock ABI (null: none), for what the tier can promise (see landlock-scopes.ts). */
  landlockAbi(): number | null;
}

export function createLinuxBackend(): LinuxBackend {
  let hostCalls: HostCalls | null = null;
  let stage: NamespaceStage | null = null;
  let ptys: PtyCalls | null = null;
  // The launcher's half (applyAndExec, prepare), the same object a launcher loads alone (native/index.ts loadApplier).
  const applier = createLinuxApplier();
  // Compile caches (a warm run's plan costs tens of ms without them): the carve-out expansion, reused while
  // the directories it read are unchanged (carve-out-cache.ts), and the seccomp program, a pure function of
  // its options. Per backend, so per host process.
  const expansion = cachedExpansion(diskFs);
  const programs = new Map<string, string>();
  const seccompProgram = (o: Parameters<typeof encodedProfile>[0]): string => {
    const key = JSON.stringify(o);
    let program = programs.get(key);
    if (program === undefined) {
      program = encodedProfile(o);
      if (programs.size >= 16) programs.delete(programs.keys().next().value as string);
      programs.set(key, program);
    }
    return program;
  };
  const arch = hostArch(process.arch);
  return {
    platform: 'linux',
    supported: true,
    probe: () => probe(),
    applyAndExec: (plan, hooks) => applier.applyAndExec(plan, hooks),
    prepare: () => applier.prepare?.(),
    compile(policy, req, onFsModel) {
      if (!arch) throw new Error(`no seccomp syscall table for ${process.arch}`);
      return compileLinuxPlan(policy, { ...req, arch }, { expand: expansion.expand, seccompProgram, prune: (rules) => pruneCoveredRules(rules, expansion.canonical), realpath: diskFs.realpath, onFsModel });
    },
    grants: (policy, req) => landlockGrants(policy, req),
    fsModel: (policy, req) => runFsModel(policy, req),
    syscallNames() {
      if (!arch) return {};
      const out: Record<number, string> = {};
      for (const [name, nr] of Object.entries(syscallTable(arch))) out[nr] = name;
      return out;
    },
    detectCgroups: () => detectCgroups(),
    createCgroup: (support, runId) => RunCgroup.create(support, runId),
    get hostCalls() {
      hostCalls ??= loadHostCalls();
      return hostCalls;
    },
    get ptys() {
      ptys ??= loadPtyCalls();
      return ptys;
    },
    procfs,
    namespaceStage: () => (stage ??= probeNamespaceStage()),
    namespaceStageAsync: async () => (stage ??= await probeNamespaceStageAsync()),
    landlockAbi: () => landlockAbi(loadLibc()),
  };
}

function probe(): CapabilityReport {
  const p = probeLinux();
  const cg = detectCgroups();
  const arch = hostArch(process.arch);
  const caps: Capability[] = [
    {
      name: 'seccomp',
      available: p.seccomp && arch !== null,
      detail: p.seccomp ? (arch ? `seccomp-bpf filter mode, syscall table ${arch}` : `no syscall table for ${process.arch}`) : 'kernel without CONFIG_SECCOMP_FILTER',
      requiredForEnforce: true,
      fix: 'use a kernel built with CONFIG_SECCOMP_FILTER=y',
    },
    {
      name: 'landlock',
      available: p.landlockAbi !== null && p.landlockAbi >= 1,
      detail: p.landlockAbi ? `ABI ${p.landlockAbi}` : 'not available (kernel < 5.13, or landlock missing from the lsm= boot parameter)',
      requiredForEnforce: true,
      fix: 'boot with lsm=landlock,… (see /sys/kernel/security/lsm) on Linux ≥ 5.13',
    },
    {
      name: 'seccomp_user_notif',
      available: p.seccompUserNotif,
      detail: p.seccompUserNotif ? 'SECCOMP_GET_NOTIF_SIZES answered' : 'not available (kernel < 5.0)',
      requiredForEnforce: false,
      fix: 'Linux ≥ 5.9 gives live violation events',
    },
    { name: 'no_new_privs', available: p.noNewPrivs, detail: p.noNewPrivs ? 'prctl(PR_SET_NO_NEW_PRIVS) supported' : 'unsupported', requiredForEnforce: true },
    {
      name: 'cgroup',
      available: cg.mode !== null,
      detail: cg.detail,
      requiredForEnforce: false,
      fix:
        'systemd user delegation (cgroup v2) gives exact tree limits; without it the host watchdog polls the process tree every 50 ms ' +
        '(approximate between polls); the limit_* lines say what each limit counts and what gets past it',
    },
    { name: 'user_namespaces', available: p.userNamespaces.available, detail: p.userNamespaces.detail, requiredForEnforce: false },
  ];
  return {
    platform: 'linux',
    arch: process.arch,
    kernel: p.kernel || `${os.type()} ${os.release()}`,
    capabilities: caps,
    treeLimits: cg.mode ?? 'watchdog',
    enforcePossible: caps.every((c) => !c.requiredForEnforce || c.available),
  };
}
