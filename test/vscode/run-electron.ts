// Runs the in-VS Code suite under @vscode/test-electron (downloads a desktop VS Code: needs internet, so it
// is for contributors' machines; here the same suite runs in code-server via run-code-server.ts).
// Usage: node out/test/vscode/run-electron.js [trusted]
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO } from '../e2e/code-server';
import { makeWorkspace, withBashrcRestored } from '../e2e/fixtures';

async function main(): Promise<void> {
  const suite = process.argv[2] ?? 'trusted';
  const tasks = JSON.stringify({ version: '2.0.0', tasks: [{ label: 'hello in sandbox', type: 'sandbox', script: 'scripts/hello.sh', profile: 'strict' }] });
  const ws = makeWorkspace(`electron-${suite}`, { '.sandbox-test.json': JSON.stringify({ suite }), '.vscode/tasks.json': tasks });
  await withBashrcRestored(() =>
    runTests({
      extensionDevelopmentPath: REPO,
      extensionTestsPath: path.join(REPO, 'out', 'test', 'vscode', 'index.js'),
      // Restricted Mode cannot be entered from the command line; that suite runs in code-server.
      launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust'],
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
