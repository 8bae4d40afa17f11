// The launcher's process entry (dist/launcher.js): loads the launcher's bundle (dist/launcher-main.js) with
// the code cache the build made for it, then runs it. Every launcher start (cold, pooled, the CLI's) comes here.
import * as path from 'node:path';
import { requireWithCodeCache } from './code-cache';

(requireWithCodeCache(path.join(__dirname, 'launcher-main.js')) as typeof import('./main')).main();
