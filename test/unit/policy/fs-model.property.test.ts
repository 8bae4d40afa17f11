// Property: the kernel's answer (the model's Landlock grants, plus the mounts in the namespace tier) and the
// evaluator's (decidePath, which explanations and the supervisor use) agree on reading and writing every
// path of a fixture tree, for generated policies and workspace names full of glob syntax. Seeded: a failure
// prints the seed and the shrunk case, and the same seed reproduces it.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import { type FsModelFs, type FsTier } from '../../../src/policy/fs-model-types';
import { modelAllows } from '../../../src/policy/grants-allow';
import { buildFsModel } from '../../../src/policy/fs-model';
import { decidePath } from '../../../src/policy/evaluate';

const HOME = '/home/u';
const TMP = '/tmp/run-1';

const WS_FILES = [
  'a.txt',
  'secrets/key',
  'secrets/pub/a',
  'data/a.csv',
  'data/b.txt',
  'yarn.lock',
  'sub/x.lock',
  'sub/y.txt',
  'k.pem',
  'sub/k.pem',
  '.git/HEAD',
  '.git/index',
  '.git/hooks/pre-commit',
  '.git/objects/aa/bb',
  '.git/refs/heads/main',
  '.git/logs/HEAD',
  '.vscode/launch.json',
  '.vscode/settings.json',
  '.sandbox/audit.jsonl',
  '.husky/pre-commit',
];
const OTHER_FILES = [
  `${HOME}/.ssh/id_rsa`,
  `${HOME}/.ssh/config`,
  `${HOME}/.ssh/id.pub`,
  `${HOME}/.bashrc`,
  `${HOME}/notes/n.txt`,
  `${HOME}/other.txt`,
  '/etc/passwd',
  '/etc/shadow',
  '/usr/bin/x',
  '/srv/out/f',
  '/srv/other',
  '/opt/tool/bin',
  '/tmp/shared.txt',
  '/var/x',
];

const GLOBS = [
  'secrets/**',
  'secrets',
  'secrets/pub/**',
  'data/*.csv',
  '*.lock',
  'sub/**',
  '**/*.pem',
  '.vscode/launch.json',
  '.git/hooks/**',
  '.husky',
  '~/.ssh/config',
  '~/.ssh/*.pub',
  '~/notes/**',
  '~/.bashrc',
  '/srv/out/**',
  '/srv/out',
  '/opt/tool/**',
];

function fakeFs(files: Record<string, string>): FsModelFs {
  const dirs = new Map<string, Set<string>>([['/', new Set()]]);
  for (const f of Object.keys(files)) {
    let child = f;
    for (let d = f.slice(0, f.lastIndexOf('/')) || '/'; ; d = d.slice(0, d.lastIndexOf('/')) || '/') {
      if (!dirs.has(d)) dirs.set(d, new Set());
      dirs.get(d)!.add(child.slice(child.lastIndexOf('/') + 1));
      if (d === '/') break;
      child = d;
    }
  }
  return {
    readFile: (p) => files[p] ?? null,
    kind: (p) => (p in files ? 'file' : dirs.has(p) ? 'dir' : null),
    readdir: (d) => (dirs.has(d) ? [...dirs.get(d)!] : null),
  };
}

const wsName = fc
  .array(fc.constantFrom('a', 'b', 'z', ' ', '(', ')', '[', ']', '{', '}', '*', '?', '!', ',', '+', '@', '#', '-', '.', 'é', 'ü', '日', '😀'), { minLength: 1, maxLength: 8 })
  .map((cs) => cs.join(''))
  .filter((n) => !/^\.+$/.test(n));
const globs = fc.subarray(GLOBS, { maxLength: 3 });

const caseArb = fc.record({
  name: wsName,
  profile: fc.constantFrom('strict', 'moderate', 'permissive' as const),
  readOnly: fc.boolean(),
  denyRead: globs,
  denyWrite: globs,
  allowRead: globs,
  allowWrite: globs,
  unprotect: fc.subarray(['.git', '.vscode'], { maxLength: 1 }),
  hooksPath: fc.boolean(),
  tier: fc.constantFrom<FsTier>('namespaces', 'fallback'),
});

describe('policy/fs-model property: kernel model and evaluator agree', () => {
  it('on every path of the fixture tree, for 1000 generated policies (seeded)', function () {
    this.timeout(60_000);
    fc.assert(
      fc.property(caseArb, (c) => {
        const ws = `/work/${c.name}`;
        const files: Record<string, string> = {};
        for (const f of WS_FILES) files[`${ws}/${f}`] = '';
        for (const f of OTHER_FILES) files[f] = '';
        if (c.hooksPath) files[`${ws}/.git/config`] = '[core]\n\thooksPath = .husky\n';
        const user: PolicyInput = {
          profile: c.profile,
          filesystem: { readOnly: c.readOnly, denyRead: c.denyRead, denyWrite: c.denyWrite, allowRead: c.allowRead, allowWrite: c.allowWrite, unprotect: c.unprotect },
        };
        const policy = resolvePolicy({ user }, { workspace: ws, home: HOME }).policy;
        const model = buildFsModel(policy, { tmpDir: TMP, toolRoots: [], file: `${ws}/a.txt`, tier: c.tier }, fakeFs(files));
        for (const p of Object.keys(files)) {
          for (const access of ['read', 'write'] as const) {
            const kernel = modelAllows(model, p, access);
            const d = decidePath(policy, p, access, { tmpDir: TMP, protected: model.protected });
            if (kernel !== d.allowed) {
              assert.fail(`${access} ${p}: kernel ${kernel ? 'allows' : 'blocks'}, evaluator ${d.allowed ? 'allows' : 'blocks'} (${d.rule}: ${d.reason})\ngrants ${JSON.stringify(model.grants)}\nprotectedInWritable ${JSON.stringify(model.protectedInWritable)}\nhidden ${JSON.stringify(model.hidden)}`);
            }
          }
        }
      }),
      { seed: 20261129, numRuns: 1000 },
    );
  });
});
