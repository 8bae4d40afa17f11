// An extension folder for the fake-OS extension-host test: the real extension bundle (dist/extension.js) and
// a sandbox host bundled from the real src/host/main.ts, with native/index.ts swapped at bundle time for one
// that returns a fake Windows or macOS backend (backends.ts). So the real engine, host binding and host
// platform of that OS run in the host process the extension forks. The swap exists only in this folder, made
// by the test runner under out/ (inside the repository so the bundles resolve node_modules); the product's
// dist/host.js has no fake in it and no switch to one, so no setting, workspace file or environment can turn
// a real sandbox into a fake.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FakeOs } from './backends';

export function fakeOsExtensionDir(repo: string, os: FakeOs): string {
  return path.join(repo, 'out', 'test', 'vscode', `fake-os-ext-${os}`);
}

/** A launcher that says it is ready and waits: the host's pool wants two, and runs are not part of the test. */
const IDLE_LAUNCHER = `// Idle launcher of the fake-OS extension test (see test/vscode/fake-os/extension-dir.ts).
const fs = require('node:fs');
fs.writeSync(3, JSON.stringify({ type: 'ready', pid: process.pid }) + '\\n');
const net = require('node:net');
const control = new net.Socket({ fd: 3, readable: true, writable: false });
control.on('data', () => undefined);
control.on('close', () => process.exit(0));
control.on('error', () => process.exit(0));
`;

export async function makeFakeOsExtension(repo: string, os: FakeOs): Promise<string> {
  const dir = fakeOsExtensionDir(repo, os);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(repo, 'media'), path.join(dir, 'media'), { recursive: true });
  for (const f of ['extension.js', 'extension.js.map', 'sandbox-policy.schema.json']) fs.copyFileSync(path.join(repo, 'dist', f), path.join(dir, 'dist', f));
  fs.writeFileSync(path.join(dir, 'dist', 'launcher.js'), IDLE_LAUNCHER);
  const nativeIndex = path.join(repo, 'native', 'index');
  const backends = path.join(repo, 'test', 'vscode', 'fake-os', 'backends.ts');
  const make = os === 'win32' ? 'fakeWin32Backend' : 'fakeDarwinBackend';
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({
    entryPoints: { host: path.join(repo, 'src', 'host', 'main.ts') },
    outdir: path.join(dir, 'dist'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['koffi'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
    plugins: [
      {
        name: 'fake-native-index',
        setup(b) {
          b.onResolve({ filter: /native(\/index)?$/ }, (a) => {
            const abs = path.resolve(a.resolveDir, a.path);
            return abs === nativeIndex || abs === path.join(repo, 'native') ? { path: 'native-index', namespace: 'fake-os' } : undefined;
          });
          b.onLoad({ filter: /.*/, namespace: 'fake-os' }, () => ({
            contents: `import { ${make} } from ${JSON.stringify(backends)};\nexport function loadBackend() { return ${make}(); }\n`,
            resolveDir: repo,
            loader: 'ts',
          }));
        },
      },
    ],
  });
  const bundle = fs.readFileSync(path.join(dir, 'dist', 'host.js'), 'utf8');
  if (!bundle.includes(make)) throw new Error(`the fake ${os} backend did not reach ${dir}/dist/host.js`);
  return dir;
}
