// Assembles the runner for this OS: the backend (native/index.ts) and its host binding (bindings.ts) give the
// host platform and a launcher source; nothing here knows which OS it is. The CLI and the host process both
// start here, so they run scripts the same way.
import * as path from 'node:path';
import { loadBackend, type AnyBackend, type CapabilityReport, type SandboxBackend, type UnsupportedBackend } from '../../native';
import type { PtyCalls } from '../../native/backend';
import { SandboxError } from '../errors';
import { bindingFor } from './bindings';
import type { EngineOptions, EngineParts, HostBinding, Prestart } from './engine-parts';
import type { HostPlatform } from './platform';
import { Runner } from './runner';
import { discardEarly, type EarlyLauncher } from './launcher-spawn';

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

export type CreateEngineOptions = Partial<EngineOptions> & {
  /** A backend already made (and probed). */
  backend?: AnyBackend;
};

/** The engine for this machine's backend (native/index.ts) and the host binding registered for it. */
export function createEngine(opts: CreateEngineOptions = {}): Engine {
  const backend = supported(opts.backend ?? loadBackend());
  return createEngineWith(backend, bindingFor(backend), opts);
}

/**
 * The engine on a given backend and host binding: what createEngine does with this machine's own. Only code
 * (never a setting, a file or the environment) chooses the pair: unit tests pass a fake of both to show the
 * engine needs nothing else from an OS.
 */
export function createEngineWith<B extends SandboxBackend>(backend: B, binding: HostBinding<B>, opts: Partial<EngineOptions> = {}): Engine {
  return assemble(binding.parts(backend, withDefaults(opts)));
}

/**
 * The CLI's single run: like createEngine({ prestart }), but a backend with a slow probe (Linux: the namespace
 * stage) starts the launcher beside it instead of after it (HostBinding.partsSoon).
 */
export async function createEngineSoon(prestart: Prestart, opts: { launcherPath?: string; supervisorPath?: string; early?: EarlyLauncher } = {}): Promise<Engine> {
  const { early, ...paths } = opts;
  try {
    const backend = supported(loadBackend());
    const binding = bindingFor(backend);
    if (!binding.partsSoon) return createEngineWith(backend, binding, { ...paths, prestart });
    return assemble(await binding.partsSoon(backend, prestart, withDefaults(paths), early));
  } finally {
    // Not the launcher this engine would have started (or no engine): it must not outlive the run.
    discardEarly(early);
  }
}

function supported(backend: AnyBackend): Exclude<AnyBackend, UnsupportedBackend> {
  if (backend.supported) return backend;
  const report = backend.probe();
  throw new SandboxError('PLATFORM_UNSUPPORTED', report.capabilities[0]?.detail ?? `unsupported platform ${backend.platform}`);
}

function withDefaults(opts: Partial<EngineOptions>): EngineOptions {
  return { ...opts, launcherPath: opts.launcherPath ?? defaultLauncherPath(), supervisorPath: opts.supervisorPath ?? path.join(__dirname, 'supervisor.js') };
}

/** The engine around one OS's parts, the same on every OS; the report is probed once. */
function assemble({ platform, launchers, ptys, launchersSettled }: EngineParts): Engine {
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
