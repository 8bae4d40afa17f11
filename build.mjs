// Builds the four bundles (extension, host, launcher, cli) into dist/ and the tests into out/.
// koffi stays external: its native binary is loaded from node_modules at run time.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

const common = { platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

function listTs(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

rmSync('out', { recursive: true, force: true });
await Promise.all([
  // mainFields: jsonc-parser's default (UMD) entry requires its parts dynamically, which a bundle cannot follow.
  build({ ...common, bundle: true, entryPoints: { extension: 'src/extension/activate.ts' }, outdir: 'dist', external: ['vscode', 'koffi'], mainFields: ['module', 'main'] }),
  build({ ...common, bundle: true, entryPoints: { host: 'src/host/main.ts', launcher: 'src/launcher/main.ts', supervisor: 'src/host/supervisor-worker.ts' }, outdir: 'dist', external: ['koffi'], mainFields: ['module', 'main'] }),
  build({ ...common, bundle: true, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', external: ['koffi'], mainFields: ['module', 'main'], banner: { js: '#!/usr/bin/env node' } }),
  // Tests: one file per source so mocha can pick them by glob; sources are compiled alongside.
  build({ ...common, bundle: false, entryPoints: [...listTs('test'), ...listTs('src'), ...listTs('native')], outdir: 'out', outbase: '.' }),
]);
chmodSync('dist/cli.js', 0o755);

// The JSON schema of .vscode/sandbox.json (completion and hover in the editor), generated from the one zod
// schema so the two cannot drift; package.json's jsonValidation points at it.
{
  const { createRequire } = await import('node:module');
  const { writeFileSync } = await import('node:fs');
  const require = createRequire(import.meta.url);
  const { z } = require('zod');
  const { WorkspacePolicyFile } = require('./out/src/policy/workspace-file.js');
  // Completion and hover only: the extension's validator (the same one the CLI uses) reports every problem
  // once, with "did you mean"; a validating schema made VS Code report each of them a second time.
  const schema = { ...annotationsOnly(z.toJSONSchema(WorkspacePolicyFile, { io: 'input', target: 'draft-7' })), title: 'Script Sandbox workspace policy (.vscode/sandbox.json)' };
  writeFileSync('dist/sandbox-policy.schema.json', JSON.stringify(schema, null, 2) + '\n');
}

/** A JSON schema with its validation keywords taken out: enums and consts become examples (still offered
 *  as completions), descriptions and structure stay. */
function annotationsOnly(s) {
  if (Array.isArray(s)) return s.map(annotationsOnly);
  if (!s || typeof s !== 'object') return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (['type', 'required', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern', 'format', 'propertyNames', 'uniqueItems'].includes(k)) continue;
    if (k === 'enum') out.examples = v;
    else if (k === 'const') out.examples = [v];
    else if (k === 'additionalProperties') {
      if (v && typeof v === 'object') out.additionalProperties = annotationsOnly(v);
    } else if (k === 'properties' || k === 'definitions' || k === '$defs' || k === 'patternProperties') out[k] = Object.fromEntries(Object.entries(v).map(([n, x]) => [n, annotationsOnly(x)]));
    else out[k] = annotationsOnly(v);
  }
  return out;
}
