// Linux's launcher half (native/backend.ts Applier): libc through koffi, loaded while a pooled launcher waits,
// and the one-way sequence of apply.ts.
import type { Applier, ApplyHooks } from '../backend';
import type { Plan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { loadLibc, type Libc } from './libc';
import { applyAndExec, warmSignalReads } from './apply';
import { warmRulePath } from './landlock';

export function createLinuxApplier(): Applier {
  let libc: Libc | null = null;
  return {
    platform: 'linux',
    applyAndExec(plan: Plan, hooks?: ApplyHooks): never {
      if (plan.platform !== 'linux') throw new SandboxError('PROTOCOL_INVALID', `Linux launcher got a ${plan.platform} plan`);
      return applyAndExec(plan, (libc ??= loadLibc()), hooks);
    },
    prepare() {
      libc ??= loadLibc();
      try {
        warmRulePath(libc);
        warmSignalReads(libc);
      } catch {
        // only a warm-up: the run's own pass reports what fails
      }
    },
  };
}
