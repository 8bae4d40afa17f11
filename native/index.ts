// The one place that reads process.platform. Every caller gets a backend object and asks it what it can
// do; an OS without a backend gets an explicit "unsupported" one that refuses to apply anything.
import * as os from 'node:os';
import type { CapabilityReport, SandboxBackend } from './backend';
import { createLinuxBackend, type LinuxBackend } from './linux/backend';
import { SandboxError } from '../src/errors';

export type { LinuxBackend } from './linux/backend';
export type { CapabilityReport, SandboxBackend, Capability } from './backend';

export interface UnsupportedBackend extends SandboxBackend {
  readonly supported: false;
}

export type AnyBackend = LinuxBackend | UnsupportedBackend;

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
      return unsupported(platform, 'Windows Job Object backend not implemented yet: enforce is impossible, disabled mode only');
    case 'darwin':
      return unsupported(platform, 'macOS rlimit/Seatbelt backend not implemented yet: enforce is impossible, disabled mode only');
    default:
      return unsupported(platform, `no sandbox backend for ${platform}`);
  }
}
