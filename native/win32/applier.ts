// Windows' launcher half (native/backend.ts Applier): the script as a process in the run's job, under the
// run's token (spawn.ts).
import type { Applier, ApplyHooks } from '../backend';
import type { Plan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { applyAndExecWin32 } from './spawn';

export function createWin32Applier(): Applier {
  return {
    platform: 'win32',
    applyAndExec(plan: Plan, hooks?: ApplyHooks): never {
      if (plan.platform !== 'win32') throw new SandboxError('PROTOCOL_INVALID', `Windows launcher got a ${plan.platform} plan`);
      return applyAndExecWin32(plan, hooks);
    },
  };
}
