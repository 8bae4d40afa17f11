// Network policy, enforced by the supervisor on real connects to loopback servers we run ourselves.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { runIn, runWithHosts, writeScript, PYTHON } from './helpers';
import { connectResults, countingServer, useNetSandbox, violations, type CountingServer } from './net-fixtures';

/** A counting server on a loopback address; the test fails when it cannot be had. */
async function server(host: string): Promise<CountingServer> {
  const s = await countingServer(host);
  if (!s) throw new Error(`no server on ${host}`);
  return s;
}

/** Uses the proxy the sandbox exports: CONNECT for host:port targets, urllib for http:// URLs; ip:port is a direct connect. */
const PROXIED_PY = `import json, os, socket, sys, urllib.request
proxy = os.environ.get('HTTPS_PROXY', '')
ph, pp = proxy.rsplit('/', 1)[-1].rsplit(':', 1) if proxy else ('', '0')
res = []
for t in sys.argv[1:]:
    if t.startswith('http://'):
        try:
            with urllib.request.urlopen(t, timeout=5) as r:
                res.append('GET %d %s' % (r.status, r.read().decode().strip()))
        except Exception as e:
            res.append('GET error %s' % e)
    elif t[0].isdigit():
        h, p = t.rsplit(':', 1)
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((h, int(p)))
            res.append('direct %s ok' % h)
        except OSError as e:
            res.append('direct %s %s' % (h, e.errno))
    else:
        s = socket.create_connection((ph, int(pp)), timeout=5)
        s.sendall(('CONNECT %s HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n' % (t, t)).encode())
        head = b''
        while b'\\r\\n\\r\\n' not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        status = head.split(b' ', 2)[1].decode() if head else 'none'
        if status == '200':
            rest = head.split(b'\\r\\n\\r\\n', 1)[1]
            while b'\\n' not in rest:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
            res.append('CONNECT %s 200 %s' % (t, rest.decode().strip()))
        else:
            res.append('CONNECT %s %s' % (t, status))
        s.close()
print(json.dumps({'proxy': proxy, 'results': res}))
`;

describe('network policy (supervisor, real connects)', function () {
  this.timeout(60000);
  const sb = useNetSandbox();

  it('default preset: every blocked category and encoding fails with one event each; an allowed loopback server works', async () => {
    const ok = await server('127.0.0.1');
    try {
      const targets = [
        '169.254.169.254:80', // AWS/GCP/Azure metadata
        '2852039166:80', // the same, decimal
        '0xA9FEA9FE:80', // hex
        '0251.0376.0251.0376:80', // octal
        '[::ffff:169.254.169.254]:80', // IPv4-mapped IPv6
        '[fd00:ec2::254]:80', // AWS IPv6 metadata
        '168.63.129.16:80', // Azure wireserver
        '100.100.100.200:80', // Alibaba metadata
        '169.254.1.1:80', // link-local
        '10.1.2.3:80', // RFC 1918
        '192.168.0.1:80',
        '172.16.0.1:80',
        '127.0.0.5:9', // loopback, not allowed
        `127.0.0.1:${ok.port}`, // allowed explicitly
      ];
      const r = await runIn(sb, ['--net', 'default', '--allow-address', `127.0.0.1/32:${ok.port}`], [PYTHON, 'connect.py', ...targets]);
      assert.equal(r.code, 0, r.stderr);
      const res = connectResults(r);
      for (const [t, outcome] of res.slice(0, -1)) assert.equal(outcome, 13, `${t} -> ${outcome}`); // EACCES
      assert.deepEqual(res.at(-1), [`127.0.0.1:${ok.port}`, 'ok']);
      assert.equal(ok.count(), 1);
      const v = violations(r);
      assert.equal(v.length, targets.length - 1, JSON.stringify(v.map((x) => x.message)));
      for (const x of v) {
        assert.equal(x.kind, 'network');
        assert.equal(x.action, 'blocked');
        assert.equal(x.syscall, 'connect');
      }
      const meta = v.filter((x) => /metadata/.test(String(x.rule)));
      assert.ok(meta.length >= 7, JSON.stringify(v.map((x) => x.rule)));
      assert.ok(meta.every((x) => x.severity === 'critical'));
      assert.match(String(v[0]!.message), /^Blocked connect to 169\.254\.169\.254:80 — .*metadata.*\(network preset default\)$/);
    } finally {
      await ok.close();
    }
  });

  it('dangerous ports are blocked even on an allowed address', async () => {
    const r = await runIn(sb, ['--allow-address', '127.0.0.0/8'], [PYTHON, 'connect.py', '127.0.0.1:22', '127.0.0.1:6379']);
    const res = connectResults(r);
    assert.deepEqual(res.map((x) => x[1]), [13, 13]);
    assert.ok(violations(r).every((v) => /port/.test(String(v.rule))), JSON.stringify(violations(r)));
  });

  it('a connect to a unix socket outside the workspace is a violation; inside is fine', async () => {
    const outsideSock = path.join(sb.outside, 'fake-docker.sock');
    const srv = net.createServer((s) => s.end());
    await new Promise<void>((r) => srv.listen(outsideSock, () => r()));
    fs.chmodSync(outsideSock, 0o777);
    try {
      const py = `import socket\ns=socket.socket(socket.AF_UNIX)\ntry:\n  s.connect(${JSON.stringify(outsideSock)}); print('outside ok')\nexcept OSError as e:\n  print('outside', e.errno)\n`;
      writeScript(sb.workspace, 'u.py', py);
      const r = await runIn(sb, [], [PYTHON, 'u.py']);
      assert.match(r.stdout, /outside 13/);
      const v = violations(r).find((x) => x.rule === 'unix-socket-outside-workspace');
      assert.ok(v, JSON.stringify(violations(r)));
      assert.equal(v!.address, outsideSock);
    } finally {
      srv.close();
    }
  });

  it('strict preset: a name on the allow list connects, another name is refused with an event naming the host', async function () {
    const a = await server('127.0.0.7');
    const b = await server('127.0.0.8');
    try {
      const hosts = path.join(sb.root, 'hosts');
      fs.writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.7 api.allowed.test\n127.0.0.8 evil.other.test\n`);
      const r = await runWithHosts(sb, hosts, ['--net', 'strict', '--allow-host', 'api.allowed.test'], [PYTHON, 'connect.py', `api.allowed.test:${a.port}`, `evil.other.test:${b.port}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(connectResults(r).map((x) => x[1]), ['ok', 13]);
      assert.equal(a.count(), 1);
      assert.equal(b.count(), 0);
      const v = violations(r);
      assert.equal(v.length, 1);
      assert.equal(v[0]!.host, 'evil.other.test');
      assert.match(String(v[0]!.message), /evil\.other\.test/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('wildcard allowHosts: matched by name through the run\'s proxy (CONNECT and http://); a direct connect without a name is refused and told why', async function () {
    const a = await server('127.0.0.7');
    const b = await server('127.0.0.8');
    const c = await server('127.0.0.9');
    const web = http.createServer((_req, res) => res.end('web ok\n'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.7', () => r()));
    const webPort = (web.address() as net.AddressInfo).port;
    try {
      const hosts = path.join(sb.root, 'hosts');
      fs.writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.7 api.allowed.test\n127.0.0.8 evil.other.test\n`);
      writeScript(sb.workspace, 'proxied.py', PROXIED_PY);
      // The stand-in "public" server sits on loopback, which a wildcard rule alone never reaches (a name below
      // it could point anywhere): the address is allowed on purpose, as a local service must be.
      const r = await runWithHosts(sb, hosts, ['--net', 'strict', '--allow-host', '*.allowed.test', '--allow-address', '127.0.0.7/32'], [PYTHON, 'proxied.py', `api.allowed.test:${a.port}`, `evil.other.test:${b.port}`, `http://api.allowed.test:${webPort}/`, `127.0.0.9:${c.port}`]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      assert.match(String(out.proxy), /^http:\/\/127\.0\.0\.1:\d+$/, 'the proxy is exported to the script');
      assert.deepEqual(out.results, [`CONNECT api.allowed.test:${a.port} 200 hello`, `CONNECT evil.other.test:${b.port} 403`, 'GET 200 web ok', 'direct 127.0.0.9 13']);
      assert.equal(a.count(), 1);
      assert.equal(b.count(), 0, 'nothing reached the host outside the wildcard');
      assert.equal(c.count(), 0);
      const v = violations(r);
      assert.equal(v.length, 2, JSON.stringify(v));
      assert.equal(v[0]!.host, 'evil.other.test');
      assert.match(String(v[0]!.message), /^Blocked connect to evil\.other\.test:\d+ \(127\.0\.0\.8\) through the sandbox proxy/);
      assert.equal(v[1]!.address, '127.0.0.9');
      assert.match(String(v[1]!.message), /wildcard allowHosts entries match by name, through the sandbox proxy/);
    } finally {
      await Promise.all([a.close(), b.close(), c.close(), new Promise((r) => web.close(r))]);
    }
  });

  it('metadata.google.internal is blocked by name', async () => {
    const s = await server('127.0.0.9');
    try {
      const hosts = path.join(sb.root, 'hosts');
      fs.writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.9 metadata.google.internal\n`);
      const r = await runWithHosts(sb, hosts, ['--allow-address', '127.0.0.9/32'], [PYTHON, 'connect.py', `metadata.google.internal:${s.port}`]);
      assert.deepEqual(connectResults(r).map((x) => x[1]), [13]);
      assert.equal(s.count(), 0);
      assert.match(String(violations(r)[0]?.rule), /metadata/);
    } finally {
      await s.close();
    }
  });

  it('a thread rewriting the sockaddr right after connect never reaches the blocked address (200 tries)', async () => {
    const good = await server('127.0.0.1');
    const bad = await server('127.0.0.2');
    try {
      const py = `import ctypes, socket, struct, threading, sys
libc = ctypes.CDLL(None, use_errno=True)
good = int(sys.argv[1]); bad = int(sys.argv[2])
def sa(ip, port): return struct.pack('<H', 2) + struct.pack('>H', port) + socket.inet_aton(ip) + b'\\0'*8
A = sa('127.0.0.1', good); B = sa('127.0.0.2', bad)
buf = ctypes.create_string_buffer(A, 16)
stop = False
def flip():
    while not stop:
        ctypes.memmove(buf, B, 16); ctypes.memmove(buf, A, 16)
t = threading.Thread(target=flip); t.start()
ok = 0; refused = 0
for i in range(200):
    s = socket.socket(); ctypes.memmove(buf, A, 16)
    r = libc.connect(s.fileno(), buf, 16)
    if r == 0: ok += 1
    else: refused += 1
    s.close()
stop = True; t.join()
print('ok', ok, 'refused', refused)
`;
      writeScript(sb.workspace, 'race.py', py);
      const r = await runIn(sb, ['--allow-address', `127.0.0.1/32:${good.port}`], [PYTHON, 'race.py', String(good.port), String(bad.port)]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(bad.count(), 0, 'the blocked server was reached');
      const m = /ok (\d+) refused (\d+)/.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.equal(Number(m![1]) + Number(m![2]), 200);
      assert.equal(good.count(), Number(m![1]));
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it('none preset (strict profile): no IP sockets at all', async () => {
    const r = await runIn(sb, ['--profile', 'strict'], [PYTHON, 'connect.py', '127.0.0.1:80']);
    assert.deepEqual(connectResults(r).map((x) => x[1]), [1]); // EPERM from socket()
  });

  it('warn mode: the same connects go ahead and each is reported as warned', async () => {
    const s = await server('127.0.0.1');
    try {
      const r = await runIn(sb, ['--mode', 'warn'], [PYTHON, 'connect.py', `127.0.0.1:${s.port}`]);
      assert.deepEqual(connectResults(r).map((x) => x[1]), ['ok']);
      const v = violations(r);
      assert.equal(v.length, 1);
      assert.equal(v[0]!.action, 'warned');
      assert.match(String(v[0]!.message), /^Allowed \(warn mode\), would block connect to 127\.0\.0\.1:/);
    } finally {
      await s.close();
    }
  });
});
