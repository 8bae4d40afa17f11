// script-sandbox: run | check | explain | demo | bench. Exit status of `run` is the script's, 128+signal
// when it was killed, 125 for a sandbox setup error, 126/127 like a shell.
import { explainPolicy, protectedSet } from '../policy';
import { diskModelFs } from '../../native/linux/carve-outs';
import { SandboxError } from '../errors';
import { createEngine, type Engine } from '../host/engine';
import { EXPLAIN_SPEC, parseRunArgs, UsageError } from './args';
import { colours, HelpRequest, parseCommand, suggest, type CommandSpec } from './parse';
import { version as PACKAGE_VERSION } from '../../package.json';
import { HELP } from './help';
import { cmdRun, loadPolicy } from './run';
import { runDemo } from './demo';
import { runBench } from './bench';
import { runAuditCommand } from './audit';
import { cmdApprove } from './approve';
import { cmdGitCache, cmdGitRun } from './git-run';
import { discardEarly, type EarlyLauncher } from '../host/launcher-spawn';
// The build's workload before it writes this bundle's code cache (src/protocol/code-cache.ts).
export { codeCacheWorkload } from './code-cache-workload';

const VERSION: string = PACKAGE_VERSION;

const SUBCOMMANDS = ['approve', 'run', 'check', 'explain', 'demo', 'bench', 'audit', 'git-run', 'git-cache', 'help'];

const CHECK_SPEC: CommandSpec = {
  name: 'check',
  summary: 'What this machine can enforce, mechanism by mechanism, with a fix for each missing one. Exit 1 when enforce mode is impossible.',
  options: { json: { type: 'boolean', help: 'the capability report as JSON' } },
  positionals: 'none',
};

function cmdCheck(argv: string[]): number {
  const json = parseCommand(CHECK_SPEC, argv).values.json === true;
  const c = colours(process.stdout);
  let engine: Engine | null = null;
  try {
    engine = createEngine();
    const r = engine.capabilities();
    if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      process.stdout.write(`platform ${r.platform} ${r.arch}, kernel ${r.kernel}\n`);
      for (const cap of r.capabilities) {
        process.stdout.write(`  ${cap.available ? c.green('yes') : c.red('NO ')}  ${cap.name.padEnd(20)} ${cap.detail}${!cap.available && cap.fix ? `\n        ${c.yellow('fix:')} ${cap.fix}` : ''}\n`);
      }
      process.stdout.write(`  tree limits (memory, processes): ${r.treeLimits}\n`);
      const ns = r.capabilities.find((c) => c.name === 'namespaces');
      if (ns) process.stdout.write(`  protection tier: ${ns.detail}\n`);
      process.stdout.write(r.enforcePossible ? `enforce mode: ${c.green('possible')}\n` : `enforce mode: ${c.red('IMPOSSIBLE')} on this machine (use warn or disabled)\n`);
    }
    return r.enforcePossible ? 0 : 1;
  } finally {
    engine?.dispose();
  }
}

function cmdExplain(argv: string[]): number {
  const args = parseRunArgs(argv, process.cwd(), EXPLAIN_SPEC);
  const { policy, notes } = loadPolicy(args.workspace, args.policyFile, args.layer);
  // The protected set as the run's filesystem model reads it (gitdir of a .git file, core.hooksPath).
  process.stdout.write(JSON.stringify({ ...explainPolicy(policy, protectedSet(policy, diskModelFs)), notes }, null, 2) + '\n');
  return 0;
}

/** `early`: the launcher the entry started for `run` (src/host/launcher-spawn.ts); killed here if unused. */
export async function main(given: string[], early?: EarlyLauncher): Promise<number> {
  try {
    return await mainCommand(given, early);
  } finally {
    discardEarly(early);
  }
}

async function mainCommand(given: string[], early: EarlyLauncher | undefined): Promise<number> {
  // --no-namespaces (any command): the fallback tier, through the one switch the engine reads.
  const argv = given.filter((a) => a !== '--no-namespaces');
  if (argv.length !== given.length) process.env.SCRIPT_SANDBOX_NAMESPACES = '0';
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'run':
        return await cmdRun(rest, early);
      case 'check':
        return cmdCheck(rest);
      case 'explain':
        return cmdExplain(rest);
      case 'demo':
        return await runDemo(rest);
      case 'bench':
        return await runBench(rest);
      case 'audit':
        return await runAuditCommand(rest);
      case 'git-run':
        return await cmdGitRun(rest);
      case 'git-cache':
        return cmdGitCache(rest);
      case 'approve':
        return await cmdApprove(rest);
      case '--version':
      case '-V':
      case 'version':
        process.stdout.write(`script-sandbox ${VERSION}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        if (sub === 'help' && rest[0] && rest[0] !== 'help') return await main([rest[0], '--help']);
        process.stdout.write(HELP + '\n');
        return sub === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${sub}"${suggest(sub, SUBCOMMANDS, (c) => ` (did you mean ${c}?)`)}; see script-sandbox --help`);
    }
  } catch (e) {
    if (e instanceof HelpRequest) {
      process.stdout.write(`${e.text}\n`);
      return 0;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${colours(process.stderr).red('script-sandbox:')} ${e.message}\n`);
      return 2;
    }
    if (e instanceof SandboxError) {
      process.stderr.write(`script-sandbox: ${e.code}: ${e.message}${e.call ? ` (${e.call})` : ''}\n`);
      return sub === 'explain' || sub === 'check' ? 2 : 125;
    }
    process.stderr.write(`script-sandbox: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 125;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`script-sandbox: ${String(e)}\n`);
      process.exitCode = 125;
    },
  );
}
