// What a pooled launcher does while it waits for its plan, so that a run does not pay for it: the backend's
// bindings (libc through koffi) and a first pass of the plan reader. The first parse of a plan in a fresh
// process costs about 2.7 ms (zod's lazily built parts, V8 compiling the validator), a later one about 0.4:
// the sample has every part of a Linux plan, so each nested schema is built; it is parsed and dropped, nothing
// of it is applied. (zod's compiled fast path is off in the launcher: src/launcher/entry.ts.)
import type { Applier } from '../../native/backend';
import { parseHostPlanMessage } from '../protocol/launcher';

export function warmUp(applier: Applier): void {
  applier.prepare?.();
  if (applier.platform !== 'linux') return;
  // A second pass takes the real plan's parse from 0.46 to 0.36 ms; more passes gain nothing measurable.
  for (let i = 0; i < 2; i++) parsePlanSample();
}

/**
 * Parses (and drops) a sample Linux plan with every part: the warm-up's pass, and the workload the build runs
 * before it writes the launcher's code cache (src/protocol/code-cache.ts), so the reader's functions are in it.
 */
export function parsePlanSample(): void {
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
  parseHostPlanMessage(JSON.stringify({ type: 'plan', plan }));
}
