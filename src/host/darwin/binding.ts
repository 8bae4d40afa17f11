// macOS' host binding: no namespace stage, the watchdog over `ps`, the same launcher sources.
import type { DarwinBackend } from '../../../native';
import { plainLauncherParts, type HostBinding } from '../engine-parts';
import { DarwinHostPlatform } from './platform';

export const darwinBinding: HostBinding<DarwinBackend> = {
  parts: (backend, opts) => plainLauncherParts((launchers) => new DarwinHostPlatform(backend, (pid) => launchers.owns(pid)), opts),
};
