// Linux's host binding: the namespace stage decides the tier and the launcher's command prefix; the host
// platform supervises through the seccomp listener and keeps the tree with a cgroup or the watchdog.
import type { LinuxBackend } from '../../../native';
import { availableStage, namespacesWanted, namespaceStagePrefix, type NamespaceStage } from '../../../native/linux/namespace-stage';
import { dropStageCache, readStageCache, writeStageCache } from './stage-cache';
import { ColdLauncherSource, type Launcher, type LauncherSource } from '../launcher-source';
import { PooledLauncherSource } from '../launcher-pool';
import { PrestartedLauncherSource } from '../launcher-prestart';
import type { EarlyLauncher } from '../launcher-spawn';
import type { EngineOptions, EngineParts, HostBinding, Prestart } from '../engine-parts';
import { FALLBACK_TIER, LinuxHostPlatform, NAMESPACE_TIER, NO_PRIVATE_DEVPTS, type NamespaceTier } from './platform';

export { namespacesWanted };

function parts(backend: LinuxBackend, opts: EngineOptions, reaper = true, known?: NamespaceStage): EngineParts & { platform: LinuxHostPlatform } {
  const stage = (opts.namespaces ?? namespacesWanted()) ? (known ?? backend.namespaceStage()) : null;
  const tier: NamespaceTier = stage?.available
    ? { namespaces: true, detail: stage.privateDevpts === false ? `${NAMESPACE_TIER}, ${NO_PRIVATE_DEVPTS}` : NAMESPACE_TIER }
    : { namespaces: false, detail: `${FALLBACK_TIER} (${stage ? stage.detail : 'namespaces switched off: SCRIPT_SANDBOX_NAMESPACES=0 or --no-namespaces'})` };
  const cold = new ColdLauncherSource(opts.launcherPath, process.execPath, tier.namespaces ? stage!.prefix : []);
  // The platform asks the sources which pids are theirs only once runs go; the sources hand it each waiting
  // launcher (holdLauncher) as soon as it is ready.
  const platform: LinuxHostPlatform = new LinuxHostPlatform(backend, opts.supervisorPath, (pid) => launchers.owns(pid), tier, { reaper });
  const hold = (l: Launcher) => platform.holdLauncher(l);
  const pool = !opts.launchers && opts.pool ? new PooledLauncherSource(cold, opts.pool, hold) : null;
  const launchers: LauncherSource = opts.launchers ?? pool ?? (opts.prestart ? new PrestartedLauncherSource(cold, opts.prestart, undefined, hold) : cold);
  // Settled once the pool is full and its launchers have joined their cgroups: the bench times nothing before.
  const launchersSettled = async () => {
    await pool?.whenFull();
    await platform.launchersHeld();
  };
  return { platform, launchers, ptys: () => backend.ptys ?? null, launchersSettled };
}

/**
 * The CLI's single run: the namespace stage's probe (unshare, perl, sh, two mounts) no longer holds up the
 * launcher's start. The launcher is started through the stage at once while the probe runs beside it (and
 * beside the caller's own work: the log, the policy); the probe's verdict then decides as before. When the
 * stage is unavailable the early launcher is killed and the parts are the fallback tier's, as parts() would
 * have made them, with a plain launcher prestarted.
 */
async function partsSoon(backend: LinuxBackend, prestart: Prestart, opts: EngineOptions, early?: EarlyLauncher): Promise<EngineParts> {
  const made = await partsSoonTier(backend, prestart, opts, early);
  made.platform.prewarmSupervisor();
  return made;
}

async function partsSoonTier(backend: LinuxBackend, prestart: Prestart, opts: EngineOptions, early?: EarlyLauncher): Promise<EngineParts & { platform: LinuxHostPlatform }> {
  if (!namespacesWanted()) return parts(backend, { ...opts, prestart });
  const stagePrefix = namespaceStagePrefix();
  if ('unavailable' in stagePrefix) return parts(backend, { ...opts, prestart });
  const cold = new ColdLauncherSource(opts.launcherPath, process.execPath, stagePrefix.prefix);
  // The CLI entry's launcher, started through the same stage before the commands were even loaded.
  const started = (early ? cold.adoptEarly(early, prestart) : null) ?? cold.acquire({ stdin: prestart });
  // Held in its cgroup once ready (LinuxHostPlatform.holdLauncher) by the platform made below; registered here,
  // before any run can take it, so a hold never moves a launcher a run already put in its own cgroup.
  let platform: LinuxHostPlatform | null = null;
  const soon = new PrestartedLauncherSource(cold, prestart, started, (l) => platform?.holdLauncher(l));
  const made = (p: EngineParts & { platform: LinuxHostPlatform }) => ((platform = p.platform), p);
  // Every launcher of this engine goes through the stage, which dies with this process: no reaper needed.
  const cached = readStageCache(stagePrefix.prefix);
  if (cached) {
    // The launcher's start through the stage is the check of the kept verdict (stage-cache.ts).
    started.catch(() => dropStageCache());
    return made(parts(backend, { ...opts, launchers: soon }, false, availableStage(stagePrefix.prefix, cached.privateDevpts)));
  }
  const stage = await backend.namespaceStageAsync();
  if (!stage.available) {
    soon.dispose();
    return parts(backend, { ...opts, prestart });
  }
  writeStageCache(stagePrefix.prefix, stage.privateDevpts === true);
  return made(parts(backend, { ...opts, launchers: soon }, false));
}

export const linuxBinding: HostBinding<LinuxBackend> = { parts, partsSoon };
