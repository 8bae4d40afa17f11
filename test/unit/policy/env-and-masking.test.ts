// decideEnv and maskSecrets.
import * as assert from 'node:assert/strict';
import { DEFAULT_SECRET_PATTERNS, compileSecretPattern, decideEnv, envNameMatches, maskSecrets, resolvePolicy, type PolicyInput } from '../../../src/policy';

const CTX = { workspace: '/work/proj', home: '/home/u' };
const pol = (run: PolicyInput = {}) => resolvePolicy({ run }, CTX).policy;

describe('policy/decideEnv', () => {
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: '/home/u',
    LANG: 'en_US.UTF-8',
    LC_ALL: 'C',
    LC_CTYPE: 'C.UTF-8',
    TERM: 'xterm',
    GITHUB_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    NODE_OPTIONS: '--inspect',
    LD_PRELOAD: '/tmp/evil.so',
    OLDPWD: '/home/u/elsewhere',
    SESSION_TOKEN_X: 'abc',
    INVOCATION_ID: '3f2a9c1b7d4e4f0a8b6c5d2e1f0a9b8c',
    MY_APP_MODE: 'fast',
  };

  it('keeps only allowed names (LC_* glob), reports the removed ones in order', () => {
    const { kept, removed } = decideEnv(pol(), env);
    assert.deepEqual(Object.keys(kept).sort(), ['HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'PATH', 'TERM']);
    assert.deepEqual(removed, ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'NODE_OPTIONS', 'LD_PRELOAD', 'OLDPWD', 'SESSION_TOKEN_X', 'INVOCATION_ID', 'MY_APP_MODE']);
  });

  it('env.allow adds names and globs; set is applied after filtering and wins', () => {
    const { kept, removed } = decideEnv(pol({ env: { allow: ['MY_APP_*'], set: { PATH: '/opt/bin', CI: '1', LD_PRELOAD: '' } } }), env);
    assert.equal(kept.MY_APP_MODE, 'fast');
    assert.equal(kept.PATH, '/opt/bin');
    assert.equal(kept.CI, '1');
    assert.equal(kept.LD_PRELOAD, '');
    assert.ok(removed.includes('LD_PRELOAD'));
  });

  it('secret values: secret-looking names and token-like removed values, never short ones or paths', () => {
    const { secretValues } = decideEnv(pol(), env);
    assert.ok(secretValues.includes(env.GITHUB_TOKEN));
    assert.ok(secretValues.includes(env.AWS_SECRET_ACCESS_KEY));
    assert.ok(secretValues.includes(env.INVOCATION_ID));
    assert.ok(!secretValues.includes('abc')); // too short to mask
    assert.ok(!secretValues.includes('/home/u/elsewhere'));
    assert.ok(!secretValues.includes('en_US.UTF-8'));
    assert.ok(!secretValues.includes('--inspect'));
  });

  it('a kept secret-looking variable is still masked', () => {
    const { kept, secretValues } = decideEnv(pol({ env: { allow: ['GITHUB_TOKEN'] } }), env);
    assert.equal(kept.GITHUB_TOKEN, env.GITHUB_TOKEN);
    assert.ok(secretValues.includes(env.GITHUB_TOKEN));
  });

  it('envNameMatches: * and ?, exact otherwise, case-sensitive, regex characters literal', () => {
    assert.ok(envNameMatches('LC_*', 'LC_ALL'));
    assert.ok(!envNameMatches('LC_*', 'XLC_ALL'));
    assert.ok(envNameMatches('A?C', 'ABC'));
    assert.ok(!envNameMatches('PATH', 'path'));
    assert.ok(!envNameMatches('A.B', 'AxB'));
  });
});

describe('policy/maskSecrets', () => {
  const P = [...DEFAULT_SECRET_PATTERNS];

  const cases: Array<[string, string, string]> = [
    ['GitHub token', 'token ghp_abcdefghijklmnopqrstuvwxyz0123456789 done', 'token *** done'],
    ['GitHub fine-grained', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', '***'],
    ['AWS key id', 'id=AKIAIOSFODNN7EXAMPLE;', 'id=***;'],
    ['Slack', 'xoxb-123456789012-abcdefABCDEF', '***'],
    ['generic key=value keeps the key', 'api_key=sk12345 password=hunter2 x', 'api_key=*** password=*** x'],
    ['case-insensitive key, JSON style', '{"Password": "p@ss", "client_secret":"zzz"}', '{"Password": "***", "client_secret":"***"}'],
    ['AWS secret by name', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG', 'AWS_SECRET_ACCESS_KEY=***'],
    ['URL credentials', 'git clone https://bob:s3cr3t@github.com/x.git', 'git clone https://bob:***@github.com/x.git'],
    ['Bearer header', 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz', 'Authorization: Bearer ***'],
    [
      'private key block',
      'before\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\nafter',
      'before\n***\nafter',
    ],
    ['private key cut off at the end of a chunk', 'x -----BEGIN RSA PRIVATE KEY-----\nMIIEow', 'x ***'],
    ['nothing secret', 'hello world, 42 files', 'hello world, 42 files'],
  ];
  for (const [label, input, expected] of cases) {
    it(label, () => assert.equal(maskSecrets(input, P, []), expected));
  }

  it('masks literal values (longest first) and leaves values shorter than 4 characters', () => {
    const out = maskSecrets('a=abc b=opensesame c=opensesame2 yes', [], ['abc', 'opensesame', 'opensesame2', 'yes', '']);
    assert.equal(out, 'a=abc b=*** c=*** yes');
  });

  it('patterns accept (?i) and RegExp objects; a bad pattern is skipped, not thrown', () => {
    assert.equal(maskSecrets('MyCode-1234', ['(?i)mycode-\\d+'], []), '***');
    assert.equal(maskSecrets('id 9999', [/\d{4}/], []), 'id ***');
    assert.equal(maskSecrets('keep (this', ['(unclosed'], []), 'keep (this');
    assert.equal(compileSecretPattern('(?is)a.b').flags.includes('i'), true);
  });

  it('is idempotent', () => {
    const once = maskSecrets('password=hunter2 ghp_abcdefghijklmnopqrstuvwxyz0123456789', P, ['hunter2']);
    assert.equal(maskSecrets(once, P, ['hunter2']), once);
  });
});
