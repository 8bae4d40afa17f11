// The CLI's process entry (dist/cli.js). Usage text is answered from this small bundle; every command loads
// the rest (dist/cli-main.js: policy engine, zod, koffi) only when it runs, so `--help` costs about one Node
// start. src/cli/main.ts stays the module tests import.
import * as path from 'node:path';
import { HELP } from './help';
import { requireWithCodeCache } from '../launcher/code-cache';

function entry(given: string[]): Promise<number> | number {
  const words = given.filter((a) => a !== '--no-namespaces');
  const sub = words[0];
  // `help COMMAND` is the command's own help, which the commands' bundle answers.
  if (sub === undefined || ((sub === 'help' || sub === '--help' || sub === '-h') && words.length === 1)) {
    process.stdout.write(HELP + '\n');
    return sub === undefined ? 2 : 0;
  }
  // A path esbuild does not follow: the commands are their own bundle beside this one, loaded with the code
  // cache the build made for it.
  const mod = requireWithCodeCache(path.join(__dirname, 'cli-main.js')) as typeof import('./main');
  return mod.main(given);
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
