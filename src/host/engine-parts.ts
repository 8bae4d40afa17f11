// The seam between the engine and one OS's host code. The engine (engine.ts) knows only this: a backend from
// native/index.ts and the host binding registered for it (bindings.ts) give it a HostPlatform, a launcher
// source and the run terminals; it never asks which OS it is on.
//
// Why the per-OS host code is in src/host/<os>/ and not in native/<os>/host/ (where a backend could construct
// its own HostPlatform): native sits below audit and host in the layer order, and today's host platforms
// reach up. Linux's imports the state folder (audit/key, through stale-runs.ts) and the HostPlatform contract
// itself (./platform.ts); each binding also makes launcher sources (launcher-source/-pool/-prestart). The
// supervisor, watchdog, reaper and host-names import only policy, protocol and native, so they could go down.
// To move a platform into native/<os>/host/: the state folder's location comes down a layer, platform.ts
// (the contract, types only) moves to native/, then the supervisor set (src/host/linux/supervisor*.ts,
// target-path, dac), watchdog, reaper and host-names; the launcher wiring stays here. Until then each OS has a binding in
// src/host/<os>/binding.ts, registered by platform name in bindings.ts, whose type makes a backend without a
// host binding a compile error.
import type { PtyCalls, SandboxBackend } from '../../native/backend';
import { ColdLauncherSource, type LauncherSource } from './launcher-source';
import { PooledLauncherSource } from './launcher-pool';
import type { HostPlatform } from './platform';
import type { EarlyLauncher } from './launcher-spawn';

export interface EngineOptions {
  /** The launcher's script (dist/launcher.js by default). */
  launcherPath: string;
  /** The supervisor worker's script (dist/supervisor.js by default; Linux only). */
  supervisorPath: string;
  launchers?: LauncherSource;
  pool?: number;
  /** Linux: the namespace tier when available (default: unless SCRIPT_SANDBOX_NAMESPACES=0). */
  namespaces?: boolean;
  /** Start one launcher now, for a run that comes soon with this stdin (the CLI's single run). */
  prestart?: 'pipe' | 'inherit' | 'ignore';
}

/** What one OS gives the engine. */
export interface EngineParts {
  platform: HostPlatform;
  launchers: LauncherSource;
  /** Pseudo-terminals for runs in a terminal; null where the backend has none. */
  ptys(): PtyCalls | null;
  /** Resolves when no launcher is starting (a pool is full). */
  launchersSettled(): Promise<void>;
}

export type Prestart = NonNullable<EngineOptions['prestart']>;

/** One OS's host code, as the engine reaches it. */
export interface HostBinding<B extends SandboxBackend = SandboxBackend> {
  parts(backend: B, opts: EngineOptions): EngineParts;
  /**
   * The CLI's single run, when the OS has a slow probe worth overlapping with the launcher's start (Linux: the
   * namespace stage). Absent: parts() with the launcher prestarted.
   */
  partsSoon?(backend: B, prestart: Prestart, opts: EngineOptions, early?: EarlyLauncher): Promise<EngineParts>;
}

/** Parts for an OS whose launchers start plainly (no stage before node): cold, pooled or prestarted. */
export function plainLauncherParts(platform: (launchers: LauncherSource) => HostPlatform, opts: EngineOptions, ptys: () => PtyCalls | null = () => null): EngineParts {
  const cold = new ColdLauncherSource(opts.launcherPath, process.execPath, []);
  const pool = !opts.launchers && opts.pool ? new PooledLauncherSource(cold, opts.pool) : null;
  const launchers = opts.launchers ?? pool ?? cold;
  return { platform: platform(launchers), launchers, ptys, launchersSettled: () => poolFull(launchers) };
}

/** Resolves when a pooled launcher source is full (at once for any other source). */
export function poolFull(launchers: LauncherSource): Promise<void> {
  return launchers instanceof PooledLauncherSource ? launchers.whenFull() : Promise.resolve();
}
