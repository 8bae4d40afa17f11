// The CLI's usage text, apart from the commands so that `--help` answers without loading them (src/cli/entry.ts).
import { RUN_FLAGS_HELP } from './args';

export const HELP = `script-sandbox — run scripts under real OS restrictions (script-sandbox COMMAND --help for each)

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
  script-sandbox approve [--workspace DIR] [--yes]  approve a .vscode/sandbox.json that loosens your policy

run/explain flags:
  --workspace DIR   --policy FILE   --events FILE   --audit FILE (default WORKSPACE/.sandbox/audit.jsonl)
  ${RUN_FLAGS_HELP.join(' ')}
  (--allow-*/--deny-*/--env-allow are repeatable; globs are relative to the workspace or absolute, ~ is home)

  script-sandbox --version                 the version

Exit status of run: the script's; 128+N if killed by signal N; 2 usage error; 125 sandbox setup error; 126 not executable; 127 not found.`;
