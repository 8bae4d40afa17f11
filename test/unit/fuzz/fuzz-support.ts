// Shared pieces of the property-based bad-input tests: the seed (printed, so a failure can be replayed with
// SS_FUZZ_SEED=<n>), the check that an error is one a user can read, and generators of VALID policy layers
// (which must never be rejected) and of the near-valid text around them.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';

/** Fixed by default so `npm test` is reproducible; SS_FUZZ_SEED=<n> replays another, SS_FUZZ_SEED=random draws one. */
export function fuzzSeed(): number {
  const env = process.env.SS_FUZZ_SEED;
  if (env === 'random') return (Math.random() * 2 ** 31) | 0;
  if (env && /^-?\d+$/.test(env)) return Number(env);
  return 20261129;
}

/** Runs scale with SS_FUZZ_SCALE (default 1): a longer soak without editing the tests. */
export function runs(n: number): number {
  const k = Number(process.env.SS_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(k) && k > 0 ? k : 1)));
}

/** fast-check parameters with the seed; the tier prints the seed and the number of cases once per property. */
export function params(numRuns: number, label: string): fc.Parameters<unknown> {
  const seed = fuzzSeed();
  const n = runs(numRuns);
  process.stdout.write(`      [fuzz] ${label}: ${n} cases, seed ${seed} (replay: SS_FUZZ_SEED=${seed})\n`);
  return { seed, numRuns: n, endOnFailure: true };
}

/**
 * An error a user can act on: a non-empty message, no stack trace, no "undefined"/"[object Object]"/"NaN"
 * leaking from the code (unless the input itself contained that text), at most one line per problem.
 */
export function assertReadable(message: unknown, input: unknown, what: string): void {
  assert.equal(typeof message, 'string', `${what}: message is not a string`);
  const m = message as string;
  assert.ok(m.trim().length > 0, `${what}: empty message`);
  assert.ok(!/\n\s+at .+\(.*:\d+:\d+\)/.test(m) && !/\n\s+at [\w.<>]+ \(/.test(m), `${what}: stack trace in message: ${m.slice(0, 400)}`);
  const inputText = safeText(input);
  // zod words a missing required field as "expected string, received undefined": tolerated (it names the
  // field) but counted, and reported as a wording finding; any other "undefined" is a leak from the code.
  if (/received undefined/.test(m)) missingFieldWording.count++;
  const rest = m.replace(/received undefined/g, 'received nothing');
  for (const leak of ['undefined', '[object Object]', 'NaN']) {
    if (rest.includes(leak) && !inputText.includes(leak)) assert.fail(`${what}: "${leak}" in message: ${m.slice(0, 400)}`);
  }
}

/** How many messages said "received undefined" for a missing field (printed by the tests as a finding). */
export const missingFieldWording = { count: 0 };

/** fast-check records may have a null prototype; the parsers return plain objects. */
export function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function safeText(v: unknown): string {
  try {
    return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

// ---------------------------------------------------------------- valid policy layers

const globChars = fc.constantFrom(...'abcdefgxyz0189_-.*/'.split(''));
/** Globs the schema accepts: non-empty, no NUL, no ~user. */
export const validGlob = fc.oneof(
  fc.string({ unit: globChars, minLength: 1, maxLength: 24 }).filter((g) => !g.startsWith('~')),
  fc.string({ unit: globChars, minLength: 0, maxLength: 12 }).map((g) => `~/${g}`),
  fc.string({ unit: globChars, minLength: 1, maxLength: 16 }).map((g) => `/${g}`),
);
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}\*?$/);
const host = fc.oneof(
  fc.domain(),
  fc.domain().map((d) => `*.${d}`),
  fc.ipV4(),
);
const port = fc.integer({ min: 1, max: 65535 });
const address = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, b]) => `${a}/${b}`),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 }), port).map(([a, b, p]) => `${a}/${b}:${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 }), port).map(([a, b, p]) => `[${a}/${b}]:${p}`),
);
/** Literal words: a regular expression that never matches empty text. */
const secretPattern = fc.stringMatching(/^[A-Za-z0-9]{3,12}$/).chain((w) => fc.constantFrom(w, `(?i)${w}`, `${w}[0-9]+`, `(?<secret>${w})`));
const posInt = (max: number) => fc.integer({ min: 1, max });

export const validPolicyInput = fc.record(
  {
    mode: fc.constantFrom('disabled', 'warn', 'enforce'),
    profile: fc.constantFrom('strict', 'moderate', 'permissive'),
    filesystem: fc.record(
      {
        readOnly: fc.boolean(),
        reportReads: fc.boolean(),
        allowRead: fc.array(validGlob, { maxLength: 4 }),
        denyRead: fc.array(validGlob, { maxLength: 4 }),
        allowWrite: fc.array(validGlob, { maxLength: 4 }),
        denyWrite: fc.array(validGlob, { maxLength: 4 }),
      },
      { requiredKeys: [] },
    ),
    limits: fc.record(
      {
        cpuSeconds: posInt(100_000),
        memoryMiB: posInt(2 ** 33),
        maxProcesses: posInt(100_000),
        fileSizeMiB: posInt(2 ** 33),
        openFiles: posInt(1_000_000),
        timeoutSeconds: fc.double({ min: 0.001, max: 2_147_483, noNaN: true, noDefaultInfinity: true }),
      },
      { requiredKeys: [] },
    ),
    env: fc.record(
      {
        allow: fc.array(envName, { maxLength: 4 }),
        set: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
        secretPatterns: fc.array(secretPattern, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    network: fc.record(
      {
        preset: fc.constantFrom('none', 'strict', 'api-only', 'default'),
        allowHosts: fc.array(host, { maxLength: 3 }),
        denyHosts: fc.array(host, { maxLength: 3 }),
        allowAddresses: fc.array(address, { maxLength: 3 }),
        blockedPorts: fc.array(port, { maxLength: 3 }),
        allowUnixSockets: fc.array(validGlob, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
    syscalls: fc.record({ allowPtrace: fc.boolean(), extraDeny: fc.array(fc.constantFrom('mount', 'reboot', 'keyctl', 'ptrace', 'bpf'), { maxLength: 3 }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

/** JSON-with-comments text of a value, the way people write it: indentation, comments, trailing commas. */
export function jsoncText(value: unknown, style: { indent: number; comments: boolean; trailing: boolean; bom: boolean }): string {
  let t = JSON.stringify(value, null, style.indent || 2);
  // Pretty-printed JSON never breaks a string across lines, so line ends are safe places to decorate.
  if (style.trailing) t = t.replace(/([^{[,\n])\n(\s*)([}\]])/g, '$1,\n$2$3');
  if (style.comments) t = `// written by a test\n/* block\n comment */\n${t.replace(/\n/g, (_m, off: number) => (off % 3 === 0 ? ' // note\n' : '\n'))}\n`;
  return (style.bom ? '\uFEFF' : '') + t;
}

export const jsoncStyle = fc.record({ indent: fc.integer({ min: 0, max: 4 }), comments: fc.boolean(), trailing: fc.boolean(), bom: fc.boolean() });

/** One edit of a text: the near-valid inputs around a valid one. */
export const textEdit = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '/', '*', '/*', '//', '\n', '\u0000', '\uFEFF', 'null', '-', '1e999', "'", '\ud800'), fc.string({ maxLength: 3 })) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }),
);
export type TextEdit = typeof textEdit extends fc.Arbitrary<infer T> ? T : never;

export function applyEdits(text: string, edits: TextEdit[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length ? e.at % (t.length + 1) : 0;
    if (e.kind === 'delete') t = t.slice(0, at) + t.slice(at + e.len);
    else if (e.kind === 'insert') t = t.slice(0, at) + e.text + t.slice(at);
    else if (e.kind === 'truncate') t = t.slice(0, at);
    else t = t.slice(0, at) + t.slice(at, at + e.len) + t.slice(at);
  }
  return t;
}

/** Deep copy with one value somewhere replaced: a near-valid object. */
export function replaceAt(value: unknown, pathPick: number, replacement: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(value, []);
  const target = paths[pathPick % paths.length]!;
  if (!target.length) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let o = copy;
  for (const k of target.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[target[target.length - 1]!] = replacement;
  return copy;
}

/** Values of every JSON type, including the awkward ones. */
export const anyJsonish = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, 1e308, '', ' ', '~root', '\u0000', '-', '..', '/'),
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);
