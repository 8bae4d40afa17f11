// The supervisor worker's entry (dist/supervisor.js): loads the worker's bundle (dist/supervisor-main.js) with
// the code cache the build made for it (src/protocol/code-cache.ts). A worker compiling the 350 KB bundle
// took 62 ms of CPU to a loaded module, 48 with the cache; in a cold CLI run that start overlaps the launcher's
// on two cores, so its CPU is the run's time.
import * as path from 'node:path';
import { requireWithCodeCache } from '../../protocol/code-cache';

requireWithCodeCache(path.join(__dirname, 'supervisor-main.js'));
