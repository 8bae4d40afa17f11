// Hostile scripts against the network decision: every allowed connection (by address, by allowed host name,
// in every preset, through the proxy) meets the same address decision. Each case reached its target before.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runIn, runWithHosts, writeScript, PYTHON, type CliResult, type Sandbox } from './helpers';
import { connectResults, countingServer, useNetSandbox, violations } from './net-fixtures';

/** The CLI with /etc/hosts holding `hostsText`. */
function runWithHostsText(sb: Sandbox, hostsText: string, flags: string[], command: string[]): Promise<CliResult> {
  const hostsFile = path.join(sb.root, `hosts-${Date.now()}`);
  fs.writeFileSync(hostsFile, hostsText);
  return runWithHosts(sb, hostsFile, flags, command);
}

/** A non-loopback IPv4 address of this machine (eth0's), or null. */
function ownAddress(): string | null {
  for (const xs of Object.values(os.networkInterfaces())) for (const x of xs ?? []) if (x.family === 'IPv4' && !x.internal) return x.address;
  return null;
}

describe('hostile scripts: one address decision for every allowed connection', function () {
  this.timeout(60000);
  const sb = useNetSandbox();

  it('--net api-only --allow-host vm: an allowed name pointing at cloud metadata is still refused as metadata', async () => {
    const r = await runWithHostsText(sb, '127.0.0.1 localhost\n169.254.169.254 vm\n', ['--net', 'api-only', '--allow-host', 'vm'], [PYTHON, 'connect.py', 'vm:443']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(connectResults(r).map((x) => x[1]), [13]);
    const v = violations(r);
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]!.rule, 'cloud-metadata:169.254.169.254');
    assert.equal(v[0]!.severity, 'critical');
  });

  for (const preset of ['strict']) {
    it(`--net ${preset} --allow-host vm: the allowed name's address still meets the blocked ports (Redis on 127.0.0.1:6379 unreachable)`, async function () {
      const redis = await countingServer('127.0.0.1', 6379);
      if (!redis) this.skip(); // something already listens on 6379 here
      try {
        const r = await runWithHostsText(sb, '127.0.0.1 localhost\n127.0.0.1 vm\n', ['--net', preset, '--allow-host', 'vm'], [PYTHON, 'connect.py', 'vm:6379']);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(connectResults(r).map((x) => x[1]), [13]);
        assert.equal(redis!.count(), 0, 'the script reached the Redis port through an allowed name');
        const v = violations(r);
        assert.equal(v.length, 1, JSON.stringify(v));
        assert.equal(v[0]!.rule, 'blocked-port:6379');
        assert.equal(v[0]!.host, 'vm');
      } finally {
        await redis?.close();
      }
    });
  }

  it("a service on 0.0.0.0 reached through this machine's own interface address counts as local (default preset)", async function () {
    const own = ownAddress();
    if (!own) this.skip(); // no non-loopback interface
    const s = await countingServer('0.0.0.0');
    try {
      const r = await runIn(sb, [], [PYTHON, 'connect.py', `${own}:${s!.port}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(connectResults(r).map((x) => x[1]), [13]);
      assert.equal(s!.count(), 0, `the script reached a local service through ${own}`);
      const v = violations(r);
      assert.equal(v.length, 1, JSON.stringify(v));
      assert.match(String(v[0]!.rule), /^(local-interface|reserved|private):/);
      // On purpose, with an allowAddresses entry naming it: reachable.
      const ok = await runIn(sb, ['--allow-address', `${own}/32:${s!.port}`], [PYTHON, 'connect.py', `${own}:${s!.port}`]);
      assert.deepEqual(connectResults(ok).map((x) => x[1]), ['ok'], ok.stderr);
      assert.equal(s!.count(), 1);
    } finally {
      await s?.close();
    }
  });

  it('a name matching a wildcard allow rule that resolves to loopback is refused by the proxy with a reason', async function () {
    const s = await countingServer('127.0.0.7');
    try {
      const py = `import os, socket
ph, pp = os.environ['HTTPS_PROXY'].rsplit('/', 1)[-1].rsplit(':', 1)
s = socket.create_connection((ph, int(pp)), timeout=5)
s.sendall(b'CONNECT sneaky.allowed.test:${s!.port} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
head = b''
while b'\\r\\n\\r\\n' not in head:
    c = s.recv(4096)
    if not c: break
    head += c
print(head.split(b'\\r\\n')[0].decode())
print(head.split(b'\\r\\n\\r\\n', 1)[1].decode().strip())
`;
      writeScript(sb.workspace, 'proxy.py', py);
      const r = await runWithHostsText(sb, '127.0.0.1 localhost\n127.0.0.7 sneaky.allowed.test\n', ['--net', 'strict', '--allow-host', '*.allowed.test'], [PYTHON, 'proxy.py']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^HTTP\/1\.1 403/);
      assert.match(r.stdout, /wildcard host rule never reaches non-public addresses/);
      assert.equal(s!.count(), 0);
      const v = violations(r);
      assert.equal(v[0]?.rule, 'loopback:127.0.0.0/8', JSON.stringify(v));
    } finally {
      await s?.close();
    }
  });
});
