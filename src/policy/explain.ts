// explain: the resolved policy plus one human summary per section, JSON-serialisable (script-sandbox explain).
import type { ResolvedPolicy } from './schema';
import { DEVICE_READ_ONLY, DEVICE_READ_WRITE, NETWORK_PRESET_MEANING, PORT_NAMES, SHARED_TEMP_PATHS, SYSTEM_PATHS, sharedTempWritable } from './presets';
import { protectedPaths, type ProtectedPath } from './evaluate';
import { displayPath, globNames } from './paths';
import { policyDigest } from './resolve';

export interface PolicyExplanation {
  policy: ResolvedPolicy;
  digest: string;
  summary: {
    mode: string;
    profile: string;
    filesystem: {
      read: string[];
      write: string[];
      neverReadable: string[];
      neverWritable: string[];
    };
    network: {
      preset: string;
      meaning: string;
      allowed: string[];
      blocked: string[];
    };
    limits: Record<keyof ResolvedPolicy['limits'], string>;
    env: { passed: string; set: string; masking: string };
    syscalls: string;
  };
}

const MODE_TEXT: Record<ResolvedPolicy['mode'], string> = {
  enforce: 'enforce: violations are blocked by kernel mechanisms; the run fails closed when a mechanism is missing',
  warn: 'warn: nothing of the policy is blocked; every would-be block is reported. Warn mode never relaxes the integrity set: protected paths (.git, .vscode, shell and git configuration, …) stay unwritable and the sandbox\'s own records (.sandbox, the audit key) unreadable, in the kernel',
  disabled: 'disabled: the script runs without restrictions; the run is still recorded',
};

const PROFILE_TEXT: Record<ResolvedPolicy['profile'], string> = {
  strict: 'strict: reads system paths and the workspace, writes the workspace only, no network',
  moderate: 'moderate: reads everywhere except protected paths, writes the workspace only, public internet',
  permissive: 'permissive: reads everywhere and writes outside system paths (protected paths excepted), public internet, ptrace allowed',
};

function mib(v: number): string {
  return v >= 1024 && v % 1024 === 0 ? `${v} MiB (${v / 1024} GiB)` : `${v} MiB`;
}

function seconds(v: number): string {
  if (v >= 3600 && v % 3600 === 0) return `${v} s (${v / 3600} h)`;
  if (v >= 60 && v % 60 === 0) return `${v} s (${v / 60} min)`;
  return `${v} s`;
}

/** `prot`: the run's protected set (FsModel.protected, with what git metadata adds); default: the policy's own. */
export function explainPolicy(policy: ResolvedPolicy, prot: readonly ProtectedPath[] = protectedPaths(policy)): PolicyExplanation {
  const fs = policy.filesystem;
  const show = (p: string) => displayPath(p, policy.home);
  const list = (xs: readonly string[]) => xs.map(show).join(', ');
  const unlocked = (abs: string, l: string[]) => l.some((g) => globNames(g, abs));

  const read: string[] = [];
  if (fs.readEverywhere) read.push('everywhere, except the paths below that are never readable');
  else {
    read.push(`system paths: ${SYSTEM_PATHS.join(', ')}`);
    read.push(`the workspace: ${show(policy.workspace)}`);
  }
  if (fs.allowRead.length) read.push(`allowRead: ${list(fs.allowRead)}`);
  if (fs.allowWrite.length) read.push(`allowWrite (writable paths are readable): ${list(fs.allowWrite)}`);
  read.push(`devices: ${[...DEVICE_READ_WRITE, ...DEVICE_READ_ONLY].join(', ')}`);
  if (fs.denyRead.length) read.push(`never: denyRead ${list(fs.denyRead)}`);

  const write: string[] = [];
  if (fs.readOnly) write.push("nothing (read-only), except the run's private temp dir");
  else {
    if (fs.writeOutsideSystem) write.push('everywhere except system paths and the paths below that are never writable');
    else write.push(`the workspace: ${show(policy.workspace)}`);
    if (fs.allowWrite.length) write.push(`allowWrite: ${list(fs.allowWrite)}`);
    if (sharedTempWritable(policy.profile) && !fs.writeOutsideSystem) write.push(`shared temp dirs: ${SHARED_TEMP_PATHS.join(', ')}`);
    write.push("the run's private temp dir (TMPDIR)");
    write.push(`never: system paths ${SYSTEM_PATHS.join(', ')}`);
    if (fs.denyWrite.length) write.push(`never: denyWrite ${list(fs.denyWrite)}`);
  }

  const neverReadable = prot.filter((e) => !e.read && !unlocked(e.abs, fs.allowRead)).map((e) => `${show(e.abs)} (${e.reason})`);
  const inside = (e: (typeof prot)[number]) => (e.writableInside.length ? `; inside it ${e.writableInside.map((w) => w.slice(e.abs.length + 1)).join(', ')} stay writable` : '');
  const neverWritable = prot.filter((e) => !e.write && !unlocked(e.abs, fs.allowWrite)).map((e) => `${show(e.abs)} (${e.reason}${inside(e)})`);
  if (fs.unprotect?.length) write.push(`unprotected by you: ${list(fs.unprotect)}`);

  const net = policy.network;
  const allowed: string[] = [];
  if (net.preset === 'default') allowed.push('public internet addresses');
  if (net.preset !== 'none') {
    if (net.allowHosts.length) allowed.push(`hosts: ${net.allowHosts.join(', ')}${net.preset === 'api-only' ? ' (port 443)' : ''}`);
    if (net.allowAddresses.length) allowed.push(`addresses: ${net.allowAddresses.join(', ')}`);
    allowed.push(net.allowUnixSockets.length ? `unix sockets in the workspace and: ${list(net.allowUnixSockets)}` : 'unix sockets in the workspace');
  }
  const blocked: string[] = [];
  if (net.preset === 'none') blocked.push('every IP connection');
  else {
    blocked.push('cloud metadata services (169.254.169.254, fd00:ec2::254, fd20:ce::254, 168.63.129.16, 100.100.100.200, metadata.google.internal …) in any encoding');
    blocked.push('loopback, link-local, private (RFC 1918, CGNAT, ULA), multicast, reserved and unspecified addresses, unless allowAddresses covers them');
    blocked.push(`ports: ${[...net.blockedPorts].sort((a, b) => a - b).map((p) => (PORT_NAMES[p] ? `${p} ${PORT_NAMES[p]}` : String(p))).join(', ')} (unless an allowAddresses entry names the port)`);
    if (net.denyHosts.length) blocked.push(`hosts: ${net.denyHosts.join(', ')}`);
  }

  const l = policy.limits;
  const lim = (v: number | null, f: (n: number) => string) => (v === null ? 'unlimited' : f(v));
  const limits = {
    cpuSeconds: lim(l.cpuSeconds, (v) => `${seconds(v)} of CPU time per process`),
    memoryMiB: lim(l.memoryMiB, (v) => `${mib(v)} for the whole process tree`),
    maxProcesses: lim(l.maxProcesses, (v) => `${v} processes at once`),
    fileSizeMiB: lim(l.fileSizeMiB, (v) => `${mib(v)} largest file written`),
    openFiles: lim(l.openFiles, (v) => `${v} open files per process`),
    timeoutSeconds: lim(l.timeoutSeconds, (v) => `${seconds(v)} wall clock, then the whole tree is killed`),
  };

  const setNames = Object.keys(policy.env.set);
  return {
    policy,
    digest: policyDigest(policy),
    summary: {
      mode: MODE_TEXT[policy.mode],
      profile: PROFILE_TEXT[policy.profile],
      filesystem: { read, write, neverReadable, neverWritable },
      network: { preset: net.preset, meaning: NETWORK_PRESET_MEANING[net.preset], allowed, blocked },
      limits,
      env: {
        passed: `only ${policy.env.allow.join(', ')}; every other variable is removed`,
        set: setNames.length ? `set for the script: ${setNames.join(', ')}` : 'nothing set',
        masking: `${policy.env.secretPatterns.length} secret patterns and the values of secret-looking variables are masked as *** in output and the audit log`,
      },
      syscalls: `dangerous system calls denied (mount, reboot, kexec_load, bpf, namespaces …); ptrace ${policy.syscalls.allowPtrace ? 'allowed' : 'denied'}${
        policy.syscalls.extraDeny.length ? `; also denied: ${policy.syscalls.extraDeny.join(', ')}` : ''
      }`,
    },
  };
}
