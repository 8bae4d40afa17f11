// The flags of `run`, `explain` and `git-run`, as one spec for the shared parser (parse.ts, node:util
// parseArgs): each policy flag with its value name, help and how it sets the run's policy layer.
import type { PolicyInput } from '../policy/schema';
import { parseCommand, UsageError, type CommandSpec, type OptionSpec } from './parse';

export { UsageError };

export interface RunArgs {
  policyFile: string | null;
  workspace: string;
  eventsFile: string | null;
  /** Audit log; default <workspace>/.sandbox/audit.jsonl. */
  auditFile: string | null;
  json: boolean;
  layer: PolicyInput;
  command: string[];
}

type PolicyFlag = OptionSpec & { apply: (layer: PolicyInput, v: string) => void };

const num = (flag: string, v: string, integer = true): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} takes a positive ${integer ? 'whole ' : ''}number, got "${v}"`);
  return n;
};
const fsl = (l: PolicyInput) => (l.filesystem ??= {});
const lim = (l: PolicyInput) => (l.limits ??= {});
const value = (v: string, help: string, apply: PolicyFlag['apply'], extra: Partial<OptionSpec> = {}): PolicyFlag => ({ type: 'string', value: v, help, apply, ...extra });
const list = (v: string, help: string, apply: PolicyFlag['apply']): PolicyFlag => ({ type: 'string', multiple: true, value: v, help, apply });

/** Policy flags by name (without the dashes). */
const POLICY_FLAGS: Record<string, PolicyFlag> = {
  mode: value('MODE', 'sandbox mode', (l, v) => void (l.mode = v as PolicyInput['mode']), { choices: ['disabled', 'warn', 'enforce'] }),
  profile: value('PROFILE', 'base policy profile', (l, v) => void (l.profile = v as PolicyInput['profile']), { choices: ['strict', 'moderate', 'permissive'] }),
  timeout: value('SECONDS', 'wall-clock limit of the run', (l, v) => void (lim(l).timeoutSeconds = num('--timeout', v, false))),
  cpu: value('SECONDS', 'CPU time limit (whole seconds)', (l, v) => void (lim(l).cpuSeconds = num('--cpu', v))),
  memory: value('MiB', 'memory of the whole process tree', (l, v) => void (lim(l).memoryMiB = num('--memory', v))),
  'max-procs': value('N', 'processes in the tree at once', (l, v) => void (lim(l).maxProcesses = num('--max-procs', v))),
  'max-file-size': value('MiB', 'largest file the script may write', (l, v) => void (lim(l).fileSizeMiB = num('--max-file-size', v))),
  'open-files': value('N', 'open file descriptors per process', (l, v) => void (lim(l).openFiles = num('--open-files', v))),
  'allow-read': list('GLOB', 'also readable', (l, v) => void (fsl(l).allowRead ??= []).push(v)),
  'deny-read': list('GLOB', 'never readable', (l, v) => void (fsl(l).denyRead ??= []).push(v)),
  'allow-write': list('GLOB', 'also writable', (l, v) => void (fsl(l).allowWrite ??= []).push(v)),
  'deny-write': list('GLOB', 'never writable, even in the workspace', (l, v) => void (fsl(l).denyWrite ??= []).push(v)),
  unprotect: list('PATH', 'release a protected path (e.g. .git)', (l, v) => void (fsl(l).unprotect ??= []).push(v)),
  'read-only': { type: 'boolean', help: 'write nowhere (the temp dir excepted)', apply: (l) => void (fsl(l).readOnly = true) },
  'report-reads': { type: 'boolean', help: 'enforce mode: report blocked reads too', apply: (l) => void (fsl(l).reportReads = true) },
  'env-allow': list('NAME', 'environment variable (glob) passed to the script', (l, v) => void ((l.env ??= {}).allow ??= []).push(v)),
  net: value('PRESET', 'network preset', (l, v) => void ((l.network ??= {}).preset = v as never), { choices: ['none', 'strict', 'api-only', 'default'] }),
  'allow-host': list('HOST', 'host name (wildcards like *.example.com) the script may connect to', (l, v) => void ((l.network ??= {}).allowHosts ??= []).push(v)),
  'deny-host': list('HOST', 'host name never allowed', (l, v) => void ((l.network ??= {}).denyHosts ??= []).push(v)),
  'allow-address': list('CIDR[:PORT]', 'address range the script may connect to', (l, v) => void ((l.network ??= {}).allowAddresses ??= []).push(v)),
};

export const RUN_FLAGS_HELP = Object.keys(POLICY_FLAGS).map((k) => `--${k}`);

/** The options every policy-taking subcommand shares, besides the policy flags. */
export const COMMON_RUN_OPTIONS: Record<string, OptionSpec> = {
  workspace: { type: 'string', value: 'DIR', help: 'the workspace (default: the current directory)' },
  policy: { type: 'string', value: 'FILE', help: 'your own policy file (JSON with comments)' },
  events: { type: 'string', value: 'FILE', help: 'also write the run\'s events there (JSON Lines)' },
  audit: { type: 'string', value: 'FILE', help: 'audit log (default WORKSPACE/.sandbox/audit.jsonl)' },
  json: { type: 'boolean', help: 'machine-readable output' },
};

const POLICY_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(Object.entries(POLICY_FLAGS).map(([k, { apply: _apply, ...o }]) => [k, o]));

const POLICY_NOTES = `Globs are relative to the workspace or absolute; ~ is your home directory.
Policy layers: defaults < --policy FILE < WORKSPACE/.vscode/sandbox.json (may only tighten) < these flags.`;

export const RUN_SPEC: CommandSpec = {
  name: 'run',
  operands: '[--] COMMAND [ARGS...]',
  summary: 'Runs COMMAND in the sandbox; its output, each violation and how it ended go to the terminal.',
  options: { ...COMMON_RUN_OPTIONS, ...POLICY_OPTIONS },
  positionals: 'command',
  notes: `${POLICY_NOTES}
Exit status: the script's; 128+N if killed by signal N; 2 usage error; 125 sandbox setup error; 126 not executable; 127 not found.`,
};

export const EXPLAIN_SPEC: CommandSpec = {
  name: 'explain',
  summary: 'Prints the resolved policy (after every layer) as JSON.',
  options: { ...COMMON_RUN_OPTIONS, ...POLICY_OPTIONS },
  positionals: 'none',
  notes: POLICY_NOTES,
};

/** RunArgs from parsed values; policy flags applied in the order given. */
export function runArgsFrom(p: { values: Record<string, unknown>; tokens: Array<{ name: string; value: string | undefined }>; positionals: string[] }, cwd: string): RunArgs {
  const v = p.values;
  const out: RunArgs = {
    policyFile: (v.policy as string | undefined) ?? null,
    workspace: (v.workspace as string | undefined) ?? cwd,
    eventsFile: (v.events as string | undefined) ?? null,
    auditFile: (v.audit as string | undefined) ?? null,
    json: v.json === true,
    layer: {},
    command: p.positionals,
  };
  for (const t of p.tokens) {
    const flag = POLICY_FLAGS[t.name];
    if (flag) flag.apply(out.layer, t.value ?? '');
  }
  return out;
}

/** Parses `[flags] [--] command...`; the first operand starts the command. */
export function parseRunArgs(argv: string[], cwd: string, spec: CommandSpec = RUN_SPEC): RunArgs {
  return runArgsFrom(parseCommand(spec, argv), cwd);
}
