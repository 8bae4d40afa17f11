// Bad input, property-based: git-script definitions (settings scriptSandbox.gitScripts, the workspace file's
// gitScripts, the host's gitFetch spec) through parseGitScriptSpec. Valid definitions are accepted as they
// are; anything else is POLICY_INVALID naming the field.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseGitScriptSpec } from '../../../src/policy/git-script-spec';
import { SandboxError } from '../../../src/errors';
import { anyJsonish, assertReadable, params, plain, replaceAt, validPolicyInput } from './fuzz-support';

const seg = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/).filter((s) => s !== '..' && !s.includes('..'));
const relPath = fc.array(seg, { minLength: 1, maxLength: 4 }).map((a) => a.join('/'));
const validSpec = fc.record(
  {
    name: fc.string({ minLength: 1, maxLength: 20 }),
    repo: fc.oneof(
      fc.tuple(fc.constantFrom('https', 'http', 'git', 'ssh'), fc.domain(), relPath).map(([s, h, p]) => `${s}://${h}/${p}`),
      relPath.map((p) => `file:///srv/${p}`),
      fc.tuple(fc.domain(), relPath).map(([h, p]) => `git@${h}:${p}.git`),
    ),
    ref: fc.oneof(seg.filter((s) => !s.startsWith('-')), fc.stringMatching(/^[0-9a-f]{40}$/), fc.tuple(seg, seg).map(([a, b]) => `${a}/${b}`).filter((r) => !r.startsWith('-'))),
    script: relPath,
    args: fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.constant('${workspaceFolder}')), { maxLength: 4 }),
    policy: validPolicyInput,
  },
  { requiredKeys: ['repo', 'ref', 'script'] },
);

function tryParse(raw: unknown): boolean {
  try {
    parseGitScriptSpec(raw, 'gitScripts[0]');
    return true;
  } catch (e) {
    if (!(e instanceof SandboxError)) throw new Error(`untyped ${(e as Error)?.name}: ${(e as Error)?.message} for ${JSON.stringify(raw)?.slice(0, 300)}`);
    assert.ok(['POLICY_INVALID', 'PROFILE_UNKNOWN'].includes(e.code), e.code);
    assertReadable(e.message, raw, 'git-script error');
    assert.match(e.message, /^gitScripts\[0\]/);
    return false;
  }
}

describe('fuzz: git-script definitions', function () {
  this.timeout(120_000);
  const tally = { accepted: 0, rejected: 0 };
  after(() => process.stdout.write(`      [fuzz] git-script: ${tally.accepted} accepted, ${tally.rejected} rejected with a typed error\n`));

  it('valid definitions are accepted unchanged', () => {
    fc.assert(
      fc.property(validSpec, (g) => {
        const spec = plain(g);
        assert.deepEqual(parseGitScriptSpec(spec, 'gitScripts[0]'), spec);
        tally.accepted++;
      }),
      params(2000, 'valid git-scripts'),
    );
  });

  it('definitions with one value replaced, or arbitrary values, are accepted or refused naming the field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(validSpec, fc.nat(), anyJsonish).map(([s, k, v]) => replaceAt(plain(s), k, v)), fc.jsonValue({ maxDepth: 3 }), fc.constantFrom({ repo: '-x://a', ref: 'a', script: 'b' }, { repo: 'https://a/b', ref: '--upload-pack=x', script: 'a' }, { repo: 'https://a/b', ref: 'a..b', script: 'a' }, { repo: 'https://a/b', ref: 'main', script: '../../etc/passwd' }, { repo: 'https://a/b', ref: 'main', script: '/etc/passwd' })), (raw) => {
        if (tryParse(raw)) tally.accepted++;
        else tally.rejected++;
      }),
      params(4000, 'near-valid git-scripts'),
    );
  });
});
