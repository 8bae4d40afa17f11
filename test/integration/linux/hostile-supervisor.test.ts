// Hostile scripts against the supervisor: arguments it cannot read, paths that only resolve correctly link by
// link, unix sockets reached through links or outside the workspace, and sendmsg/sendmmsg rewritten under it.
// Each case observes from outside (a file not written, a listener that got nothing). Each got through before.
import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { IS_ROOT, makeSandbox, runIn, writeScript, PYTHON, type CliResult, type Sandbox } from './helpers';

const violations = (r: CliResult) => r.events.filter((e) => e.type === 'violation');
const lastJson = (r: CliResult) => JSON.parse(r.stdout.trim().split('\n').pop() || 'null');

/** A unix stream listener that counts connections. */
async function unixListener(p: string): Promise<{ count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    s.on('error', () => undefined);
    s.end('hi\n');
  });
  await new Promise<void>((res, rej) => srv.listen(p, () => res()).on('error', rej));
  fs.chmodSync(p, 0o777);
  return { count: () => n, close: () => new Promise((r) => srv.close(() => r())) };
}

/** A UDP listener that counts datagrams. */
async function udpListener(host: string): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const s = dgram.createSocket('udp4');
  s.on('message', () => n++);
  await new Promise<void>((res) => s.bind(0, host, () => res()));
  return { port: s.address().port, count: () => n, close: () => new Promise((r) => s.close(() => r())) };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('hostile scripts against the supervisor', function () {
  this.timeout(90000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => sb.cleanup());

  it('a non-dumpable process (prctl(PR_SET_DUMPABLE, 0)) cannot write .git/hooks: an unreadable argument is a refusal', async () => {
    fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks'), { recursive: true });
    const py = `import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE = 0: /proc/<pid>/mem is closed to an unprivileged supervisor
out = {}
try:
    with open('.git/hooks/pre-commit', 'w') as f: f.write('#!/bin/sh\\necho pwned\\n')
    out['hook'] = 'written'
except OSError as e:
    out['hook'] = e.errno
try:
    os.rename('.git', 'moved-git')
    out['rename'] = 'done'
except OSError as e:
    out['rename'] = e.errno
print(json.dumps(out))
`;
    writeScript(sb.workspace, 'nd.py', py);
    const r = await runIn(sb, [], [PYTHON, 'nd.py']);
    assert.equal(r.code, 0, r.stderr);
    const out = lastJson(r);
    assert.notEqual(out.hook, 'written', JSON.stringify(out));
    assert.notEqual(out.rename, 'done', JSON.stringify(out));
    assert.ok(!fs.existsSync(path.join(sb.workspace, '.git', 'hooks', 'pre-commit')), 'the hook was written');
    assert.ok(fs.existsSync(path.join(sb.workspace, '.git')), '.git was moved away');
    // Root's supervisor can still read the process and names the rule; an unprivileged one refuses it unread.
    const rules = violations(r).map((v) => String(v.rule));
    assert.ok(rules.length >= 2 && rules.every((x) => x === 'unreadable-argument' || /^protected:/.test(x)), JSON.stringify(rules));
  });

  it("no lexical '..': lnk/../post-checkout with lnk -> .git/hooks/sub is .git/hooks/post-checkout, and is refused as such", async () => {
    fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks', 'sub'), { recursive: true });
    fs.mkdirSync(path.join(sb.workspace, 'hooks'));
    fs.symlinkSync('.git/hooks/sub', path.join(sb.workspace, 'lnk'));
    const py = `import json
try:
    open('lnk/../post-checkout', 'w').write('#!/bin/sh\\necho pwned\\n'); print(json.dumps('written'))
except OSError as e:
    print(json.dumps(e.errno))
`;
    writeScript(sb.workspace, 'dotdot.py', py);
    const r = await runIn(sb, [], [PYTHON, 'dotdot.py']);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(lastJson(r), 'written');
    assert.ok(!fs.existsSync(path.join(sb.workspace, '.git', 'hooks', 'post-checkout')), 'the hook was written');
    const v = violations(r).find((x) => x.path === 'lnk/../post-checkout');
    assert.ok(v, JSON.stringify(violations(r)));
    assert.equal(v!.rule, 'protected:.git');
    assert.equal(v!.resolvedPath, path.join(sb.workspace, '.git', 'hooks', 'post-checkout'));
  });

  for (const profile of ['strict', 'moderate']) {
    it(`unix sockets (${profile}): a listener outside the workspace is unreachable, directly and through a workspace symlink; one inside works`, async () => {
      const outsideSock = path.join(sb.outside, 'other-run.sock');
      const insideSock = path.join(sb.workspace, 'mine.sock');
      const outside = await unixListener(outsideSock);
      const inside = await unixListener(insideSock);
      fs.symlinkSync(outsideSock, path.join(sb.workspace, 'innocent.sock'));
      try {
        const py = `import json, socket, sys
out = []
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(p); out.append('ok')
    except OSError as e:
        out.append(e.errno)
    s.close()
print(json.dumps(out))
`;
        writeScript(sb.workspace, 'u.py', py);
        const r = await runIn(sb, ['--profile', profile], [PYTHON, 'u.py', outsideSock, 'innocent.sock', 'mine.sock']);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(lastJson(r), [13, 13, 'ok']);
        await settle();
        assert.equal(outside.count(), 0, 'the listener outside the workspace was reached');
        assert.equal(inside.count(), 1);
        const v = violations(r).filter((x) => x.rule === 'unix-socket-outside-workspace');
        assert.equal(v.length, 2, JSON.stringify(violations(r)));
        assert.ok(v.every((x) => x.address === outsideSock), JSON.stringify(v));
      } finally {
        await outside.close();
        await inside.close();
      }
    });
  }

  it('unix datagram sendto/sendmsg to a path outside the workspace (through a link) delivers nothing', async function () {
    // A datagram listener outside the workspace, made with Python (Node has no unix datagram sockets).
    const target = path.join(sb.outside, 'dgram.sock');
    const countFile = path.join(sb.outside, 'count');
    const { spawn } = await import('node:child_process');
    const listener = spawn(PYTHON, ['-c', `import socket, os, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
n = 0
s.settimeout(0.2)
open(sys.argv[2], 'w').write('0')
while not os.path.exists(sys.argv[2] + '.stop'):
    try:
        s.recv(100); n += 1; open(sys.argv[2], 'w').write(str(n))
    except socket.timeout:
        pass
`, target, countFile]);
    try {
      for (let i = 0; i < 50 && !fs.existsSync(countFile); i++) await new Promise((r) => setTimeout(r, 100));
      fs.symlinkSync(target, path.join(sb.workspace, 'd.sock'));
      const py = `import json, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
out = []
for send in (lambda: s.sendto(b'x', 'd.sock'), lambda: s.sendmsg([b'x'], [], 0, 'd.sock')):
    try:
        send(); out.append('sent')
    except OSError as e:
        out.append(e.errno)
print(json.dumps(out))
`;
      writeScript(sb.workspace, 'ud.py', py);
      const r = await runIn(sb, [], [PYTHON, 'ud.py']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lastJson(r), [13, 13]);
      await new Promise((res) => setTimeout(res, 600));
      assert.equal(fs.readFileSync(countFile, 'utf8'), '0', 'a datagram reached the socket outside the workspace');
    } finally {
      fs.writeFileSync(countFile + '.stop', '');
      listener.kill();
    }
  });

  for (const call of ['sendmsg', 'sendmmsg']) {
    it(`${call}: a thread flipping msg_name between an allowed and a blocked address gets no datagram to the blocked one (1500 sends)`, async () => {
      const good = await udpListener('127.0.0.1');
      const bad = await udpListener('127.0.0.2');
      try {
        const py = `import ctypes, socket, struct, threading, sys, json
libc = ctypes.CDLL(None, use_errno=True)
good, bad, call = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def sa(ip, port): return struct.pack('<H', 2) + struct.pack('>H', port) + socket.inet_aton(ip) + b'\\0' * 8
A = sa('127.0.0.1', good); B = sa('127.0.0.2', bad)
name = ctypes.create_string_buffer(A, 16)
data = ctypes.create_string_buffer(b'ping', 4)
class iovec(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
class msghdr(ctypes.Structure): _fields_ = [('name', ctypes.c_void_p), ('namelen', ctypes.c_uint32), ('iov', ctypes.c_void_p), ('iovlen', ctypes.c_size_t), ('control', ctypes.c_void_p), ('controllen', ctypes.c_size_t), ('flags', ctypes.c_int)]
class mmsghdr(ctypes.Structure): _fields_ = [('hdr', msghdr), ('len', ctypes.c_uint32)]
iov = iovec(ctypes.addressof(data), 4)
m = mmsghdr(msghdr(ctypes.addressof(name), 16, ctypes.addressof(iov), 1, None, 0, 0), 0)
stop = False
def flip():
    while not stop:
        ctypes.memmove(name, B, 16); ctypes.memmove(name, A, 16)
t = threading.Thread(target=flip); t.start()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ok = refused = 0
for i in range(1500):
    r = libc.sendmsg(s.fileno(), ctypes.byref(m.hdr), 0) if call == 'sendmsg' else libc.sendmmsg(s.fileno(), ctypes.byref(m), 1, 0)
    if r >= 0: ok += 1
    else: refused += 1
stop = True; t.join()
print(json.dumps({'ok': ok, 'refused': refused}))
`;
        writeScript(sb.workspace, 'race.py', py);
        const r = await runIn(sb, ['--allow-address', `127.0.0.1/32:${good.port}`], [PYTHON, 'race.py', String(good.port), String(bad.port), call]);
        assert.equal(r.code, 0, r.stderr);
        const out = lastJson(r);
        assert.equal(out.ok + out.refused, 1500);
        await settle();
        assert.equal(bad.count(), 0, `${bad.count()} datagrams reached the blocked address`);
        assert.ok(good.count() > 0 && good.count() <= out.ok, `${good.count()} vs ${JSON.stringify(out)}`);
      } finally {
        await good.close();
        await bad.close();
      }
    });
  }

  it('sendmmsg with more messages than any cap: every message is checked (the 100th to a blocked address is refused, nothing reaches it)', async () => {
    const good = await udpListener('127.0.0.1');
    const bad = await udpListener('127.0.0.2');
    try {
      const py = `import ctypes, socket, struct, sys, json
libc = ctypes.CDLL(None, use_errno=True)
good, bad = int(sys.argv[1]), int(sys.argv[2])
def sa(ip, port): return ctypes.create_string_buffer(struct.pack('<H', 2) + struct.pack('>H', port) + socket.inet_aton(ip) + b'\\0' * 8, 16)
A = sa('127.0.0.1', good); B = sa('127.0.0.2', bad)
data = ctypes.create_string_buffer(b'ping', 4)
class iovec(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
class msghdr(ctypes.Structure): _fields_ = [('name', ctypes.c_void_p), ('namelen', ctypes.c_uint32), ('iov', ctypes.c_void_p), ('iovlen', ctypes.c_size_t), ('control', ctypes.c_void_p), ('controllen', ctypes.c_size_t), ('flags', ctypes.c_int)]
class mmsghdr(ctypes.Structure): _fields_ = [('hdr', msghdr), ('len', ctypes.c_uint32)]
iov = iovec(ctypes.addressof(data), 4)
N = 200
msgs = (mmsghdr * N)()
for i in range(N):
    msgs[i].hdr = msghdr(ctypes.addressof(B if i == 99 else A), 16, ctypes.addressof(iov), 1, None, 0, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r = libc.sendmmsg(s.fileno(), msgs, N, 0)
ok = [i for i in range(N) if msgs[i].len == 4]
print(json.dumps({'r': r, 'errno': ctypes.get_errno() if r < 0 else 0, 'lens': len(ok)}))
`;
      writeScript(sb.workspace, 'many.py', py);
      const r = await runIn(sb, ['--allow-address', `127.0.0.1/32:${good.port}`], [PYTHON, 'many.py', String(good.port), String(bad.port)]);
      assert.equal(r.code, 0, r.stderr);
      const out = lastJson(r);
      await settle();
      assert.equal(bad.count(), 0, 'a datagram past the checked messages reached the blocked address');
      assert.equal(out.r, -1, JSON.stringify(out));
      assert.equal(out.errno, 13);
      const v = violations(r);
      assert.ok(v.some((x) => x.syscall === 'sendmmsg' && x.address === '127.0.0.2'), JSON.stringify(v));
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it('allowed sendmmsg is performed for the script: every datagram arrives and msg_len is filled in (DNS-style two queries)', async () => {
    const good = await udpListener('127.0.0.1');
    try {
      const py = `import ctypes, socket, struct, sys, json
libc = ctypes.CDLL(None, use_errno=True)
port = int(sys.argv[1])
data = [ctypes.create_string_buffer(b'q1', 2), ctypes.create_string_buffer(b'query2', 6)]
class iovec(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
class msghdr(ctypes.Structure): _fields_ = [('name', ctypes.c_void_p), ('namelen', ctypes.c_uint32), ('iov', ctypes.c_void_p), ('iovlen', ctypes.c_size_t), ('control', ctypes.c_void_p), ('controllen', ctypes.c_size_t), ('flags', ctypes.c_int)]
class mmsghdr(ctypes.Structure): _fields_ = [('hdr', msghdr), ('len', ctypes.c_uint32)]
iovs = [iovec(ctypes.addressof(d), len(d.raw)) for d in data]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(('127.0.0.1', port))
msgs = (mmsghdr * 2)()
for i in range(2): msgs[i].hdr = msghdr(None, 0, ctypes.addressof(iovs[i]), 1, None, 0, 0)
r = libc.sendmmsg(s.fileno(), msgs, 2, 0)
print(json.dumps({'r': r, 'lens': [msgs[0].len, msgs[1].len]}))
`;
      writeScript(sb.workspace, 'dns.py', py);
      const r = await runIn(sb, ['--allow-address', `127.0.0.1/32:${good.port}`], [PYTHON, 'dns.py', String(good.port)]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lastJson(r), { r: 2, lens: [2, 6] });
      await settle();
      assert.equal(good.count(), 2);
    } finally {
      await good.close();
    }
  });
  it('a thread flipping an abstract unix address to a path outside the workspace reaches nothing (abstract addresses are refused in enforce)', async () => {
    const outsideSock = path.join(sb.outside, 'flip.sock');
    const outside = await unixListener(outsideSock);
    try {
      const py = `import ctypes, socket, struct, threading, sys, json
libc = ctypes.CDLL(None, use_errno=True)
P = struct.pack('<H', 1) + sys.argv[1].encode() + b'\\0'
A = struct.pack('<H', 1) + b'\\0abstract-name' + b'\\0' * (len(P) - 16)
buf = ctypes.create_string_buffer(A, len(P))
stop = False
def flip():
    while not stop:
        ctypes.memmove(buf, P, len(P)); ctypes.memmove(buf, A, len(P))
t = threading.Thread(target=flip); t.start()
ok = 0
for i in range(300):
    s = socket.socket(socket.AF_UNIX)
    ctypes.memmove(buf, A, len(P))
    if libc.connect(s.fileno(), buf, len(P)) == 0: ok += 1
    s.close()
stop = True; t.join()
print(json.dumps({'ok': ok}))
`;
      writeScript(sb.workspace, 'abs.py', py);
      const r = await runIn(sb, [], [PYTHON, 'abs.py', outsideSock]);
      assert.equal(r.code, 0, r.stderr);
      await settle();
      assert.equal(outside.count(), 0, 'the listener outside the workspace was reached');
      assert.equal(lastJson(r).ok, 0);
    } finally {
      await outside.close();
    }
  });

  it('fds passed with SCM_RIGHTS over an emulated unix datagram socketpair arrive and work', async () => {
    const py = `import json, os, socket
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
r, w = os.pipe()
socket.send_fds(a, [b'take this'], [w])
msg, fds, flags, addr = socket.recv_fds(b, 100, 1)
os.write(fds[0], b'through the passed fd')
print(json.dumps([msg.decode(), os.read(r, 100).decode()]))
`;
    writeScript(sb.workspace, 'fds.py', py);
    const r = await runIn(sb, [], [PYTHON, 'fds.py']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r), ['take this', 'through the passed fd']);
  });
  it("a unix socket the script makes in the run's TMPDIR is reachable (multiprocessing-style listener)", async () => {
    const py = `import json, os, socket, tempfile
d = tempfile.mkdtemp()
p = os.path.join(d, 'listener')
srv = socket.socket(socket.AF_UNIX); srv.bind(p); srv.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect(p)
conn, _ = srv.accept(); conn.sendall(b'hello'); print(json.dumps([p.startswith(os.environ['TMPDIR']), c.recv(10).decode()]))
`;
    writeScript(sb.workspace, 'tmpsock.py', py);
    const r = await runIn(sb, [], [PYTHON, 'tmpsock.py']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r), [true, 'hello']);
    assert.deepEqual(violations(r), []);
  });
});

void IS_ROOT;
