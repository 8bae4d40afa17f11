// The launcher's process entry (dist/launcher.js): loads the launcher's bundle (dist/launcher-main.js) with
// the code cache the build made for it, then runs it. Every launcher start (cold, pooled, the CLI's) comes here.
import * as path from 'node:path';
import { requireWithCodeCache } from '../protocol/code-cache';
import { zodJitlessBeforeLoad } from './zod-jitless';

// A launcher parses one plan (and a join or two): zod's compiled fast path costs more to build than it saves
// (the first parse of a real plan 5.5 ms with it, 2.8 ms without; the later ones alike, about 0.3 ms).
zodJitlessBeforeLoad();
(requireWithCodeCache(path.join(__dirname, 'launcher-main.js')) as typeof import('./main')).main();
