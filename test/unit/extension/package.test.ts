// The package as a user installs it: licence, icon, marketplace metadata, a walkthrough whose steps exist and
// complete on commands the extension has, the extension's log as a LogOutputChannel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

describe('extension: package metadata and onboarding', () => {
  it('ships an MIT LICENSE, a 128 px PNG icon, categories and keywords; runs where the workspace is', () => {
    assert.equal(pkg.license, 'MIT');
    assert.match(fs.readFileSync(path.join(REPO, 'LICENSE'), 'utf8'), /^MIT License/);
    const icon = fs.readFileSync(path.join(REPO, pkg.icon));
    assert.equal(icon.subarray(1, 4).toString(), 'PNG');
    assert.equal(icon.readUInt32BE(16), 128);
    assert.equal(icon.readUInt32BE(20), 128);
    assert.ok(pkg.categories.length > 0 && pkg.keywords.length > 0);
    assert.deepEqual(pkg.extensionKind, ['workspace']);
    assert.ok(!/--skip-license/.test(pkg.scripts.package), 'the licence is packaged');
  });

  it('the walkthrough has the four steps, each with its markdown and a completion on a real command', () => {
    const [w] = pkg.contributes.walkthroughs;
    assert.deepEqual(w.steps.map((s: { id: string }) => s.id), ['runFirstScript', 'readViolation', 'switchMode', 'openAuditLog']);
    const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
    for (const s of w.steps) {
      assert.ok(fs.existsSync(path.join(REPO, s.media.markdown)), s.media.markdown);
      for (const e of s.completionEvents as string[]) {
        const cmd = /^onCommand:(.+)$/.exec(e)?.[1];
        if (cmd?.startsWith('scriptSandbox.')) assert.ok(commands.has(cmd), `${cmd} is a command`);
      }
      for (const m of (s.description as string).matchAll(/\(command:([\w.]+)\)/g)) if (m[1]!.startsWith('scriptSandbox.')) assert.ok(commands.has(m[1]), m[1]);
    }
  });

  it('the extension log is a LogOutputChannel', () => {
    const ctx = fs.readFileSync(path.join(REPO, 'src', 'extension', 'ctx.ts'), 'utf8');
    assert.match(ctx, /createOutputChannel\('Script Sandbox', \{ log: true \}\)/);
  });

  it('the README has a troubleshooting section covering check and remote setups', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    assert.match(readme, /### Troubleshooting/);
    for (const s of ['script-sandbox check', 'Remote-SSH', 'WSL', 'Dev Containers']) assert.ok(readme.includes(s), s);
  });
});
