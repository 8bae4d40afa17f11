// script-sandbox: run | check | explain | demo | bench. Exit status of `run` is the script's, 128+signal
// when it was killed, 125 for a sandbox setup error, 126/127 like a shell.
import { explainPolicy, protectedSet } from '../policy';
import { diskModelFs } from '../../native/linux/carve-outs';
import { SandboxError } from '../errors';
import { createEngine, type Engine } from '../host/engine';
import { parseRunArgs, UsageError, RUN_FLAGS_HELP } from './args';
import { cmdRun, loadPolicy } from './run';
import { runDemo } from './demo';
import { runBench } from './bench';
import { runAuditCommand } from './audit';
import { cmdGitCache, cmdGitRun } from './git-run';

const HELP = `script-sandbox — run scripts under real OS restrictions

  script-sandbox run [flags] [--] COMMAND [ARGS...]
  script-sandbox check [--json]            what this machine can enforce (exit 1 if enforce is impossible)
  --no-namespaces (with any command)       fallback tier: no user/mount/PID namespaces (also SCRIPT_SANDBOX_NAMESPACES=0)
  script-sandbox explain [flags]           the resolved policy, as JSON
  script-sandbox demo                      a sandboxed sample run: a blocked write, a blocked syscall
  script-sandbox bench [--iterations N]    native vs sandboxed timings
  script-sandbox audit tail|stats|verify   the workspace's audit log (script-sandbox audit help)
  script-sandbox git-run (--repo URL --ref REF --script PATH | --name NAME) [--yes] [--cache DIR] [run flags] [-- ARGS]
                                           fetch a script from git in the sandbox, approve its commit, run it
  script-sandbox git-cache clean [--cache DIR]   remove cached mirrors, checkouts and approvals

run/explain flags:
  --workspace DIR   --policy FILE   --events FILE   --audit FILE (default WORKSPACE/.sandbox/audit.jsonl)
  ${RUN_FLAGS_HELP.join(' ')}
  (--allow-*/--deny-*/--env-allow are repeatable; globs are relative to the workspace or absolute, ~ is home)

Exit status of run: the script's; 128+N if killed by signal N; 125 sandbox setup error; 126 not executable; 127 not found.`;

function cmdCheck(argv: string[]): number {
  const json = argv.includes('--json');
  let engine: Engine | null = null;
  try {
    engine = createEngine();
    const r = engine.capabilities();
    if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      process.stdout.write(`platform ${r.platform} ${r.arch}, kernel ${r.kernel}\n`);
      for (const c of r.capabilities) {
        process.stdout.write(`  ${c.available ? 'yes' : 'NO '}  ${c.name.padEnd(20)} ${c.detail}${!c.available && c.fix ? `\n        fix: ${c.fix}` : ''}\n`);
      }
      process.stdout.write(`  tree limits (memory, processes): ${r.treeLimits}\n`);
      const ns = r.capabilities.find((c) => c.name === 'namespaces');
      if (ns) process.stdout.write(`  protection tier: ${ns.detail}\n`);
      process.stdout.write(r.enforcePossible ? 'enforce mode: possible\n' : 'enforce mode: IMPOSSIBLE on this machine (use warn or disabled)\n');
    }
    return r.enforcePossible ? 0 : 1;
  } finally {
    engine?.dispose();
  }
}

function cmdExplain(argv: string[]): number {
  const args = parseRunArgs(argv, process.cwd());
  if (args.command.length) throw new UsageError(`explain takes no command (got "${args.command[0]}")`);
  const { policy, notes } = loadPolicy(args.workspace, args.policyFile, args.layer);
  // The protected set as the run's filesystem model reads it (gitdir of a .git file, core.hooksPath).
  process.stdout.write(JSON.stringify({ ...explainPolicy(policy, protectedSet(policy, diskModelFs)), notes }, null, 2) + '\n');
  return 0;
}

export async function main(given: string[]): Promise<number> {
  // --no-namespaces (any command): the fallback tier, through the one switch the engine reads.
  const argv = given.filter((a) => a !== '--no-namespaces');
  if (argv.length !== given.length) process.env.SCRIPT_SANDBOX_NAMESPACES = '0';
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'run':
        return await cmdRun(rest);
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
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP + '\n');
        return sub === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${sub}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`script-sandbox: ${e.message}\n`);
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
