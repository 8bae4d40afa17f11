// resolvePolicy: layer precedence, tighten-only workspace layer, validation naming the field, path expansion.
import * as assert from 'node:assert/strict';
import { resolvePolicy, policyDigest, presetFor, ALWAYS_PROTECTED, DEFAULT_BLOCKED_PORTS, DEFAULT_ENV_ALLOW, type PolicyInput } from '../../../src/policy';
import { SandboxError } from '../../../src/errors';

const CTX = { workspace: '/work/proj', home: '/home/u' };

function throwsCode(fn: () => unknown, code: string, ...patterns: RegExp[]): SandboxError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SandboxError, `expected SandboxError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

describe('policy/resolve: presets', () => {
  it('no layers: moderate, enforce, complete preset values', () => {
    const { policy } = resolvePolicy({}, CTX);
    assert.equal(policy.profile, 'moderate');
    assert.equal(policy.mode, 'enforce');
    assert.equal(policy.workspace, '/work/proj');
    assert.equal(policy.home, '/home/u');
    assert.deepEqual(policy.limits, { cpuSeconds: 300, memoryMiB: 4096, maxProcesses: 256, fileSizeMiB: 1024, openFiles: 1024, timeoutSeconds: 1800 });
    assert.equal(policy.filesystem.readEverywhere, true);
    assert.equal(policy.filesystem.writeOutsideSystem, false);
    assert.equal(policy.network.preset, 'default');
    assert.deepEqual(policy.network.blockedPorts, [...DEFAULT_BLOCKED_PORTS]);
    assert.deepEqual(policy.env.allow, [...DEFAULT_ENV_ALLOW]);
    assert.equal(policy.syscalls.allowPtrace, false);
  });

  it('strict and permissive profiles', () => {
    const s = resolvePolicy({ user: { profile: 'strict' } }, CTX).policy;
    assert.equal(s.network.preset, 'none');
    assert.equal(s.filesystem.readEverywhere, false);
    assert.deepEqual(s.limits, { cpuSeconds: 60, memoryMiB: 1024, maxProcesses: 64, fileSizeMiB: 256, openFiles: 256, timeoutSeconds: 300 });
    const p = resolvePolicy({ user: { profile: 'permissive' } }, CTX).policy;
    assert.equal(p.filesystem.writeOutsideSystem, true);
    assert.equal(p.syscalls.allowPtrace, true);
    assert.deepEqual(p.limits, { cpuSeconds: null, memoryMiB: null, maxProcesses: null, fileSizeMiB: null, openFiles: 4096, timeoutSeconds: 3600 });
  });

  it('presetFor returns a fresh copy each time', () => {
    const a = presetFor('strict');
    a.env.allow.push('EVIL');
    a.limits.cpuSeconds = 1;
    const b = presetFor('strict');
    assert.ok(!b.env.allow.includes('EVIL'));
    assert.equal(b.limits.cpuSeconds, 60);
  });

  it('protected entries are expanded against home and workspace', () => {
    const { policy } = resolvePolicy({}, CTX);
    assert.equal(policy.filesystem.protected.length, ALWAYS_PROTECTED.length);
    assert.ok(policy.filesystem.protected.includes('/home/u/.ssh'));
    assert.ok(policy.filesystem.protected.includes('/etc/shadow'));
    assert.ok(policy.filesystem.protected.includes('/work/proj/.git'));
    assert.ok(policy.filesystem.protected.includes('/work/proj/.vscode'));
  });
});

describe('policy/resolve: precedence', () => {
  it('defaults < user < workspace < run for scalars', () => {
    const layers = {
      defaults: { mode: 'warn', limits: { memoryMiB: 100, cpuSeconds: 10, openFiles: 50, fileSizeMiB: 7 } },
      user: { limits: { memoryMiB: 200, cpuSeconds: 20, openFiles: 40 } },
      workspace: { limits: { memoryMiB: 150, cpuSeconds: 5 } },
      run: { limits: { memoryMiB: 999 } },
    } satisfies Record<string, PolicyInput>;
    const { policy } = resolvePolicy(layers, CTX);
    assert.equal(policy.mode, 'warn');
    assert.equal(policy.limits.memoryMiB, 999); // run
    assert.equal(policy.limits.cpuSeconds, 5); // workspace
    assert.equal(policy.limits.openFiles, 40); // user
    assert.equal(policy.limits.fileSizeMiB, 7); // defaults
    assert.equal(policy.limits.maxProcesses, 256); // preset
  });

  it('the last profile wins; explicit values of earlier layers stay over the new base', () => {
    const { policy, notes } = resolvePolicy({ user: { profile: 'permissive', limits: { memoryMiB: 512 } }, run: { profile: 'strict' } }, CTX);
    assert.equal(policy.profile, 'strict');
    assert.equal(policy.limits.memoryMiB, 512);
    assert.equal(policy.limits.cpuSeconds, 60);
    assert.match(notes[0]!, /profile strict \(run flags\)/);
  });

  it('lists are unions across layers, in order, without duplicates', () => {
    const { policy } = resolvePolicy(
      { user: { filesystem: { denyWrite: ['a', 'b'] }, network: { denyHosts: ['x.com'] } }, workspace: { filesystem: { denyWrite: ['b', 'c'] }, network: { denyHosts: ['y.com'] } } },
      CTX,
    );
    assert.deepEqual(policy.filesystem.denyWrite, ['/work/proj/a', '/work/proj/b', '/work/proj/c']);
    assert.deepEqual(policy.network.denyHosts, ['x.com', 'y.com']);
  });

  it('env.set merges with later layers winning', () => {
    const { policy } = resolvePolicy({ user: { env: { set: { A: '1', B: '1' } } }, run: { env: { set: { B: '2' } } } }, CTX);
    assert.deepEqual(policy.env.set, { A: '1', B: '2' });
  });

  it('the run layer may loosen anything', () => {
    const { policy } = resolvePolicy(
      { user: { profile: 'strict', mode: 'enforce' }, run: { profile: 'permissive', mode: 'disabled', filesystem: { allowWrite: ['/srv/out'] } } },
      CTX,
    );
    assert.equal(policy.profile, 'permissive');
    assert.equal(policy.mode, 'disabled');
    assert.deepEqual(policy.filesystem.allowWrite, ['/srv/out']);
  });
});

describe('policy/resolve: workspace layer may only tighten', () => {
  const user: PolicyInput = {
    profile: 'moderate',
    mode: 'enforce',
    filesystem: { readOnly: true, allowRead: ['/data'] },
    network: { preset: 'strict', allowHosts: ['api.example.com'] },
  };
  const cases: Array<[string, PolicyInput, RegExp]> = [
    ['profile', { profile: 'permissive' }, /profile \(moderate → permissive\)/],
    ['mode warn', { mode: 'warn' }, /mode \(enforce → warn\)/],
    ['mode disabled', { mode: 'disabled' }, /mode \(enforce → disabled\)/],
    ['larger limit', { limits: { memoryMiB: 8192 } }, /limits\.memoryMiB \(4096 → 8192\)/],
    ['longer timeout', { limits: { timeoutSeconds: 99999 } }, /limits\.timeoutSeconds/],
    ['allowWrite', { filesystem: { allowWrite: ['out'] } }, /filesystem\.allowWrite \(\+ \/work\/proj\/out\)/],
    ['allowRead', { filesystem: { allowRead: ['~/docs'] } }, /filesystem\.allowRead \(\+ \/home\/u\/docs\)/],
    ['readOnly false', { filesystem: { readOnly: false } }, /filesystem\.readOnly \(true → false\)/],
    ['allowHosts', { network: { allowHosts: ['evil.com'] } }, /network\.allowHosts \(\+ evil\.com\)/],
    ['allowAddresses', { network: { allowAddresses: ['10.0.0.0/8'] } }, /network\.allowAddresses \(\+ 10\.0\.0\.0\/8\)/],
    ['allowUnixSockets', { network: { allowUnixSockets: ['/var/run/docker.sock'] } }, /network\.allowUnixSockets/],
    ['network preset', { network: { preset: 'default' } }, /network\.preset \(strict → default\)/],
    ['allowPtrace', { syscalls: { allowPtrace: true } }, /syscalls\.allowPtrace \(false → true\)/],
    ['env.allow', { env: { allow: ['GITHUB_TOKEN'] } }, /env\.allow \(\+ GITHUB_TOKEN\)/],
  ];
  for (const [name, ws, re] of cases) {
    it(`rejects: ${name}`, () => {
      throwsCode(() => resolvePolicy({ user, workspace: ws }, CTX), 'POLICY_LOOSENING', re);
    });
  }

  it('names every loosened field in one message', () => {
    const e = throwsCode(() => resolvePolicy({ user, workspace: { mode: 'warn', limits: { cpuSeconds: 9999 }, syscalls: { allowPtrace: true } } }, CTX), 'POLICY_LOOSENING');
    for (const f of ['mode', 'limits.cpuSeconds', 'syscalls.allowPtrace']) assert.ok(e.message.includes(f), `${f} missing in ${e.message}`);
  });

  it('a profile loosening also names the fields it widens', () => {
    const e = throwsCode(() => resolvePolicy({ user: { profile: 'strict' }, workspace: { profile: 'moderate' } }, CTX), 'POLICY_LOOSENING');
    for (const f of ['profile (strict → moderate)', 'filesystem.readEverywhere', 'network.preset (none → default)', 'limits.memoryMiB (1024 → 4096)']) assert.ok(e.message.includes(f), `${f} missing in ${e.message}`);
  });

  it('an unlimited value counts as larger', () => {
    throwsCode(() => resolvePolicy({ user: { profile: 'moderate' }, workspace: { profile: 'permissive' } }, CTX), 'POLICY_LOOSENING', /limits\.cpuSeconds \(300 → unlimited\)/, /filesystem\.writeOutsideSystem/);
  });

  it('accepts tightening: stricter profile, enforce, smaller limits, deny lists, readOnly, api-only', () => {
    const { policy, notes } = resolvePolicy(
      {
        user: { profile: 'moderate', mode: 'warn', network: { preset: 'strict' } },
        workspace: {
          profile: 'strict',
          mode: 'enforce',
          limits: { memoryMiB: 256 },
          filesystem: { readOnly: true, denyRead: ['secrets/**'], denyWrite: ['dist'] },
          network: { preset: 'api-only', denyHosts: ['*.evil.com'], blockedPorts: [8080] },
          syscalls: { extraDeny: ['io_uring_setup'] },
          env: { set: { CI: '1' } },
        },
      },
      CTX,
    );
    assert.equal(policy.profile, 'strict');
    assert.equal(policy.mode, 'enforce');
    assert.equal(policy.limits.memoryMiB, 256);
    assert.equal(policy.network.preset, 'api-only');
    assert.ok(policy.network.blockedPorts.includes(8080));
    assert.deepEqual(policy.filesystem.denyRead, ['/work/proj/secrets/**']);
    assert.ok(notes.some((n) => /sets environment variables: CI/.test(n)));
  });

  it('allow entries the user already has are no loosening', () => {
    const { policy } = resolvePolicy({ user, workspace: { filesystem: { allowRead: ['/data'] }, network: { allowHosts: ['api.example.com'] } } }, CTX);
    assert.deepEqual(policy.filesystem.allowRead, ['/data']);
  });

  it('approved loosening goes through and is noted', () => {
    const { policy, notes } = resolvePolicy({ user, workspace: { filesystem: { allowWrite: ['out'] }, limits: { memoryMiB: 8192 } } }, { ...CTX, approvedLoosening: true });
    assert.deepEqual(policy.filesystem.allowWrite, ['/work/proj/out']);
    assert.equal(policy.limits.memoryMiB, 8192);
    assert.ok(notes.some((n) => /loosens your policy \(approved\).*allowWrite.*memoryMiB/.test(n)), notes.join('\n'));
  });

  it('the workspace is compared with defaults + user, not with the run flags', () => {
    // run flags loosen, the workspace only tightens: fine.
    const { policy } = resolvePolicy({ user: { profile: 'strict' }, workspace: { limits: { cpuSeconds: 30 } }, run: { profile: 'permissive' } }, CTX);
    assert.equal(policy.profile, 'permissive');
    assert.equal(policy.limits.cpuSeconds, 30);
  });
});

describe('policy/resolve: validation', () => {
  it('names the layer and the field', () => {
    throwsCode(() => resolvePolicy({ workspace: { limits: { memoryMiB: -1 } } as PolicyInput }, CTX), 'POLICY_INVALID', /^workspace policy: limits\.memoryMiB: Too small: expected number to be >0$/);
    throwsCode(() => resolvePolicy({ user: { filesystem: { allowWrite: ['ok', ''] } } }, CTX), 'POLICY_INVALID', /^user policy: filesystem\.allowWrite\[1\]: must not be empty$/);
    throwsCode(() => resolvePolicy({ run: { bogus: 1 } as unknown as PolicyInput }, CTX), 'POLICY_INVALID', /^run flags: \(root\): Unrecognized key: "bogus"$/);
    throwsCode(() => resolvePolicy({ defaults: { mode: 'loud' } as unknown as PolicyInput }, CTX), 'POLICY_INVALID', /^defaults policy: mode: Invalid option/);
  });

  it('reports every problem, one per line', () => {
    const e = throwsCode(() => resolvePolicy({ user: { limits: { cpuSeconds: 0, openFiles: 1.5 } } as PolicyInput }, CTX), 'POLICY_INVALID');
    assert.equal(e.message.split('\n').length, 2);
    assert.match(e.message, /limits\.cpuSeconds/);
    assert.match(e.message, /limits\.openFiles/);
  });

  it('a timeout too long for a timer is invalid', () => {
    throwsCode(() => resolvePolicy({ user: { limits: { timeoutSeconds: 3e6 } } }, CTX), 'POLICY_INVALID', /limits\.timeoutSeconds: must be at most/);
  });

  it('unknown profile → PROFILE_UNKNOWN with the valid names', () => {
    throwsCode(() => resolvePolicy({ user: { profile: 'lenient' } as unknown as PolicyInput }, CTX), 'PROFILE_UNKNOWN', /"lenient"/, /strict, moderate, permissive/, /^user policy: profile/);
  });

  it('bad regular expressions, addresses, host patterns and ~user paths name the field', () => {
    throwsCode(() => resolvePolicy({ user: { env: { secretPatterns: ['ok', '(unclosed'] } } }, CTX), 'POLICY_INVALID', /user policy: env\.secretPatterns\[1\]: invalid regular expression/);
    throwsCode(() => resolvePolicy({ user: { env: { secretPatterns: ['x*'] } } }, CTX), 'POLICY_INVALID', /matches empty text/);
    throwsCode(() => resolvePolicy({ run: { network: { allowAddresses: ['10.0.0.0/33'] } } }, CTX), 'POLICY_INVALID', /run flags: network\.allowAddresses\[0\]: "10\.0\.0\.0\/33" is not CIDR/);
    throwsCode(() => resolvePolicy({ run: { network: { allowAddresses: ['127.0.0.1:99999'] } } }, CTX), 'POLICY_INVALID', /allowAddresses\[0\]/);
    throwsCode(() => resolvePolicy({ run: { network: { denyHosts: ['bad host'] } } }, CTX), 'POLICY_INVALID', /network\.denyHosts\[0\]/);
    throwsCode(() => resolvePolicy({ run: { filesystem: { allowRead: ['~bob/x'] } } }, CTX), 'POLICY_INVALID', /filesystem\.allowRead\[0\]: .*~user/);
  });

  it('workspace and home must be absolute', () => {
    throwsCode(() => resolvePolicy({}, { workspace: 'proj', home: '/home/u' }), 'POLICY_INVALID', /workspace must be an absolute path/);
  });

  it('accepted address and host forms', () => {
    const { policy } = resolvePolicy(
      { run: { network: { allowAddresses: ['127.0.0.1/32:8080', '10.0.0.0/8', '[::1]:3000', '[fd00::/8]:443', '::1', '192.168.1.1:8000-8100'], allowHosts: ['*.example.com', 'api-*.x.io', 'localhost', '10.0.0.1'] } } },
      CTX,
    );
    assert.equal(policy.network.allowAddresses.length, 6);
  });
});

describe('policy/resolve: paths', () => {
  it('expands ~, makes relative globs absolute, normalises . and .. and trailing slashes', () => {
    const { policy } = resolvePolicy(
      {
        run: {
          filesystem: {
            allowRead: ['~/docs/', '~', 'data/**/*.csv', './a/../b', '/opt//x/./y/', '../sibling'],
            denyWrite: ['build/../dist/'],
          },
          network: { allowUnixSockets: ['~/.run/app.sock'] },
        },
      },
      CTX,
    );
    assert.deepEqual(policy.filesystem.allowRead, ['/home/u/docs', '/home/u', '/work/proj/data/**/*.csv', '/work/proj/b', '/opt/x/y', '/work/sibling']);
    assert.deepEqual(policy.filesystem.denyWrite, ['/work/proj/dist']);
    assert.deepEqual(policy.network.allowUnixSockets, ['/home/u/.run/app.sock']);
  });

  it('the workspace and home are normalised', () => {
    const { policy } = resolvePolicy({ run: { filesystem: { allowWrite: ['out'] } } }, { workspace: '/work/proj/', home: '/home/u/./' });
    assert.equal(policy.workspace, '/work/proj');
    assert.equal(policy.home, '/home/u');
    assert.deepEqual(policy.filesystem.allowWrite, ['/work/proj/out']);
  });

  it('glob characters in the workspace path are escaped', () => {
    const { policy } = resolvePolicy({ run: { filesystem: { denyWrite: ['*.lock'] } } }, { workspace: '/w/my[x]', home: '/home/u' });
    assert.deepEqual(policy.filesystem.denyWrite, ['/w/my\\[x\\]/*.lock']);
  });

  it('notes an allow entry that names a protected path', () => {
    const { notes } = resolvePolicy({ run: { filesystem: { allowRead: ['~/.ssh/config'], allowWrite: ['/**'] } } }, CTX);
    assert.ok(notes.some((n) => /allowRead ~\/\.ssh\/config names the protected ~\/\.ssh/.test(n)), notes.join('\n'));
    assert.ok(!notes.some((n) => /allowWrite \/\*\* names/.test(n)), notes.join('\n'));
  });
});

describe('policy/resolve: digest', () => {
  it('is stable across key order and changes with content', () => {
    const { policy } = resolvePolicy({ user: { env: { set: { A: '1', B: '2' } } } }, CTX);
    // Recreate every nested object with reversed keys.
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverseKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;
    const d = policyDigest(policy);
    assert.match(d, /^[0-9a-f]{64}$/);
    assert.equal(policyDigest(reverseKeys(policy) as typeof policy), d);
    assert.equal(policyDigest({ ...policy, env: { set: { B: '2', A: '1' }, secretPatterns: policy.env.secretPatterns, allow: policy.env.allow } }), d);
    assert.notEqual(policyDigest({ ...policy, limits: { ...policy.limits, cpuSeconds: 1 } }), d);
    assert.notEqual(policyDigest({ ...policy, filesystem: { ...policy.filesystem, allowRead: ['/b', '/a'] } }), policyDigest({ ...policy, filesystem: { ...policy.filesystem, allowRead: ['/a', '/b'] } }));
  });
});
