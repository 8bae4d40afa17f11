// Windows' host binding: no namespace stage; each run's job object lives in this process (platform.ts).
import type { Win32Backend } from '../../../native';
import { plainLauncherParts, type HostBinding } from '../engine-parts';
import { Win32HostPlatform } from './platform';

export const win32Binding: HostBinding<Win32Backend> = {
  parts: (backend, opts) => plainLauncherParts(() => new Win32HostPlatform(backend), opts),
};
