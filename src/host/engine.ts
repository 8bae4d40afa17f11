// Assembles the runner for this OS: the backend, the host platform and a launcher source. The CLI and the
// host process both start here, so they run scripts the same way.
import * as path from 'node:path';
import { loadBackend, type AnyBackend, type CapabilityReport, type DarwinBackend } from '../../native';
import { namespaceStagePrefix } from '../../native/linux/namespace-stage';
import type { PtyCalls } from '../../native/backend';
import { SandboxError } from '../errors';
import { ColdLauncherSource, type LauncherSource } from './launcher-source';
import { PooledLauncherSource } from './launcher-pool';
import { PrestartedLauncherSource } from './launcher-prestart';
import { FALLBACK_TIER, LinuxHostPlatform, NAMESPACE_TIER, NO_PRIVATE_DEVPTS, type NamespaceTier } from './linux/platform';
import type { HostPlatform } from './platform';
import { Win32HostPlatform } from './win32/platform';
import { Runner } from './runner';
import { DarwinHostPlatform } from './darwin/platform';

export interface Engine {
  runner: Runner;
  platform: HostPlatform;
  capabilities(): CapabilityReport;
  /** Pseudo-terminals for runs in a terminal (RunRequest.terminal); null where the backend has none. */
  readonly ptys: PtyCalls | null;
  /** Resolves when no launcher is starting (a pool is full): the bench times runs only then. */
  launchersSettled(): Promise<void>;
  dispose(): void;
}

/** dist/launcher.js sits beside the bundle that runs this code (dist/cli-main.js or dist/host.js). */
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
  opts: {
    launcherPath?: string;
    supervisorPath?: string;
    launchers?: LauncherSource;
    pool?: number;
    namespaces?: boolean;
    /** Start one launcher now, for a run that comes soon with this stdin (the CLI's single run). */
    prestart?: 'pipe' | 'inherit' | 'ignore';
    /** A backend already made (and probed) by createEngineSoon. */
    backend?: AnyBackend;
  } = {},
): Engine {
  const backend = opts.backend ?? loadBackend();
  if (!backend.supported) {
    const report = backend.probe();
    throw new SandboxError('PLATFORM_UNSUPPORTED', report.capabilities[0]?.detail ?? `unsupported platform ${backend.platform}`);
  }
  if (backend.platform === 'win32') {
    // Windows: no namespace stage; each run's job object lives in this process (src/host/win32/platform.ts).
    const cold = new ColdLauncherSource(opts.launcherPath ?? defaultLauncherPath(), process.execPath, []);
    const launchers = opts.launchers ?? (opts.pool ? new PooledLauncherSource(cold, opts.pool) : cold);
    return assemble(new Win32HostPlatform(backend), launchers, () => null, () => poolFull(launchers));
  }
  if (backend.platform === 'darwin') return darwinEngine(backend, opts);
  const stage = (opts.namespaces ?? namespacesWanted()) ? backend.namespaceStage() : null;
  const tier: NamespaceTier = stage?.available
    ? { namespaces: true, detail: stage.privateDevpts === false ? `${NAMESPACE_TIER}, ${NO_PRIVATE_DEVPTS}` : NAMESPACE_TIER }
    : { namespaces: false, detail: `${FALLBACK_TIER} (${stage ? stage.detail : 'namespaces switched off: SCRIPT_SANDBOX_NAMESPACES=0 or --no-namespaces'})` };
  const cold = new ColdLauncherSource(opts.launcherPath ?? defaultLauncherPath(), process.execPath, tier.namespaces ? stage!.prefix : []);
  const pool = !opts.launchers && opts.pool ? new PooledLauncherSource(cold, opts.pool) : null;
  const launchers = opts.launchers ?? pool ?? (opts.prestart ? new PrestartedLauncherSource(cold, opts.prestart) : cold);
  const platform = new LinuxHostPlatform(backend, opts.supervisorPath ?? path.join(__dirname, 'supervisor.js'), (pid) => launchers.owns(pid), tier);
  return assemble(platform, launchers, () => backend.ptys ?? null, () => pool?.whenFull() ?? Promise.resolve());
}

/**
 * The CLI's single run: like createEngine({ prestart }), but on Linux the namespace stage's probe (unshare,
 * perl, sh, two mounts) no longer holds up the launcher's start. The launcher is started through the stage at
 * once while the probe runs beside it (and beside the caller's own work: the log, the policy); the probe's
 * verdict then decides as before. When the stage is unavailable the early launcher is killed and the engine is
 * the fallback tier's, as createEngine would have made it, with a plain launcher prestarted.
 */
export async function createEngineSoon(prestart: 'pipe' | 'inherit' | 'ignore', opts: { launcherPath?: string; supervisorPath?: string } = {}): Promise<Engine> {
  const backend = loadBackend();
  if (!backend.supported || backend.platform !== 'linux' || !namespacesWanted()) return createEngine({ ...opts, prestart, backend });
  const stagePrefix = namespaceStagePrefix();
  if ('unavailable' in stagePrefix) return createEngine({ ...opts, prestart, backend });
  const early = new PrestartedLauncherSource(new ColdLauncherSource(opts.launcherPath ?? defaultLauncherPath(), process.execPath, stagePrefix.prefix), prestart);
  const stage = await backend.namespaceStageAsync();
  if (!stage.available) {
    early.dispose();
    return createEngine({ ...opts, prestart, backend });
  }
  return createEngine({ ...opts, backend, launchers: early });
}

/** macOS: no namespace stage, the watchdog over `ps`, the same launcher sources. */
function darwinEngine(backend: DarwinBackend, opts: { launcherPath?: string; launchers?: LauncherSource; pool?: number }): Engine {
  const cold = new ColdLauncherSource(opts.launcherPath ?? defaultLauncherPath(), process.execPath, []);
  const launchers = opts.launchers ?? (opts.pool ? new PooledLauncherSource(cold, opts.pool) : cold);
  return assemble(new DarwinHostPlatform(backend, (pid) => launchers.owns(pid)), launchers, () => null, () => poolFull(launchers));
}

/** Resolves when a pooled launcher source is full (at once for any other source). */
function poolFull(launchers: LauncherSource): Promise<void> {
  return launchers instanceof PooledLauncherSource ? launchers.whenFull() : Promise.resolve();
}

/** The engine around one platform and its launcher source, the same on every OS; the report is probed once. */
function assemble(platform: HostPlatform, launchers: LauncherSource, ptys: () => PtyCalls | null, launchersSettled: () => Promise<void>): Engine {
  let report: CapabilityReport | null = null;
  return {
    runner: new Runner(platform, launchers),
    platform,
    capabilities: () => (report ??= platform.probe()),
    get ptys() {
      return ptys();
    },
    launchersSettled,
    dispose() {
      launchers.dispose();
      platform.dispose();
    },
  };
}
