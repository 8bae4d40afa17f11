// What a cold `script-sandbox run` executes before its launcher gets the plan (its flags, the policy, the
// Linux plan, the host's reactions), run once by the build in the process that writes the commands' code
// cache (src/protocol/code-cache.ts). V8 puts the functions compiled so far into the cache, so a cold run
// deserialises them instead of compiling each at its first call (this path in a fresh process: 33 ms
// without them in the cache, 24 with). Reads the disk only, beside a temp folder it removes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBackend } from '../../native';
import { compileReactions } from '../protocol/run-reactions';
import { parseRunArgs } from './args';
import { loadPolicy } from './run';

export function codeCacheWorkload(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'script-sandbox-code-cache-'));
  try {
    const args = parseRunArgs(['--mode', 'enforce', '--', '/bin/true'], dir);
    const { policy } = loadPolicy(dir, null, args.layer);
    compileReactions(policy);
    const backend = loadBackend();
    if (backend.platform !== 'linux' || !backend.supported) return;
    const req = { runId: 'code-cache', file: '/bin/true', argv: ['/bin/true'], env: { PATH: '/usr/bin:/bin' }, cwd: dir, tmpDir: dir, toolRoots: [], nprocLimit: null, memoryWatchdogOnly: false, listener: true };
    for (const namespaces of [true, false]) backend.compile(policy, { ...req, namespaces });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
