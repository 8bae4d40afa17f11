// The macOS capability report: each restriction as enforced, reported only or not available, with the
// reason. Built from a few probe facts (pure), so the report's wording is unit-tested on any OS.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import type { Capability, CapabilityReport } from '../backend';
import { SANDBOX_EXEC } from './apply';

export interface DarwinFacts {
  /** os.release() of Darwin and the product version when known ("14.6"). */
  kernel: string;
  /** /usr/bin/sandbox-exec exists and is executable. */
  sandboxExec: boolean;
  /** The user is in the admin group: `log stream` can be read. */
  admin: boolean;
  /** /usr/bin/log exists. */
  log: boolean;
}

const ENFORCED = 'enforced';
const WATCHDOG = 'enforced by the host watchdog (sampled every 50 ms, the tree is killed when over)';

export function darwinReport(f: DarwinFacts, arch: string = process.arch): CapabilityReport {
  const sb = f.sandboxExec;
  const noSb = 'not available: /usr/bin/sandbox-exec is missing';
  const caps: Capability[] = [
    {
      name: 'seatbelt',
      available: sb,
      detail: sb ? `${ENFORCED}: Seatbelt profile (deny default) applied by ${SANDBOX_EXEC} before the script starts` : noSb,
      requiredForEnforce: true,
      fix: 'sandbox-exec ships with every macOS up to at least 15; reinstall the OS component',
    },
    { name: 'fs_write_confinement', available: sb, detail: sb ? `${ENFORCED}: writes only in the workspace, temp dirs and allowWrite (Seatbelt file-write*)` : noSb, requiredForEnforce: true },
    { name: 'fs_protected_paths', available: sb, detail: sb ? `${ENFORCED}: .git, .vscode, .sandbox and start-up files refused for writes, their folders for rename (Seatbelt; APFS case variants included)` : noSb, requiredForEnforce: true },
    { name: 'fs_secret_reads', available: sb, detail: sb ? `${ENFORCED}: ~/.ssh, cloud credentials, Keychains refused for reads (Seatbelt file-read*); metadata (stat) stays visible, as on Linux` : noSb, requiredForEnforce: true },
    { name: 'network_none', available: sb, detail: sb ? `${ENFORCED}: no network-outbound rule (Seatbelt)` : noSb, requiredForEnforce: true },
    {
      name: 'network_hosts',
      available: sb,
      detail: sb
        ? `${ENFORCED} through the run's loopback proxy only: Seatbelt names no hosts or ranges, so only the proxy port is open; clients that ignore HTTP(S)_PROXY are refused, never let through`
        : noSb,
      requiredForEnforce: false,
    },
    { name: 'rlimit_cpu_fsize_nofile_core', available: true, detail: `${ENFORCED}: setrlimit CPU (SIGXCPU), FSIZE (SIGXFSZ), NOFILE (soft at most OPEN_MAX), CORE 0`, requiredForEnforce: true },
    { name: 'memory_limit', available: true, detail: `${WATCHDOG}: RLIMIT_AS/DATA are not enforced on macOS (EINVAL since macOS 12)`, requiredForEnforce: false },
    { name: 'process_limit', available: true, detail: `${WATCHDOG}: RLIMIT_NPROC counts all of the user's processes`, requiredForEnforce: false },
    {
      name: 'live_violations',
      available: f.log && f.admin,
      detail: !f.log
        ? 'not available: /usr/bin/log is missing; denials still fail the call (EPERM) but are not shown live'
        : f.admin
          ? 'reported: Seatbelt denials read live from `log stream` (unified log)'
          : 'not available: `log stream` needs an admin account; denials still fail the call (EPERM) but are not shown live',
      requiredForEnforce: false,
      fix: 'use an admin account to see file and network denials live',
    },
    {
      name: 'warn_mode_fs_network',
      available: false,
      detail: 'not available: warn mode applies no Seatbelt profile on macOS, so would-be file and network blocks are not reported (limits are)',
      requiredForEnforce: false,
    },
    {
      name: 'syscall_filter',
      available: false,
      detail: 'not available: macOS has no seccomp; Seatbelt denies by default what it names (mach services, sysctl writes, IOKit), not individual system calls',
      requiredForEnforce: false,
    },
    {
      name: 'namespaces',
      available: false,
      detail: 'not available: no PID, mount or network namespaces; the tree is one process group watched by the host, protected paths are Seatbelt rules',
      requiredForEnforce: false,
    },
  ];
  return {
    platform: 'darwin',
    arch,
    kernel: f.kernel,
    capabilities: caps,
    treeLimits: 'watchdog',
    enforcePossible: caps.every((c) => !c.requiredForEnforce || c.available),
  };
}

/** The facts, read from this Mac (a few stats and one `id -Gn`). */
export function probeDarwinFacts(): DarwinFacts {
  const exec = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const groups = spawnSync('/usr/bin/id', ['-Gn'], { encoding: 'utf8' });
  const admin = groups.status === 0 && String(groups.stdout).split(/\s+/).includes('admin');
  return { kernel: `${os.type()} ${os.release()}`, sandboxExec: exec(SANDBOX_EXEC), admin, log: exec('/usr/bin/log') };
}
