// Assembles the runner for this OS: the backend, the host platform and a launcher source. The CLI and the
// host process both start here, so they run scripts the same way.
import * as path from 'node:path';
import { loadBackend, type CapabilityReport } from '../../native';
import { SandboxError } from '../protocol/errors';
import { ColdLauncherSource, type LauncherSource } from './launcher-source';
import { PooledLauncherSource } from './launcher-pool';
import { LinuxHostPlatform } from './platform-linux';
import type { HostPlatform } from './platform';
import { Runner } from './runner';

export interface Engine {
  runner: Runner;
  platform: HostPlatform;
  capabilities(): CapabilityReport;
  dispose(): void;
}

/** dist/launcher.js sits beside the bundle that runs this code (dist/cli.js or dist/host.js). */
export function defaultLauncherPath(): string {
  return path.join(__dirname, 'launcher.js');
}

export function createEngine(opts: { launcherPath?: string; supervisorPath?: string; launchers?: LauncherSource; pool?: number } = {}): Engine {
  const backend = loadBackend();
  if (!backend.supported) {
    const report = backend.probe();
    throw new SandboxError('PLATFORM_UNSUPPORTED', report.capabilities[0]?.detail ?? `unsupported platform ${backend.platform}`);
  }
  const cold = new ColdLauncherSource(opts.launcherPath ?? defaultLauncherPath());
  const launchers = opts.launchers ?? (opts.pool ? new PooledLauncherSource(cold, opts.pool) : cold);
  const platform = new LinuxHostPlatform(backend, opts.supervisorPath ?? path.join(__dirname, 'supervisor.js'), (pid) => launchers.owns(pid));
  let report: CapabilityReport | null = null;
  return {
    runner: new Runner(platform, launchers),
    platform,
    capabilities: () => (report ??= platform.probe()),
    dispose() {
      launchers.dispose();
      platform.dispose();
    },
  };
}
