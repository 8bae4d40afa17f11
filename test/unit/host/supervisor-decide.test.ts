// The supervisor's verdicts (src/host/linux/supervisor-decide.ts), pure: parsed call arguments in, a verdict or
// null (allowed) out. The verdict does not depend on the mode: enforce blocks what it names and warn lets the
// call go on, reporting the same verdict, so warn shows exactly what enforce would block. The answering itself
// (EPERM/EACCES, continue, performing the call) runs against the real kernel in
// test/integration/linux/supervision.test.ts and hostile-supervisor.test.ts.
//
// File paths used here do not exist on the machine (except /etc/passwd, which does on every Linux), so the
// one disk read the decision makes (does the path exist) is fixed.
import * as assert from 'node:assert/strict';
import { resolvePolicy, type PolicyInput } from '../../../src/policy';
import { buildFsModel } from '../../../src/policy/fs-model';
import { AllowedFiles, decideBind, decideConnect, decideDenied, decideFile } from '../../../src/host/linux/supervisor-decide';
import type { SupervisedRun } from '../../../src/host/linux/supervisor-protocol';
import type { SockAddr } from '../../../native/linux/sockaddr';

const WS = '/nonexistent-sandbox-test/proj';
const HOME = '/nonexistent-sandbox-test/home';
const TMP = '/nonexistent-sandbox-test/tmp/run-1';

function run(input: PolicyInput, mode: 'warn' | 'enforce', over: Partial<SupervisedRun> = {}, tier: 'namespaces' | 'fallback' = 'namespaces'): SupervisedRun {
  const policy = resolvePolicy({ user: { ...input, mode } }, { workspace: WS, home: HOME }).policy;
  const model = buildFsModel(policy, { tmpDir: TMP, toolRoots: [], file: `${WS}/main.py`, tier });
  return {
    runId: 'r',
    listener: -1,
    violation: mode === 'enforce' ? 'refuse' : 'report',
    policy,
    grants: model.grants,
    protected: model.protected,
    hostNames: {},
    allowedAddresses: [],
    localAddresses: [],
    resolvers: ['10.0.0.53'],
    tmpDir: TMP,
    denied: [],
    ...over,
  };
}

const inet = (ip: string, port: number): SockAddr => ({ family: 'inet', ip, port }) as SockAddr;
const inet6 = (ip: string, port: number): SockAddr => ({ family: 'inet6', ip, port }) as SockAddr;
const unix = (p: string): SockAddr => ({ family: 'unix', path: p, abstract: false, unnamed: false }) as SockAddr;

/** Each check runs in both modes and must give the same verdict. */
function both(input: PolicyInput, f: (r: SupervisedRun) => unknown, over: Partial<SupervisedRun> = {}): unknown {
  const enforce = f(run(input, 'enforce', over));
  assert.deepEqual(f(run(input, 'warn', over)), enforce, 'warn reports what enforce blocks, no more, no less');
  return enforce;
}

describe('host: supervisor decisions (pure)', () => {
  describe('connect', () => {
    it('cloud metadata is critical, by address, in every preset', () => {
      for (const preset of ['default', 'strict', 'none'] as const) {
        const v = both({ network: { preset } }, (r) => decideConnect(r, inet('169.254.169.254', 80))) as { severity: string; rule: string; what: string } | null;
        assert.ok(v, preset);
        assert.equal(v.severity, 'critical', preset);
        assert.match(v.rule, /metadata/, preset);
        assert.equal(v.what, 'connect to 169.254.169.254:80');
      }
    });

    it("DNS to the system's resolvers is allowed; the same port elsewhere is decided by the policy", () => {
      assert.equal(both({ network: { preset: 'strict' } }, (r) => decideConnect(r, inet('10.0.0.53', 53))), null);
      assert.ok(both({ network: { preset: 'strict' } }, (r) => decideConnect(r, inet('10.0.0.54', 53))));
    });

    it('strict preset: an address reached by an allowed name passes, the same address without the name does not', () => {
      const input: PolicyInput = { network: { preset: 'strict', allowHosts: ['api.example.com'] } };
      const named = { hostNames: { '93.184.216.34': 'api.example.com' } };
      assert.equal(both(input, (r) => decideConnect(r, inet('93.184.216.34', 443)), named), null);
      const v = both(input, (r) => decideConnect(r, inet('93.184.216.34', 443))) as { kind: string; severity: string; address: string; port: number };
      assert.equal(v.kind, 'network');
      assert.equal(v.severity, 'error');
      assert.equal(v.address, '93.184.216.34');
      assert.equal(v.port, 443);
    });

    it('an allowed name never skips the blocked ports (SSH) and names its host in the report', () => {
      const input: PolicyInput = { network: { preset: 'strict', allowHosts: ['api.example.com'] } };
      const v = both(input, (r) => decideConnect(r, inet('93.184.216.34', 22)), { hostNames: { '93.184.216.34': 'api.example.com' } }) as { rule: string; what: string; host: string };
      assert.match(v.rule, /blocked-port:22/);
      assert.equal(v.what, 'connect to 93.184.216.34:22 (api.example.com)');
      assert.equal(v.host, 'api.example.com');
    });

    it('preset none refuses every IP connection; IPv6 is shown in brackets', () => {
      const v = both({ network: { preset: 'none' } }, (r) => decideConnect(r, inet6('2606:4700::1111', 443))) as { rule: string; what: string };
      assert.equal(v.rule, 'preset:none');
      assert.equal(v.what, 'connect to [2606:4700::1111]:443');
    });

    it('a local address of this machine is a local service, not the internet', () => {
      // A machine with a public address on one of its interfaces: that address reaches its own services.
      const v = both({ network: { preset: 'default' } }, (r) => decideConnect(r, inet('93.184.216.34', 8080)), { localAddresses: ['93.184.216.34'] }) as { rule: string };
      assert.equal(v.rule, 'local-interface:93.184.216.34');
      assert.equal(both({ network: { preset: 'default' } }, (r) => decideConnect(r, inet('93.184.216.34', 8080))), null, 'the same address is the internet when it is not ours');
    });

    it('unix sockets: name service, the workspace, the run temp dir and allowUnixSockets pass; docker and ssh-agent are critical', () => {
      for (const p of ['/run/nscd/socket', `${WS}/app.sock`, `${TMP}/x.sock`]) assert.equal(both({}, (r) => decideConnect(r, unix(p))), null, p);
      assert.equal(both({ network: { allowUnixSockets: ['/run/user/1000/bus'] } }, (r) => decideConnect(r, unix('/run/user/1000/bus'))), null);
      const dbus = both({}, (r) => decideConnect(r, unix('/run/user/1000/bus'))) as { severity: string; rule: string };
      assert.deepEqual([dbus.severity, dbus.rule], ['error', 'unix-socket-outside-workspace']);
      for (const p of ['/var/run/docker.sock', '/tmp/ssh-XXXX/agent.1234', '/run/user/1000/gnupg/S.gpg-agent']) {
        const v = both({}, (r) => decideConnect(r, unix(p))) as { severity: string };
        assert.equal(v.severity, 'critical', p);
      }
    });

    it('abstract and unnamed unix addresses are not path rules (Landlock scopes hold abstract sockets)', () => {
      assert.equal(both({}, (r) => decideConnect(r, { family: 'unix', path: '', abstract: true, unnamed: false } as SockAddr)), null);
      assert.equal(both({}, (r) => decideConnect(r, { family: 'unix', path: '', abstract: false, unnamed: true } as SockAddr)), null);
    });
  });

  describe('bind', () => {
    it('port 0 (a client picking its port) and loopback pass; a server on every interface does not, except in permissive', () => {
      assert.equal(both({}, (r) => decideBind(r, inet('0.0.0.0', 0))), null);
      assert.equal(both({}, (r) => decideBind(r, inet('127.0.0.1', 8080))), null);
      assert.equal(both({}, (r) => decideBind(r, inet6('::1', 8080))), null);
      const v = both({ profile: 'moderate' }, (r) => decideBind(r, inet6('::', 8080))) as { rule: string; what: string };
      assert.deepEqual([v.rule, v.what], ['serving:profile-moderate', 'bind to [::]:8080']);
      assert.equal(both({ profile: 'permissive' }, (r) => decideBind(r, inet('0.0.0.0', 8080))), null);
    });
  });

  describe('files', () => {
    it('writing in the workspace and the run temp dir passes', () => {
      assert.equal(both({}, (r) => decideFile(r, 'out.txt', `${WS}/out.txt`, `${WS}/out.txt`, 'write')), null);
      assert.equal(both({}, (r) => decideFile(r, `${TMP}/x`, `${TMP}/x`, `${TMP}/x`, 'write')), null);
    });

    it('writing a protected path is critical and names the rule; a link is reported by what was written and where it led', () => {
      const v = both({}, (r) => decideFile(r, 'link', `${WS}/link`, `${HOME}/.bashrc`, 'write')) as { severity: string; rule: string; path: string; resolvedPath: string; what: string };
      assert.equal(v.severity, 'critical');
      assert.match(v.rule, /^protected/);
      assert.equal(v.what, 'write of link');
      assert.deepEqual([v.path, v.resolvedPath], ['link', `${HOME}/.bashrc`]);
      const git = both({}, (r) => decideFile(r, '.git/hooks/pre-commit', `${WS}/.git/hooks/pre-commit`, `${WS}/.git/hooks/pre-commit`, 'write')) as { severity: string };
      assert.equal(git.severity, 'critical');
    });

    it("git's objects, refs and logs stay writable inside the protected .git", () => {
      assert.equal(both({}, (r) => decideFile(r, 'o', `${WS}/.git/objects/ab/cd`, `${WS}/.git/objects/ab/cd`, 'write')), null);
    });

    it('a system path is never writable (error); strict reads nothing outside system paths and the workspace (warning)', () => {
      const w = both({}, (r) => decideFile(r, '/usr/lib/x', '/usr/lib/x', '/usr/lib/x', 'write')) as { severity: string; rule: string };
      assert.deepEqual([w.severity, w.rule], ['error', 'system-path:/usr']);
      assert.equal(both({ profile: 'strict' }, (r) => decideFile(r, '/etc/passwd', '/etc/passwd', '/etc/passwd', 'read')), null, 'system files are readable');
      const rd = both({ profile: 'strict' }, (r) => decideFile(r, 'n', `${HOME}/notes.txt`, `${HOME}/notes.txt`, 'read')) as { severity: string; rule: string };
      assert.deepEqual([rd.severity, rd.rule], ['warning', 'profile:strict(no-read-outside)']);
      assert.equal(both({ profile: 'strict' }, (r) => decideFile(r, 'main.py', `${WS}/main.py`, `${WS}/main.py`, 'read')), null, 'strict reads the workspace');
    });

    it('denyRead: reading below it is refused, with the glob as the rule', () => {
      const v = both({ filesystem: { denyRead: ['secrets/**'] } }, (r) => decideFile(r, 'secrets/k', `${WS}/secrets/k`, `${WS}/secrets/k`, 'read')) as { severity: string; rule: string };
      assert.equal(v.severity, 'warning');
      assert.match(v.rule, /secrets/);
    });

    it('moving or removing a folder that contains a protected path is writing to it (mv .git g)', () => {
      const v = both({}, (r) => decideFile(r, WS, WS, WS, 'write', true)) as { severity: string; rule: string; what: string };
      assert.equal(v.severity, 'critical');
      assert.match(v.rule, /^protected:/);
      assert.equal(v.what, `move or removal of ${WS}`);
      assert.equal(both({}, (r) => decideFile(r, 'docs', `${WS}/docs`, `${WS}/docs`, 'write', true)), null, 'a folder with nothing protected inside');
    });
  });

  describe("a run's memo of allowed file decisions", () => {
    const cases: Array<[string, 'read' | 'write', boolean]> = [
      [`${WS}/out.txt`, 'write', false],
      [`${WS}/src/deep/new.txt`, 'write', false],
      [`${WS}/.git/hooks/pre-commit`, 'write', false],
      [`${WS}/.git/objects/ab/cd`, 'write', false],
      [`${HOME}/.bashrc`, 'write', false],
      [`${HOME}/.bashrc`, 'read', false],
      ['/usr/lib/x', 'write', false],
      ['/etc/passwd', 'read', false],
      [`${TMP}/x`, 'write', false],
      [WS, 'write', true],
      [`${WS}/docs`, 'write', true],
    ];

    it('answers exactly as no memo does, first and second time, in both tiers', () => {
      for (const tier of ['namespaces', 'fallback'] as const) {
        const r = run({}, 'enforce', {}, tier);
        const memo = new AllowedFiles();
        for (let round = 0; round < 2; round++) {
          for (const [p, access, moves] of cases) {
            assert.deepEqual(decideFile(r, p, p, p, access, moves, memo), decideFile(r, p, p, p, access, moves), `${tier} ${access} ${p} round ${round}`);
          }
        }
      }
    });

    it('keeps allowances only: a refusal is computed again (its report names the path as written), and access and moves are part of the key', () => {
      const r = run({}, 'enforce');
      const memo = new AllowedFiles();
      assert.equal(decideFile(r, 'o', `${WS}/o`, `${WS}/o`, 'write', false, memo), null);
      assert.ok(memo.has(AllowedFiles.key(`${WS}/o`, 'write', false)));
      assert.ok(!memo.has(AllowedFiles.key(`${WS}/o`, 'read', false)));
      assert.ok(!memo.has(AllowedFiles.key(`${WS}/o`, 'write', true)));
      assert.ok(decideFile(r, 'x', `${WS}/x`, `${WS}/.git/hooks/x`, 'write', false, memo));
      assert.ok(!memo.has(AllowedFiles.key(`${WS}/.git/hooks/x`, 'write', false)));
    });

    it('does not keep an allowance that depended on the path existing (a name in a carved directory, fallback tier)', () => {
      const r = run({}, 'enforce', {}, 'fallback');
      const memo = new AllowedFiles();
      // A folder below the root has no carve-out under it: allowed whether or not the name exists, so kept.
      assert.equal(decideFile(r, 'src/x', `${WS}/src/x`, `${WS}/src/x`, 'write', false, memo), null);
      assert.ok(memo.has(AllowedFiles.key(`${WS}/src/x`, 'write', false)));
      // The workspace root holds .git, so its direct children are carved: a new name there depends on existence.
      decideFile(r, 'n', `${WS}/n`, `${WS}/n`, 'write', false, memo);
      assert.ok(!memo.has(AllowedFiles.key(`${WS}/n`, 'write', false)));
    });
  });

  describe('denied syscalls', () => {
    it('escape and tracing calls are critical, others an error; the rule names the call', () => {
      for (const name of ['ptrace', 'mount', 'unshare', 'bpf', 'kexec_load']) {
        const v = both({}, (r) => decideDenied(r, name)) as { severity: string; rule: string; kind: string };
        assert.deepEqual([v.kind, v.severity, v.rule], ['syscall', 'critical', `seccomp:deny ${name}`], name);
      }
      const reboot = both({ profile: 'strict' }, (r) => decideDenied(r, 'reboot')) as { severity: string; why: string };
      assert.equal(reboot.severity, 'error');
      assert.match(reboot.why, /profile strict/);
    });
  });
});
