// macOS's launcher half (native/backend.ts Applier): rlimits and the Seatbelt profile (apply.ts), then exec.
import type { Applier, ApplyHooks } from '../backend';
import type { Plan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { applyDarwinAndExec } from './apply';
import { loadLibSystem } from './libsystem';

export function createDarwinApplier(): Applier {
  return {
    platform: 'darwin',
    // The launcher's plan arrives typed as the shared Plan; on this backend it is a DarwinPlan.
    applyAndExec(plan: Plan, hooks?: ApplyHooks): never {
      if (plan.platform !== 'darwin') throw new SandboxError('PROTOCOL_INVALID', `macOS launcher got a ${plan.platform} plan`);
      return applyDarwinAndExec(plan, loadLibSystem(), hooks);
    },
  };
}
