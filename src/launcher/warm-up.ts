// What a pooled launcher does while it waits for its plan, so that a run does not pay for it: the backend's
// bindings (libc through koffi) and a first pass of the plan reader. zod compiles a schema's fast path
// on its first parse; in a fresh launcher that first parse of a real plan cost tens of ms, against about one
// once warm (the Landlock rules are checked by hand since, see parseHostPlanMessage). The sample has every
// part of a Linux plan, so each nested schema is compiled; it is parsed and dropped, nothing of it is applied.
import type { Applier } from '../../native/backend';
import { parseHostPlanMessage } from '../protocol/launcher';

export function warmUp(applier: Applier): void {
  applier.prepare?.();
  if (applier.platform !== 'linux') return;
  const rules = Array.from({ length: 64 }, (_, i) => ({ path: `/warm-up/${i}`, access: ['read_file', 'read_dir'] }));
  const plan = {
    platform: 'linux',
    runId: 'warm-up',
    file: '/bin/true',
    argv: ['/bin/true'],
    env: { PATH: '/usr/bin:/bin' },
    cwd: '/',
    rlimits: [{ resource: 'core', soft: 0, hard: 0 }],
    noNewPrivs: true,
    landlock: { handled: ['read_file'], rules, carveOuts: [], scopes: ['signal'] },
    seccomp: { program: 'AAAAAA==', listener: true },
    requireLandlock: true,
    namespaces: { writable: ['/tmp'], readOnly: [], hidden: [], pinned: [], isolateNetwork: false },
    terminal: null,
  };
  const line = JSON.stringify({ type: 'plan', plan });
  // A few passes: V8 optimises the validator's hot loops after some iterations, not on the first.
  for (let i = 0; i < 8; i++) parseHostPlanMessage(line);
}
