// Bad input, property-based: `scriptSandbox.*` settings values through the extension's real settings → policy
// translation (readSettings in src/extension/config.ts). Only the `vscode` module is replaced, by a
// configuration map: the translation itself is pure. Valid values are never refused; anything else is a
// SettingsError naming the setting, in one readable sentence; what the layer becomes is a valid policy input.
import * as assert from 'node:assert/strict';
import Module from 'node:module';
import * as path from 'node:path';
import * as fs from 'node:fs';
import fc from 'fast-check';
import { resolvePolicy } from '../../../src/policy';
import { SandboxError } from '../../../src/errors';
import { anyJsonish, assertReadable, params, validGlob } from './fuzz-support';

type Cfg = Map<string, unknown>;
let current: Cfg = new Map();
const vscodeStub = {
  workspace: { getConfiguration: () => ({ get: (k: string, d?: unknown) => (current.has(k) ? current.get(k) : d), inspect: () => undefined, update: async () => undefined }) },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
};

function loadConfigModule(): { readSettings?: (scope?: unknown) => { layer: unknown }; SettingsError?: new (m: string) => Error } {
  const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const orig = M._load;
  M._load = function (req: string, ...rest: unknown[]) {
    return req === 'vscode' ? vscodeStub : orig.call(this, req, ...rest);
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../../../src/extension/config');
  } finally {
    M._load = orig;
  }
}

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const SCHEMA = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).contributes.configuration.properties as Record<string, { type: string | string[]; enum?: unknown[]; minimum?: number }>;
const POLICY_KEYS = Object.keys(SCHEMA)
  .map((k) => k.replace(/^scriptSandbox\./, ''))
  .filter((k) => /^(mode|profile|filesystem\.|limits\.|network\.|env\.)/.test(k));

/** A value the policy needs for each setting (integers for limits, addresses and hosts that parse). */
function validValue(key: string): fc.Arbitrary<unknown> {
  const s = SCHEMA[`scriptSandbox.${key}`]!;
  if (s.enum) return fc.constantFrom(...s.enum);
  if (key.startsWith('limits.')) return key === 'limits.timeoutSeconds' ? fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2_000_000 })) : fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 1_000_000 }));
  if (key === 'network.allowAddresses') return fc.array(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, b]) => `${a}/${b}`), { maxLength: 3 });
  if (key === 'network.allowHosts' || key === 'network.denyHosts') return fc.array(fc.domain(), { maxLength: 3 });
  if (key === 'env.allow') return fc.oneof(fc.constant(null), fc.array(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}\*?$/), { maxLength: 3 }));
  if (key === 'env.secretPatterns') return fc.array(fc.stringMatching(/^[A-Za-z0-9]{3,10}$/), { maxLength: 3 });
  if (key.startsWith('filesystem.') && /allow|deny/.test(key)) return fc.array(validGlob, { maxLength: 3 });
  if (key.startsWith('filesystem.')) return fc.constantFrom(true, false, null);
  throw new Error(`no generator for ${key}`);
}

/** Any value of the types the Settings UI lets through for the setting (settings.json can hold anything). */
function schemaTypedValue(key: string): fc.Arbitrary<unknown> {
  const s = SCHEMA[`scriptSandbox.${key}`]!;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const arbs: fc.Arbitrary<unknown>[] = [];
  for (const t of types) {
    if (t === 'null') arbs.push(fc.constant(null));
    if (t === 'boolean') arbs.push(fc.boolean());
    if (t === 'number' || t === 'integer') arbs.push(fc.double({ min: s.minimum ?? -1e9, max: 1e12, noNaN: true }));
    if (t === 'string') arbs.push(s.enum ? fc.constantFrom(...s.enum) : fc.string({ maxLength: 12 }));
    if (t === 'array') arbs.push(fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 3 }));
  }
  return fc.oneof(...arbs);
}

const settingsOf = (gen: (k: string) => fc.Arbitrary<unknown>) =>
  fc.record(Object.fromEntries(POLICY_KEYS.map((k) => [k, gen(k)])) as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: [] }).map((o) => new Map(Object.entries(o)));

describe('fuzz: settings values → policy (extension translation)', function () {
  this.timeout(120_000);
  const config = loadConfigModule();
  const tally = { accepted: 0, refused: 0, uiAcceptedButRefused: 0 };
  after(() =>
    process.stdout.write(`      [fuzz] settings: ${tally.accepted} accepted, ${tally.refused} refused with a SettingsError; ${tally.uiAcceptedButRefused} values of the type package.json allows were refused (see README Reliability)\n`),
  );

  before(function () {
    if (typeof config.readSettings !== 'function') this.skip(); // the translation moved; the schema fuzz (policy-file) still covers the policy side
  });

  function read(cfg: Cfg): { ok: true; layer: unknown } | { ok: false; message: string } {
    current = cfg;
    try {
      return { ok: true, layer: config.readSettings!().layer };
    } catch (e) {
      assert.ok(config.SettingsError && e instanceof config.SettingsError, `untyped ${(e as Error)?.name}: ${(e as Error)?.message}`);
      assertReadable((e as Error).message, [...cfg.values()], 'settings error');
      assert.match((e as Error).message, /^Setting "scriptSandbox\.[\w.]+"/);
      return { ok: false, message: (e as Error).message };
    }
  }

  it('valid settings are never refused, and their layer resolves', () => {
    fc.assert(
      fc.property(settingsOf(validValue), (cfg) => {
        const r = read(cfg);
        assert.ok(r.ok, !r.ok ? r.message : '');
        try {
          resolvePolicy({ user: r.layer as never }, { workspace: '/ws', home: '/home/u' });
        } catch (e) {
          assert.fail(`valid settings did not resolve: ${e instanceof SandboxError ? e.message : String(e)}`);
        }
        tally.accepted++;
      }),
      params(1500, 'valid settings'),
    );
  });

  it('values of the allowed types, and values of any type, are accepted or refused naming the setting', () => {
    fc.assert(
      fc.property(fc.oneof(settingsOf(schemaTypedValue), settingsOf(() => anyJsonish)), fc.boolean(), (cfg, typed) => {
        const r = read(cfg);
        if (r.ok) tally.accepted++;
        else {
          tally.refused++;
          if (typed) tally.uiAcceptedButRefused += [...cfg.entries()].every(([k, v]) => schemaAllows(k, v)) ? 1 : 0;
        }
      }),
      params(3000, 'arbitrary settings'),
    );
  });
});

function schemaAllows(key: string, v: unknown): boolean {
  const s = SCHEMA[`scriptSandbox.${key}`]!;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (s.enum && !s.enum.includes(v)) return false;
  if (v === null) return types.includes('null');
  if (typeof v === 'boolean') return types.includes('boolean');
  if (typeof v === 'number') return types.includes('number') && (s.minimum === undefined || v >= s.minimum);
  if (typeof v === 'string') return types.includes('string');
  if (Array.isArray(v)) return types.includes('array') && v.every((x) => typeof x === 'string' && x.length > 0);
  return false;
}
