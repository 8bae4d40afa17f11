// Assembles the runner for this OS: the backend, the host platform and a launcher source. The CLI and the
// host process both start here, so they run scripts the same way.
import * as path from 'node:path';
import { loadBackend, type CapabilityReport } from '../../native';
import type { PtyCalls } from '../../native/backend';
import { SandboxError } from '../protocol/errors';
import { ColdLauncherSource, type LauncherSource } from './launcher-source';
import { PooledLauncherSource } from './launcher-pool';
import { FALLBACK_TIER, LinuxHostPlatform, NAMESPACE_TIER, NO_PRIVATE_DEVPTS, type NamespaceTier } from './platform-linux';
import type { HostPlatform } from './platform';
import { Runner } from './runner';

export interface Engine {
  runner: Runner;
  platform: HostPlatform;
  capabilities(): CapabilityReport;
  /** Pseudo-terminals for runs in a terminal (RunRequest.terminal); null where the backend has none. */
  readonly ptys: PtyCalls | null;
  dispose(): void;
}

/** dist/launcher.js sits beside the bundle that runs this code (dist/cli.js or dist/host.js). */
export function defaultLauncherPath(): string {
  return path.join(__dirname, 'launcher.js');
}

/**
 * Whether to use the namespace tier: the one place that reads SCRIPT_SANDBOX_NAMESPACES (0 forces the fallback
 * tier, for tests and machines where namespaces misbehave; the CLI's --no-namespaces sets it).
 */
export function namespacesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SCRIPT_SANDBOX_NAMESPACES !== '0';
}

export function createEngine(
  opts: { launcherPath?: string; supervisorPath?: string; launchers?: LauncherSource; pool?: number; namespaces?: boolean } = {},
): Engine {
  const backend = loadBackend();
  if (!backend.supported) {
    const report = backend.probe();
    throw new SandboxError('PLATFORM_UNSUPPORTED', report.capabilities[0]?.detail ?? `unsupported platform ${backend.platform}`);
  }
  const stage = (opts.namespaces ?? namespacesWanted()) ? backend.namespaceStage() : null;
  const tier: NamespaceTier = stage?.available
    ? { namespaces: true, detail: stage.privateDevpts === false ? `${NAMESPACE_TIER}, ${NO_PRIVATE_DEVPTS}` : NAMESPACE_TIER }
    : { namespaces: false, detail: `${FALLBACK_TIER} (${stage ? stage.detail : 'namespaces switched off: SCRIPT_SANDBOX_NAMESPACES=0 or --no-namespaces'})` };
  const cold = new ColdLauncherSource(opts.launcherPath ?? defaultLauncherPath(), process.execPath, tier.namespaces ? stage!.prefix : []);
  const launchers = opts.launchers ?? (opts.pool ? new PooledLauncherSource(cold, opts.pool) : cold);
  const platform = new LinuxHostPlatform(backend, opts.supervisorPath ?? path.join(__dirname, 'supervisor.js'), (pid) => launchers.owns(pid), tier);
  let report: CapabilityReport | null = null;
  return {
    runner: new Runner(platform, launchers),
    platform,
    capabilities: () => (report ??= platform.probe()),
    get ptys() {
      return backend.ptys ?? null;
    },
    dispose() {
      launchers.dispose();
      platform.dispose();
    },
  };
}
