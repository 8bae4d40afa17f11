// The one argument parser of every subcommand: node:util parseArgs (strict), driven by a spec that also
// writes each subcommand's --help (value names, choices). Usage mistakes are UsageError (exit 2), raised
// before a subcommand creates anything; --help is HelpRequest (exit 0). Also: colour for a terminal.
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

/** `--help`/`-h` was given: the text to print on stdout, exit 0. */
export class HelpRequest extends Error {
  constructor(readonly text: string) {
    super('help');
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once. */
  multiple?: boolean;
  /** Name of the value in help, e.g. FILE, N, MODE. */
  value?: string;
  /** Allowed values (checked here, so a typo never reaches the policy). */
  choices?: readonly string[];
  help: string;
}

export interface CommandSpec {
  /** "run", "audit tail", … */
  name: string;
  /** What follows the options in the usage line, e.g. "[--] COMMAND [ARGS...]". */
  operands?: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /**
   * 'none': no operands; 'any': operands anywhere (parseArgs' own handling); 'command': the first operand
   * starts a command whose own flags are not ours (`run ls -la`).
   */
  positionals: 'none' | 'any' | 'command';
  /** Extra lines at the end of the help. */
  notes?: string;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** The options as given, in order, e.g. for flags whose order matters. */
  tokens: Array<{ name: string; value: string | undefined }>;
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'this help' };

/** Parses argv for the command; throws UsageError naming the flag, or HelpRequest. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options = { ...spec.options, help: HELP_OPTION };
  const [head, command] = spec.positionals === 'command' ? splitAtCommand(options, argv) : [argv, []];
  let r: ReturnType<typeof parseArgs>;
  try {
    r = parseArgs({
      args: head,
      options: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }])),
      strict: true,
      allowPositionals: spec.positionals !== 'none',
      tokens: true,
    });
  } catch (e) {
    if (head.includes('--help') || head.includes('-h')) throw new HelpRequest(helpText(spec));
    throw new UsageError(describeParseError(spec, e as Error & { code?: string }));
  }
  if (r.values.help) throw new HelpRequest(helpText(spec));
  for (const [k, o] of Object.entries(spec.options)) {
    const v = r.values[k];
    if (!o.choices || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) {
      if (!o.choices.includes(String(one))) {
        throw new UsageError(`--${k} takes ${orList(o.choices)}, got "${one}"${suggest(String(one), o.choices, (c) => ` (did you mean ${c}?)`)}`);
      }
    }
  }
  const tokens = (r.tokens ?? []).flatMap((t) => (t.kind === 'option' ? [{ name: t.name, value: t.value }] : []));
  return { values: r.values as Parsed['values'], positionals: [...r.positionals, ...command], tokens };
}

/** [our options, the command and its arguments]: the first operand (or what follows `--`) starts the command. */
function splitAtCommand(options: Record<string, OptionSpec>, argv: string[]): [string[], string[]] {
  const byShort = new Map(Object.entries(options).flatMap(([k, o]) => (o.short ? [[o.short, k] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [argv.slice(0, i), argv.slice(i + 1)];
    if (!a.startsWith('-') || a === '-') return [argv.slice(0, i), argv.slice(i)];
    if (a.includes('=')) continue;
    const name = a.startsWith('--') ? a.slice(2) : byShort.get(a.slice(1));
    if (name && options[name]?.type === 'string') i++; // its value, whatever it looks like
  }
  return [argv, []];
}

function describeParseError(spec: CommandSpec, e: Error & { code?: string }): string {
  const flag = /Option '(-[^ ']+)/.exec(e.message)?.[1] ?? /option '(-[^ ']+)/i.exec(e.message)?.[1];
  const where = `script-sandbox ${spec.name}`;
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const names = Object.keys(spec.options).map((k) => `--${k}`);
      return `unknown flag ${flag} for ${where}${suggest(flag ?? '', names, (c) => ` (did you mean ${c}?)`)}; see ${where} --help`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = flag?.replace(/^-+/, '') ?? '';
      const o = spec.options[name] ?? [...Object.entries(spec.options)].find(([, x]) => x.short === name)?.[1];
      if (o?.type === 'boolean') return `${flag} takes no value`;
      if (/ambiguous/.test(e.message)) return `${flag} needs a value; for one that starts with a dash write ${flag}=VALUE`;
      return `${flag} needs a value${o?.value ? ` (${o.value})` : ''}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `${where} takes no operand (got "${/'([^']*)'/.exec(e.message)?.[1] ?? ''}"); see ${where} --help`;
    default:
      return `${e.message} (see ${where} --help)`;
  }
}

/** " (did you mean X?)" for the closest candidate within an edit distance of 2 (3 for long words). */
export function suggest(word: string, candidates: readonly string[], fmt: (c: string) => string): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD > 0 && bestD <= (word.length > 6 ? 3 : 2) ? fmt(best) : '';
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function orList(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

/** The help of one subcommand: usage line, summary, one line per option with its value name. */
export function helpText(spec: CommandSpec): string {
  const c = colours(process.stdout);
  const rows = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([k, o]) => {
    const value = o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : '';
    const left = `${o.short ? `-${o.short}, ` : '    '}--${k}${value}`;
    const more = [o.choices ? `one of ${o.choices.join(', ')}` : '', o.multiple ? 'repeatable' : ''].filter(Boolean).join('; ');
    return [left, `${o.help}${more ? ` (${more})` : ''}`] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = [
    `${c.bold('Usage:')} script-sandbox ${spec.name}${Object.keys(spec.options).length ? ' [options]' : ''}${spec.operands ? ` ${spec.operands}` : ''}`,
    '',
    spec.summary,
    '',
    c.bold('Options:'),
    ...rows.map(([l, r]) => `  ${l.length >= width ? `${l}\n  ${' '.repeat(width)}` : l.padEnd(width)}${r}`),
  ];
  if (spec.notes) lines.push('', spec.notes);
  return lines.join('\n');
}

export interface Colours {
  enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

/** ANSI colours for a stream that is a terminal, unless NO_COLOR is set (https://no-color.org). */
export function colours(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Colours {
  const enabled = !!stream.isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { enabled, red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}
