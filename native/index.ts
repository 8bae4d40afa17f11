// The one place that reads process.platform. Every caller gets a backend object and asks it what it can
// do; an OS without a backend gets an explicit "unsupported" one that refuses to apply anything. A launcher
// asks for its OS's applier only (the launcher's half of a backend). Each OS's modules are required when
// asked for, so a process initialises its own OS's code only: a launcher builds no policy schema and runs
// no compiler, and no other OS's bindings (the others are in the bundle but never run).
import * as os from 'node:os';
import type { Applier, CapabilityReport, SandboxBackend } from './backend';
import type { LinuxBackend } from './linux/backend';
import type { Win32Backend } from './win32/backend';
import { SandboxError } from '../src/errors';
import type { DarwinBackend } from './darwin/backend';

export type { LinuxBackend } from './linux/backend';
export type { Win32Backend } from './win32/backend';
export type { DarwinBackend } from './darwin/backend';
export type { Applier, CapabilityReport, SandboxBackend, Capability } from './backend';

export interface UnsupportedBackend extends SandboxBackend {
  readonly supported: false;
}

export type AnyBackend = LinuxBackend | Win32Backend | DarwinBackend | UnsupportedBackend;

function unsupported(platform: string, why: string): UnsupportedBackend {
  return {
    platform,
    supported: false,
    probe(): CapabilityReport {
      return {
        platform,
        arch: process.arch,
        kernel: `${os.type()} ${os.release()}`,
        capabilities: [{ name: 'backend', available: false, detail: why, requiredForEnforce: true }],
        treeLimits: 'none',
        enforcePossible: false,
      };
    },
    applyAndExec(): never {
      throw new SandboxError('PLATFORM_UNSUPPORTED', why);
    },
  };
}

export function loadBackend(platform: string = process.platform): AnyBackend {
  switch (platform) {
    case 'linux':
      return (require('./linux/backend') as typeof import('./linux/backend')).createLinuxBackend();
    case 'win32':
      return (require('./win32/backend') as typeof import('./win32/backend')).createWin32Backend();
    case 'darwin':
      return (require('./darwin/backend') as typeof import('./darwin/backend')).createDarwinBackend();
    default:
      return unsupported(platform, `no sandbox backend for ${platform}`);
  }
}

/** The launcher's half of this OS's backend (applyAndExec, prepare), without the host's half. */
export function loadApplier(platform: string = process.platform): Applier {
  switch (platform) {
    case 'linux':
      return (require('./linux/applier') as typeof import('./linux/applier')).createLinuxApplier();
    case 'win32':
      return (require('./win32/applier') as typeof import('./win32/applier')).createWin32Applier();
    case 'darwin':
      return (require('./darwin/applier') as typeof import('./darwin/applier')).createDarwinApplier();
    default:
      return unsupported(platform, `no sandbox backend for ${platform}`);
  }
}
