// The apply sequence's seccomp step on the real kernel: a hand-built filter installed by the harness before
// exec, alone and together with Landlock, limits and the listener. Runs as root and as an unprivileged user.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { landlockAbi } from '../../../../native/linux/landlock';
import { buildProfileFilter, compileFilter, encodeFilter } from '../../../../native/linux/seccomp';
import { loadLibc, type Libc } from '../../../../native/linux/libc';
import { ALL, READ, runHarness, shPlan, statusField, tempDir, useHarness } from './harness';

function denyUnameProgram(): Buffer {
  const auditArch = process.arch === 'x64' ? 0xc000003e : 0xc00000b7;
  const unameNr = process.arch === 'x64' ? 63 : 160;
  const BPF_LD_W_ABS = 0x20;
  const BPF_JEQ_K = 0x15;
  const BPF_RET_K = 0x06;
  const insns: Array<[number, number, number, number]> = [
    [BPF_LD_W_ABS, 0, 0, 4], // seccomp_data.arch
    [BPF_JEQ_K, 0, 4, auditArch], // → kill
    [BPF_LD_W_ABS, 0, 0, 0], // seccomp_data.nr
    [BPF_JEQ_K, 0, 1, unameNr],
    [BPF_RET_K, 0, 0, 0x00050000 | 1], // SECCOMP_RET_ERRNO | EPERM
    [BPF_RET_K, 0, 0, 0x7fff0000], // SECCOMP_RET_ALLOW
    [BPF_RET_K, 0, 0, 0x80000000], // SECCOMP_RET_KILL_PROCESS
  ];
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}

function allowAllProgram(): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt16LE(0x06, 0);
  buf.writeUInt32LE(0x7fff0000, 4);
  return buf;
}


describe(`native apply sequence: seccomp, real child process (uid ${process.getuid?.()})`, function () {
  this.timeout(30000);
  const { h, cleanup } = useHarness();
  let libc: Libc;
  before(() => (libc = loadLibc()));

  describe('seccomp', function () {
    it('installs a filter: Seccomp 2 in status, the denied call fails with EPERM', function () {
      const plan = shPlan('grep -E "^Seccomp" /proc/$$/status; uname -s || echo uname-failed', {
        noNewPrivs: true,
        seccomp: { program: denyUnameProgram().toString('base64'), listener: false },
      });
      const r = runHarness(h, { plan });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statusField(r.stdout, 'Seccomp'), '2');
      assert.equal(statusField(r.stdout, 'Seccomp_filters'), '1');
      assert.match(r.stdout, /uname-failed/);
      assert.match(r.stderr, /Operation not permitted/);
      assert.equal(r.listenerFd, null);
    });

    it('hands a listener fd to the hook and keeps it from the program', function () {
      // No pipeline: the shell would hold that pipeline's own pipes while ls lists its fds.
      const plan = shPlan('ls -1 /proc/$$/fd; grep -E "^Seccomp:" /proc/$$/status', {
        noNewPrivs: true,
        seccomp: { program: allowAllProgram().toString('base64'), listener: true },
      });
      const r = runHarness(h, { plan });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.listenerFd !== null && r.listenerFd >= 3, r.stderr);
      assert.deepEqual(r.stdout.split('\n').filter((l) => /^\d+$/.test(l)).sort(), ['0', '1', '2']);
      assert.equal(statusField(r.stdout, 'Seccomp'), '2');
    });

    it('the profile with metadataLocked: chmod, chown and touch fail with EPERM and the file keeps its mode and times; without it they work', function () {
      const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : null;
      if (!arch) this.skip();
      const dir = tempDir('sbx-native-meta');
      cleanup.push(dir);
      const f = path.join(dir, 'f');
      const program = (metadataLocked: boolean) =>
        encodeFilter(compileFilter(buildProfileFilter({ arch: arch!, network: 'inet', allowPtrace: false, extraDeny: [], denyAction: { kind: 'errno', errno: 1 }, metadataLocked }))).toString('base64');
      const script = 'chmod 600 "$F" || echo chmod-refused; chown "$(id -u)" "$F" || echo chown-refused; touch -d 2001-01-01 "$F" || echo touch-refused';
      for (const locked of [true, false]) {
        fs.writeFileSync(f, 'x');
        fs.chmodSync(f, 0o666);
        fs.utimesSync(f, 1e9, 1e9);
        const r = runHarness(h, { plan: shPlan(script, { env: { PATH: '/usr/bin:/bin', F: f }, noNewPrivs: true, seccomp: { program: program(locked), listener: false } }) });
        assert.equal(r.status, 0, r.stderr);
        const st = fs.statSync(f);
        if (locked) {
          assert.equal(r.stdout, 'chmod-refused\nchown-refused\ntouch-refused\n');
          assert.equal(st.mode & 0o777, 0o666);
          assert.equal(st.mtimeMs, 1e12);
        } else {
          assert.equal(r.stdout, '', r.stderr);
          assert.equal(st.mode & 0o777, 0o600);
          assert.notEqual(st.mtimeMs, 1e12);
        }
      }
    });

    it('rejects a malformed program before touching the kernel', function () {
      const plan = shPlan('echo ran', { noNewPrivs: true, seccomp: { program: Buffer.alloc(12).toString('base64'), listener: false } });
      const r = runHarness(h, { plan });
      assert.equal(r.status, 125);
      assert.equal(r.sandboxError?.code, 'SETUP_FAILED');
      assert.equal(r.sandboxError?.call, 'seccomp');
    });
  });

  it('applies everything together (Landlock + seccomp + limits + listener)', function () {
    if (landlockAbi(libc) === null) this.skip();
    const ws = tempDir('sbx-native-all');
    cleanup.push(ws);
    const plan = shPlan('echo ok > "$WS/f" && cat "$WS/f"; grep -E "^(NoNewPrivs|Seccomp):" /proc/$$/status', {
      env: { PATH: '/usr/bin:/bin', WS: ws },
      cwd: ws,
      noNewPrivs: true,
      requireLandlock: true,
      rlimits: [{ resource: 'nofile', soft: 128, hard: 128 }],
      landlock: { handled: ALL, rules: [{ path: '/', access: READ }, { path: ws, access: ALL }], carveOuts: [], scopes: ['signal'] },
      seccomp: { program: denyUnameProgram().toString('base64'), listener: true },
    });
    const r = runHarness(h, { plan, extraFd: true });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\nNoNewPrivs:\t1\nSeccomp:\t2\n');
  });
});
