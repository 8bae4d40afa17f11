// The host's side of src/gitscript's "run this" interface: git and tar run through the engine's runner,
// recorded in the audit log when the caller asks.
import type { SandboxRunner } from '../gitscript/sandbox';
import { attachAudit } from './audit-recorder';
import type { Engine } from './engine';

export function gitSandbox(engine: Engine): SandboxRunner {
  return {
    run(c) {
      const h = engine.runner.run({ command: c.command, cwd: c.cwd, policy: c.policy, env: c.env, stdin: 'ignore' });
      if (c.audit) attachAudit(h, c.audit.log, { command: c.command, cwd: c.cwd, policy: c.audit.recordedPolicy, capabilities: engine.capabilities(), secretValues: [] });
      return h;
    },
  };
}
