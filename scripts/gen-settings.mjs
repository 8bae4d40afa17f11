// Writes package.json's `contributes.configuration` from src/extension/settings-contribution.ts (types,
// bounds and enums from the zod schema), changing only that block of package.json. Run by build.mjs after
// the sources are compiled to out/; `--check` only reports (exit 1) when package.json differs.
//
//   node scripts/gen-settings.mjs [--check]
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export function generatedConfiguration() {
  return require(path.join(REPO, 'out', 'src', 'extension', 'settings-contribution.js')).settingsContribution();
}

/** package.json's text with the configuration replaced, or null when it is already the generated one. */
export function updatedPackageJson(text, configuration) {
  const { modify, applyEdits } = require('jsonc-parser');
  if (isDeepStrictEqual(JSON.parse(text).contributes?.configuration, configuration)) return null;
  const edits = modify(text, ['contributes', 'configuration'], configuration, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } });
  return applyEdits(text, edits);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = path.join(REPO, 'package.json');
  const next = updatedPackageJson(fs.readFileSync(file, 'utf8'), generatedConfiguration());
  if (next === null) process.exit(0);
  if (process.argv.includes('--check')) {
    process.stderr.write('package.json: contributes.configuration differs from the generated settings; run node build.mjs\n');
    process.exit(1);
  }
  fs.writeFileSync(file, next);
  process.stdout.write('package.json: contributes.configuration regenerated from the zod schema\n');
}
