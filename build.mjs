// Builds the bundles (extension, host, launcher, supervisor, cli entry and cli-main) into dist/ and the tests into out/.
// koffi stays external: its native binary is loaded from node_modules at run time.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';

const common = { platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

// zod's entry re-exports every locale (`export * as locales`), ~368 KB of each bundle that nobody reads: the
// products only use the English messages zod configures by default (classic/schemas.js imports locales/en.js
// directly). The locales index is replaced by one that exports only `en`, so z.locales.en still works.
const zodLocalesDir = join(dirname(createRequire(import.meta.url).resolve('zod/package.json')), 'v4', 'locales');
const englishOnlyZod = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /(^|\/)locales\/index\.js$/ }, (a) => (a.resolveDir.startsWith(join(zodLocalesDir, '..')) ? { path: 'zod-locales-en', namespace: 'zod-en' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, () => ({ contents: `export { default as en } from ${JSON.stringify(join(zodLocalesDir, 'en.js'))};`, resolveDir: zodLocalesDir, loader: 'js' }));
  },
};
// Bundles are minified (a smaller file parses faster at every Node start); names are kept so stack traces
// and error class names stay readable, and the source maps map back to the TypeScript.
const bundled = { ...common, bundle: true, minify: true, keepNames: true, plugins: [englishOnlyZod] };
// The bundles loaded with a code cache start with this build's id, and so do their caches (src/protocol/code-cache.ts).
const buildId = { js: `/*build ${randomBytes(16).toString('hex')}*/` };

// The CLI's shell lines, declared once in src/cli/env-handover.ts (which the entry's restore pairs with).
const { CLI_SHELL_PREAMBLE } = await import(
  'data:text/javascript,' + encodeURIComponent((await build({ entryPoints: ['src/cli/env-handover.ts'], bundle: true, format: 'esm', platform: 'node', write: false })).outputFiles[0].text)
);

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
  build({ ...bundled, entryPoints: { extension: 'src/extension/activate.ts' }, outdir: 'dist', external: ['vscode', 'koffi'], mainFields: ['module', 'main'] }),
  // launcher.js and supervisor.js (the supervisor's worker) are small entries that load launcher-main.js and
  // supervisor-main.js with their code caches.
  build({ ...bundled, entryPoints: { host: 'src/host/main.ts', launcher: 'src/launcher/entry.ts', 'launcher-main': 'src/launcher/main.ts', supervisor: 'src/host/linux/supervisor-entry.ts', 'supervisor-main': 'src/host/linux/supervisor-worker.ts' }, outdir: 'dist', external: ['koffi'], mainFields: ['module', 'main'], banner: buildId }),
  // cli.js is a small entry that answers --help itself and loads cli-main.js (the commands) for the rest.
  // Its first two lines are a shell script that starts Node without NODE_EXTRA_CA_CERTS (src/cli/env-handover.ts).
  build({ ...bundled, entryPoints: { cli: 'src/cli/entry.ts' }, outdir: 'dist', external: ['koffi'], mainFields: ['module', 'main'], banner: { js: CLI_SHELL_PREAMBLE } }),
  build({ ...bundled, entryPoints: { 'cli-main': 'src/cli/main.ts' }, outdir: 'dist', external: ['koffi'], mainFields: ['module', 'main'], banner: buildId }),
  // Tests: one file per source so mocha can pick them by glob; sources are compiled alongside.
  build({ ...common, bundle: false, entryPoints: [...listTs('test'), ...listTs('src'), ...listTs('native')], outdir: 'out', outbase: '.' }),
]);
chmodSync('dist/cli.js', 0o755);

// V8's code cache for the commands', the launcher's and the supervisor worker's bundles (src/protocol/code-cache.ts),
// made by the Node that builds: a cold `script-sandbox run`, each launcher and each supervisor worker deserialise
// them instead of compiling 300-600 KB.
// Made in a child with an empty environment (the launcher's own), so no NODE_OPTIONS or flags enter it.
{
  const { execFileSync } = await import('node:child_process');
  for (const b of ['cli-main', 'launcher-main', 'supervisor-main']) {
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(join(process.cwd(), 'out/src/protocol/code-cache.js'))}).writeCodeCache(${JSON.stringify(join(process.cwd(), 'dist', b + '.js'))})`], { stdio: 'inherit', env: {} });
  }
}

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

// package.json's settings (contributes.configuration), generated from the zod schema by
// src/extension/settings-contribution.ts, so the Settings UI cannot drift from what a run accepts.
{
  const { generatedConfiguration, updatedPackageJson } = await import('./scripts/gen-settings.mjs');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const next = updatedPackageJson(readFileSync('package.json', 'utf8'), generatedConfiguration());
  if (next !== null) {
    writeFileSync('package.json', next);
    console.log('package.json: contributes.configuration regenerated from the zod schema');
  }
}
