// The CLI's process entry (dist/cli.js). Usage text is answered from this small bundle; every command loads
// the rest (dist/cli-main.js: policy engine, zod, koffi) only when it runs, so `--help` costs about one Node
// start. src/cli/main.ts stays the module tests import.
import * as path from 'node:path';
import { HELP } from './help';
import { requireWithCodeCache } from '../protocol/code-cache';
import { zodJitlessBeforeLoad } from '../launcher/zod-jitless';
import { restoreHandedOverEnv } from './env-handover';
import { namespacesWanted, namespaceStagePrefix } from '../../native/linux/namespace-stage';
import { spawnLauncher, type EarlyLauncher } from '../host/launcher-spawn';

function entry(given: string[]): Promise<number> | number {
  // First: nothing before this reads the environment (the modules above only declare).
  restoreHandedOverEnv();
  const words = given.filter((a) => a !== '--no-namespaces');
  const sub = words[0];
  // `help COMMAND` is the command's own help, which the commands' bundle answers.
  if (sub === undefined || ((sub === 'help' || sub === '--help' || sub === '-h') && words.length === 1)) {
    process.stdout.write(HELP + '\n');
    return sub === undefined ? 2 : 0;
  }
  // `run`: the launcher (a second Node start, behind the namespace stage) starts first, so it boots while this
  // process loads the commands; the engine adopts it if it is exactly the one it would start, else kills it.
  const early = sub === 'run' ? startEarlyLauncher(given) : undefined;
  // A one-shot command parses each schema once or twice: zod's compiled fast path costs more to build than it
  // saves. The bench keeps it: it times the engine as the host runs it (the host parses many times).
  if (sub !== 'bench') zodJitlessBeforeLoad();
  // A path esbuild does not follow: the commands are their own bundle beside this one, loaded with the code
  // cache the build made for it.
  const mod = requireWithCodeCache(path.join(__dirname, 'cli-main.js')) as typeof import('./main');
  return mod.main(given, early);
}

/** The namespace tier's launcher, unless this run will not use one (--no-namespaces, no stage here, --help). */
function startEarlyLauncher(given: string[]): EarlyLauncher | undefined {
  const own = given.indexOf('--') < 0 ? given : given.slice(0, given.indexOf('--'));
  if (!namespacesWanted() || given.includes('--no-namespaces') || own.includes('--help') || own.includes('-h')) return undefined;
  const stage = namespaceStagePrefix();
  if ('unavailable' in stage) return undefined;
  const launcherPath = path.join(__dirname, 'launcher.js');
  const child = spawnLauncher(launcherPath, process.execPath, stage.prefix, 'inherit');
  // Until the engine adopts it (and listens), a failed spawn must not be an unhandled 'error' event.
  child.on('error', () => undefined);
  return { child, prefix: stage.prefix, launcherPath, nodePath: process.execPath, stdin: 'inherit', claimed: false };
}

Promise.resolve()
  .then(() => entry(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`script-sandbox: ${String(e)}\n`);
      process.exitCode = 125;
    },
  );
