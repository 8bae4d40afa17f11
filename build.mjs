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
  build({ ...common, bundle: true, entryPoints: { host: 'src/host/main.ts', launcher: 'src/launcher/main.ts', supervisor: 'src/host/supervisor-worker.ts' }, outdir: 'dist', external: ['koffi'] }),
  build({ ...common, bundle: true, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', external: ['koffi'], banner: { js: '#!/usr/bin/env node' } }),
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
  const schema = { ...z.toJSONSchema(WorkspacePolicyFile, { io: 'input', target: 'draft-7' }), title: 'Script Sandbox workspace policy (.vscode/sandbox.json)' };
  writeFileSync('dist/sandbox-policy.schema.json', JSON.stringify(schema, null, 2) + '\n');
}
