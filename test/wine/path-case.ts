// Run by Node for Windows under Wine: starts the CLI with an environment that spells the search path `Path`
// (as Windows does), never `PATH`, and the bare command `mytool` that only that Path finds.
// Profile permissive: the environment does not depend on it, and it sets no job limit (Wine keeps none, so
// enforce refuses a policy that sets one). Usage: node.exe path-case.js CLI WORKSPACE BINDIR.
// Output: the CLI's, after one line saying what was passed.
import { spawnSync } from 'node:child_process';

const [cli, ws, bin] = process.argv.slice(2);
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k.toUpperCase() !== 'PATH') env[k] = v;
env.Path = `${process.env.SystemRoot ?? 'C:\\windows'}\\system32;${bin}`;
console.log(`caller env: ${Object.keys(env).filter((k) => k.toUpperCase() === 'PATH').join(',') === 'Path' ? 'Path only' : 'unexpected'}`);
const r = spawnSync(process.execPath, [cli, 'run', '--workspace', ws, '--mode', 'enforce', '--profile', 'permissive', '--', 'mytool'], { cwd: ws, env, stdio: ['ignore', 1, 1] });
process.exitCode = r.status ?? 1;
