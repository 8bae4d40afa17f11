// Flag parsing for the CLI. Hand-rolled: a dozen flags do not justify a dependency, and every mistake
// gets a message that names the flag.
import type { PolicyInput } from '../policy/schema';

export class UsageError extends Error {}

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

type Spec = { kind: 'value' | 'list' | 'flag'; apply: (layer: PolicyInput, v: string) => void };

const num = (flag: string, v: string, integer = true): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} takes a positive ${integer ? 'whole ' : ''}number, got "${v}"`);
  return n;
};
const fsl = (l: PolicyInput) => (l.filesystem ??= {});
const lim = (l: PolicyInput) => (l.limits ??= {});

const POLICY_FLAGS: Record<string, Spec> = {
  '--mode': { kind: 'value', apply: (l, v) => void (l.mode = v as PolicyInput['mode']) },
  '--profile': { kind: 'value', apply: (l, v) => void (l.profile = v as PolicyInput['profile']) },
  '--timeout': { kind: 'value', apply: (l, v) => void (lim(l).timeoutSeconds = num('--timeout', v, false)) },
  '--cpu': { kind: 'value', apply: (l, v) => void (lim(l).cpuSeconds = num('--cpu', v)) },
  '--memory': { kind: 'value', apply: (l, v) => void (lim(l).memoryMiB = num('--memory', v)) },
  '--max-procs': { kind: 'value', apply: (l, v) => void (lim(l).maxProcesses = num('--max-procs', v)) },
  '--max-file-size': { kind: 'value', apply: (l, v) => void (lim(l).fileSizeMiB = num('--max-file-size', v)) },
  '--open-files': { kind: 'value', apply: (l, v) => void (lim(l).openFiles = num('--open-files', v)) },
  '--allow-read': { kind: 'list', apply: (l, v) => void (fsl(l).allowRead ??= []).push(v) },
  '--deny-read': { kind: 'list', apply: (l, v) => void (fsl(l).denyRead ??= []).push(v) },
  '--allow-write': { kind: 'list', apply: (l, v) => void (fsl(l).allowWrite ??= []).push(v) },
  '--deny-write': { kind: 'list', apply: (l, v) => void (fsl(l).denyWrite ??= []).push(v) },
  '--unprotect': { kind: 'list', apply: (l, v) => void (fsl(l).unprotect ??= []).push(v) },
  '--read-only': { kind: 'flag', apply: (l) => void (fsl(l).readOnly = true) },
  '--report-reads': { kind: 'flag', apply: (l) => void (fsl(l).reportReads = true) },
  '--env-allow': { kind: 'list', apply: (l, v) => void ((l.env ??= {}).allow ??= []).push(v) },
  '--net': { kind: 'value', apply: (l, v) => void ((l.network ??= {}).preset = v as never) },
  '--allow-host': { kind: 'list', apply: (l, v) => void ((l.network ??= {}).allowHosts ??= []).push(v) },
  '--deny-host': { kind: 'list', apply: (l, v) => void ((l.network ??= {}).denyHosts ??= []).push(v) },
  '--allow-address': { kind: 'list', apply: (l, v) => void ((l.network ??= {}).allowAddresses ??= []).push(v) },
};

export const RUN_FLAGS_HELP = Object.keys(POLICY_FLAGS);

/** Parses `[flags] [--] command...`; the first non-flag word starts the command. */
export function parseRunArgs(argv: string[], cwd: string): RunArgs {
  const out: RunArgs = { policyFile: null, workspace: cwd, eventsFile: null, auditFile: null, json: false, layer: {}, command: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.command = argv.slice(i + 1);
      break;
    }
    if (!a.startsWith('--')) {
      out.command = argv.slice(i);
      break;
    }
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--workspace') out.workspace = value();
    else if (flag === '--policy') out.policyFile = value();
    else if (flag === '--events') out.eventsFile = value();
    else if (flag === '--audit') out.auditFile = value();
    else if (flag === '--json') out.json = true;
    else {
      const spec = POLICY_FLAGS[flag];
      if (!spec) throw new UsageError(`unknown flag ${flag} (see script-sandbox help)`);
      spec.apply(out.layer, spec.kind === 'flag' ? '' : value());
    }
  }
  return out;
}
