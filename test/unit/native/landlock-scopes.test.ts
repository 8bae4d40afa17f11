// Landlock ABI < 6 has no scoping: which promises another mechanism keeps, what enforce refuses, and what
// `check` says. Pure logic with a simulated ABI (this machine has ABI 7); the launcher step is driven with a
// fake libc that answers the ABI probe.
import * as assert from 'node:assert/strict';
import { landlockStep } from '../../../native/linux/apply';
import type { Libc } from '../../../native/linux/libc';
import { scopeKeeper, scopingCapability, unkeptScopes, type ScopeContext } from '../../../native/linux/landlock-scopes';
import type { LinuxPlan, NamespacePlan } from '../../../src/protocol/plan';
import { SandboxError } from '../../../src/errors';

const ctx = (o: Partial<ScopeContext>): ScopeContext => ({ abi: 5, pidNamespace: false, networkNamespace: false, supervisorRefusesAbstract: false, ...o });
const BOTH = ['signal', 'abstract_unix_socket'] as const;

const mounts = (isolateNetwork: boolean): NamespacePlan => ({ writable: ['/ws'], readOnly: [], hidden: [], pinned: [], isolateNetwork });
const plan = (over: Partial<LinuxPlan>): LinuxPlan => ({
  platform: 'linux',
  runId: 'r',
  file: '/bin/true',
  argv: ['true'],
  env: {},
  cwd: '/',
  rlimits: [],
  noNewPrivs: true,
  landlock: { handled: ['read_file'], rules: [], carveOuts: [], scopes: [...BOTH] },
  seccomp: { program: '', listener: true },
  requireLandlock: true,
  namespaces: null,
  ...over,
});

/** A libc whose only answer is the Landlock ABI probe; any further call (building the ruleset) is a marker. */
function abiLibc(abi: number): Libc {
  return new Proxy({} as Libc, {
    get(_t, name: string) {
      if (name === 'landlockCreateRuleset') {
        return (attr: unknown) => {
          if (attr === null) return abi;
          throw new Error('ruleset built');
        };
      }
      return () => {
        throw new Error(`unexpected call ${name}`);
      };
    },
  });
}

describe('Landlock scoping on older ABIs', () => {
  it('ABI 6 and later: Landlock keeps both scopes in every tier', () => {
    for (const abi of [6, 7]) assert.deepEqual(unkeptScopes(BOTH, ctx({ abi })), []);
    assert.equal(scopeKeeper('signal', ctx({ abi: 6 })), 'Landlock ABI 6');
  });

  it('ABI 5, fallback tier: signals are kept by nothing; abstract sockets only by the supervisor', () => {
    assert.deepEqual(unkeptScopes(BOTH, ctx({ supervisorRefusesAbstract: true })), ['signal']);
    assert.deepEqual(unkeptScopes(BOTH, ctx({})), ['signal', 'abstract_unix_socket']);
    assert.deepEqual(unkeptScopes(BOTH, ctx({ abi: null })), ['signal', 'abstract_unix_socket']);
  });

  it('ABI 5, namespace tier: the PID namespace keeps signals; a private network namespace or the supervisor keeps abstract sockets', () => {
    assert.deepEqual(unkeptScopes(BOTH, ctx({ pidNamespace: true, supervisorRefusesAbstract: true })), []);
    assert.deepEqual(unkeptScopes(BOTH, ctx({ pidNamespace: true, networkNamespace: true })), []);
    assert.deepEqual(unkeptScopes(BOTH, ctx({ pidNamespace: true })), ['abstract_unix_socket']);
  });

  it('launcher: enforce on ABI 5 in the fallback tier is refused with a sentence naming the ABI and the loss', () => {
    assert.throws(
      () => landlockStep(abiLibc(5), plan({})),
      (e: unknown) => e instanceof SandboxError && e.code === 'MECHANISM_UNAVAILABLE' && e.call === 'landlock_create_ruleset' && /ABI 5/.test(e.message) && /signal/.test(e.message) && /Linux 6\.12/.test(e.message),
    );
  });

  it('launcher: ABI 5 goes on to build the ruleset where every scope is kept, or in warn', () => {
    const built = (p: LinuxPlan) => assert.throws(() => landlockStep(abiLibc(5), p), /ruleset built/);
    built(plan({ namespaces: mounts(false) })); // PID namespace + supervisor
    built(plan({ namespaces: mounts(true), seccomp: { program: '', listener: false } })); // PID + network namespace
    built(plan({ requireLandlock: false })); // warn: nothing is promised
    built(plan({ landlock: { handled: ['read_file'], rules: [], carveOuts: [], scopes: [] } }));
    assert.throws(() => landlockStep(abiLibc(5), plan({ namespaces: mounts(false), seccomp: { program: '', listener: false } })), (e: unknown) => e instanceof SandboxError && /abstract unix sockets/.test(e.message));
    assert.throws(() => landlockStep(abiLibc(7), plan({})), /ruleset built/);
  });

  it('capability report: says what ABI 5 loses per tier, and enforce is impossible only where nothing keeps it', () => {
    const fallback = scopingCapability(5, { namespaces: false, supervised: true });
    assert.equal(fallback.available, false);
    assert.equal(fallback.requiredForEnforce, true);
    assert.match(fallback.detail, /ABI 5, no scoping \(needs ABI 6\)/);
    assert.match(fallback.detail, /lost: signals to processes outside the run/);
    assert.match(fallback.detail, /abstract unix sockets kept by the supervisor/);
    const ns = scopingCapability(5, { namespaces: true, supervised: true });
    assert.equal(ns.available, true);
    assert.match(ns.detail, /signals kept by the PID namespace/);
    const modern = scopingCapability(7, { namespaces: false, supervised: false });
    assert.equal(modern.available, true);
    assert.match(modern.detail, /ABI 7: signals and abstract unix sockets scoped/);
  });
});
