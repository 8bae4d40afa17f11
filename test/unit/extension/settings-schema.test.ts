// package.json's policy settings follow the zod schema (settings-schema.ts): types (integer where the policy
// needs whole numbers), bounds, enums. Fails when either drifts; every setting also appears in the README's
// table and in restrictedConfigurations.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { POLICY_SETTINGS } from '../../../src/extension/settings-layers';
import { settingSchema } from '../../../src/extension/settings-schema';
import { settingsContribution } from '../../../src/extension/settings-contribution';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const props: Record<string, Record<string, unknown>> = pkg.contributes.configuration.properties;

describe('extension: settings generated from the zod schema', () => {
  for (const key of POLICY_SETTINGS) {
    it(`scriptSandbox.${key} matches the schema`, () => {
      const p = props[`scriptSandbox.${key}`];
      assert.ok(p, 'declared in package.json');
      const want = settingSchema(key, p.default === null);
      const got = Object.fromEntries(Object.keys({ type: 1, enum: 1, minimum: 1, exclusiveMinimum: 1, maximum: 1, items: 1 }).filter((k) => p[k] !== undefined).map((k) => [k, k === 'items' ? { type: (p.items as { type: string }).type, ...((p.items as { minLength?: number }).minLength !== undefined ? { minLength: (p.items as { minLength?: number }).minLength } : {}) } : p[k]]));
      assert.deepEqual(got, want);
      assert.equal(typeof p.markdownDescription, 'string', 'a markdown description');
      if (Array.isArray(p.enum)) assert.equal((p.enumDescriptions as unknown[] | undefined)?.length, p.enum.length, 'a description per enum value');
    });
  }

  it('package.json\'s contributes.configuration is exactly what the generator makes (node build.mjs rewrites it)', () => {
    assert.deepStrictEqual(pkg.contributes.configuration, settingsContribution());
    // And in the generator's order (the Settings UI lists them in it).
    assert.deepEqual(Object.keys(props), Object.keys(settingsContribution().properties));
  });

  it('multi-root: policy settings apply per folder (scope resource); only the user may unprotect (application)', () => {
    for (const key of POLICY_SETTINGS) assert.equal(props[`scriptSandbox.${key}`]!.scope, key === 'filesystem.unprotect' ? 'application' : 'resource', key);
    for (const key of ['auditPath', 'interpreters', 'languageInterpreters', 'gitScripts']) assert.equal(props[`scriptSandbox.${key}`]!.scope, 'resource', key);
  });

  it('limits that must be whole numbers are integers in the Settings UI (1.5 is refused there, not at run time)', () => {
    for (const k of ['cpuSeconds', 'memoryMiB', 'maxProcesses', 'fileSizeMiB', 'openFiles']) assert.deepEqual(props[`scriptSandbox.limits.${k}`]!.type, ['integer', 'null'], k);
  });

  it('every setting is in the README table and restricted in untrusted workspaces', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const name of Object.keys(props)) {
      const short = name.replace(/^scriptSandbox\./, '');
      const section = short.split('.')[0]!;
      assert.ok(readme.includes(`\`${name}\``) || readme.includes(`\`scriptSandbox.${section}.*\``) || readme.includes(short.split('.').pop()!), `${name} in the README`);
      assert.ok(restricted.includes(name), `${name} restricted`);
    }
    for (const name of ['scriptSandbox.filesystem.reportReads', 'scriptSandbox.gitScripts']) assert.ok(readme.includes(`\`${name}\``) || readme.includes(`\`${name.split('.').pop()}\``), `${name} named in the README`);
  });
});
