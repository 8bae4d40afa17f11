// The fallback tier on the real kernel, with no supervisor: the filesystem model's Landlock grants alone keep
// .git (but for objects/refs/logs), the core.hooksPath folder and .vscode unwritable, and .sandbox and a
// denyRead path unreadable, in a workspace whose name is glob syntax. Runs as root and unprivileged.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { landlockAbi } from '../../../../native/linux/landlock';
import { loadLibc } from '../../../../native/linux/libc';
import { landlockGrants, landlockPlan } from '../../../../native/linux/compile-plan';
import { diskModelFs, expandCarveOutsOnDisk } from '../../../../native/linux/carve-outs';
import { resolvePolicy } from '../../../../src/policy';
import { buildHarness, runHarness, shPlan, tempDir, type Harness } from './harness';

describe('filesystem model, fallback tier: Landlock alone (no supervisor)', function () {
  this.timeout(30000);
  let h: Harness;
  let root: string;
  let ws: string;

  before(function () {
    if (landlockAbi(loadLibc()) === null) this.skip();
    h = buildHarness();
    root = tempDir('sbx-fsmodel');
    ws = path.join(root, 'proj (copy) [x]');
    for (const d of ['.git/hooks', '.git/objects', '.git/refs/heads', '.vscode', '.husky', '.sandbox', 'secrets']) fs.mkdirSync(path.join(ws, d), { recursive: true });
    fs.writeFileSync(path.join(ws, '.git/config'), '[core]\n\thooksPath = .husky\n');
    fs.writeFileSync(path.join(ws, '.git/HEAD'), 'ref: refs/heads/main\n');
    fs.writeFileSync(path.join(ws, '.husky/pre-commit'), '#!/bin/sh\n');
    fs.writeFileSync(path.join(ws, '.sandbox/audit.jsonl'), 'AUDIT-LINE\n');
    fs.writeFileSync(path.join(ws, 'secrets/key'), 'TOPSECRET\n');
    fs.writeFileSync(path.join(ws, 'existing.txt'), 'original\n');
    fs.chmodSync(root, 0o777);
    for (const [dir, , files] of walk(root)) {
      fs.chmodSync(dir, 0o777);
      for (const f of files) fs.chmodSync(f, 0o666);
    }
  });
  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    if (h) fs.rmSync(h.dir, { recursive: true, force: true });
  });

  it('protected paths inside the workspace are carve-outs; git objects and refs stay writable', function () {
    const policy = resolvePolicy({ user: { profile: 'strict', filesystem: { denyRead: ['secrets/**'] } } }, { workspace: ws, home: path.join(root, 'home') }).policy;
    const grants = landlockGrants(policy, { tmpDir: path.join(root, 'tmp'), toolRoots: [], file: '/bin/sh', namespaces: false, listener: false }, diskModelFs);
    const attempt = (label: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${label}: ALLOWED"; else echo "${label}: denied"; fi\n`;
    const script =
      attempt('hook', "sh -c 'echo x > .git/hooks/pre-commit'") +
      attempt('config', "sh -c 'echo x >> .git/config'") +
      attempt('index', "sh -c 'echo x > .git/index'") +
      attempt('objects', "sh -c 'echo x > .git/objects/ab'") +
      attempt('refs', "sh -c 'echo x > .git/refs/heads/main'") +
      attempt('vscode', "sh -c 'echo {} > .vscode/settings.json'") +
      attempt('hookspath', "sh -c 'echo x >> .husky/pre-commit'") +
      attempt('audit-read', 'cat .sandbox/audit.jsonl') +
      attempt('secret-read', 'cat secrets/key') +
      attempt('existing-write', "sh -c 'echo y >> existing.txt'") +
      attempt('existing-read', 'cat existing.txt');
    const plan = shPlan(script, {
      cwd: ws,
      noNewPrivs: true,
      requireLandlock: true,
      landlock: landlockPlan(grants, expandCarveOutsOnDisk, ['abstract_unix_socket', 'signal']),
    });
    const r = runHarness(h, { plan });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    for (const denied of ['hook', 'config', 'index', 'vscode', 'hookspath', 'audit-read', 'secret-read']) assert.match(out, new RegExp(`^${denied}: denied$`, 'm'), out);
    for (const allowed of ['objects', 'refs', 'existing-write', 'existing-read']) assert.match(out, new RegExp(`^${allowed}: ALLOWED$`, 'm'), out);
    assert.doesNotMatch(out, /TOPSECRET|AUDIT-LINE/);
    assert.equal(fs.readFileSync(path.join(ws, '.git/config'), 'utf8'), '[core]\n\thooksPath = .husky\n');
    assert.equal(fs.readFileSync(path.join(ws, '.husky/pre-commit'), 'utf8'), '#!/bin/sh\n');
    assert.ok(!fs.existsSync(path.join(ws, '.git/hooks/pre-commit')));
  });
});

function walk(dir: string): Array<[string, string[], string[]]> {
  const out: Array<[string, string[], string[]]> = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(dir, e.name));
  out.push([dir, dirs, files]);
  for (const d of dirs) out.push(...walk(d));
  return out;
}
