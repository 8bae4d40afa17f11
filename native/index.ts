// The one place that reads process.platform. Every caller gets a backend object and asks it what it can
// do; an OS without a backend gets an explicit "unsupported" one that refuses to apply anything.
import * as os from 'node:os';
import type { CapabilityReport, SandboxBackend } from './backend';
import { createLinuxBackend, type LinuxBackend } from './linux/backend';
import { createWin32Backend, type Win32Backend } from './win32/backend';
import { SandboxError } from '../src/errors';
import { createDarwinBackend, type DarwinBackend } from './darwin/backend';

export type { LinuxBackend } from './linux/backend';
export type { Win32Backend } from './win32/backend';
export type { DarwinBackend } from './darwin/backend';
export type { CapabilityReport, SandboxBackend, Capability } from './backend';

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
      return createLinuxBackend();
    case 'win32':
      return createWin32Backend();
    case 'darwin':
      return createDarwinBackend();
    default:
      return unsupported(platform, `no sandbox backend for ${platform}`);
  }
}
