// Red team rt8, on e11e386. (1) With a `**` deny glob (`data/**/*.key`, `sec/**/*.pem`) rt7's hard link into the
// reach is performed again: inGlobEntry finds no "entry of a folder" below the prefix, because every path there
// partially matches the glob (`**` can absorb any component), so each is a "folder" and linkOutOfReach /
// carriesRuleInto see nothing in reach. `ln src/g data/a/g` is performed by the supervisor (data/a is carved);
// the host renames data/a/g to data/a/g.key and `echo >> src/g` writes the match; likewise `ln src/r sec/a/r`
// reads what the host writes into sec/a/r.pem. Deterministic, both tiers (the same chain with `data/*.key`
// is refused since 9024cd3). (2) Below.
//
// (2) On e11e386 (ADDFD without FLAG_SEND, then a separate answer). A call the supervisor performs
// is done before the target learns its result; a stop of the *target* (SIGSTOP, or Ctrl-Z's SIGTSTP, from the
// script itself or its job control) interrupts its wait for the answer, the kernel drops the notification
// (the answer then fails) and restarts the call, and the supervisor performs it a second time on what the first
// one left. So the script sees results the kernel never gives: open(O_CREAT|O_EXCL) EEXIST for the file it just
// created (the first fd stays installed, unknown to the script: a leaked fd per hit), mkdir EEXIST, rename
// ENOENT after renaming, and RENAME_EXCHANGE done twice (nothing swapped) answered 0. Seen in about a third of
// 200-300 iterations, both tiers, while the same calls in a folder the kernel decides give none. Not an escape
// (each repeat is decided again and allowed), but wrong results for any supervised name (a deny glob's folders,
// the fallback tier's carved workspace root). A way out: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19), with
// which a received notification is waited for killably only.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostWhenReady, WAIT_GO } from './redteam-support';
import { runIn, writeScript } from './helpers';
import { hasTool, TIERS, useSandbox } from './use-sandbox';

describe('red team rt8: a hard link into the reach of a ** deny glob (real kernel)', function () {
  const sb = useSandbox();

  for (const [tier, env] of TIERS) {
    it(`ln src/g data/a/g (src/r sec/a/r) neither writes nor reads the match after the host renames onto data/**/*.key (sec/**/*.pem) (${tier})`, async function () {
      this.timeout(120_000);
      const [data, sec, src] = ['data/a', 'sec/a', 'src'].map((d) => path.join(sb.workspace, d)) as [string, string, string];
      for (const d of [data, sec, src]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(sec, 'old.pem'), 'old\n');
      for (const f of ['g', 'r']) fs.writeFileSync(path.join(src, f), 'in\n');
      fs.chmodSync(sb.workspace, 0o755);
      writeScript(sb.workspace, 'hl.sh', '#!/bin/sh\nln src/g data/a/g && echo "linked g"\nln src/r sec/a/r && echo "linked r"\n: > ready\n' + WAIT_GO + 'echo PWNED >> src/g\ncat src/r\n');
      const host = hostWhenReady(sb.workspace, () => {
        for (const [a, b] of [[path.join(data, 'g'), path.join(data, 'g.key')], [path.join(sec, 'r'), path.join(sec, 'r.pem')]] as const) if (fs.existsSync(a)) fs.renameSync(a, b);
        if (fs.existsSync(path.join(sec, 'r.pem'))) fs.writeFileSync(path.join(sec, 'r.pem'), 'TOPSECRET\n'); // in place: the same inode
      });
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/**/*.key', '--deny-read', 'sec/**/*.pem'], ['./hl.sh'], env);
      clearInterval(host);
      assert.ok(fs.existsSync(path.join(sb.workspace, 'go')), `the host never renamed: ${r.stdout}${r.stderr}`);
      const key = path.join(data, 'g.key');
      if (fs.existsSync(key)) assert.equal(fs.readFileSync(key, 'utf8'), 'in\n', `data/a/g.key was written through src/g: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /TOPSECRET/, `sec/a/r.pem was read through src/r: ${r.stdout}`);
    });
  }
});

// argv: iterations, folder. A child stops and continues the script every ~1 ms while it makes names there.
// The child ends only after a SIGCONT, when the pipe says so: killing it could leave its last SIGSTOP pending
// in the parent with nobody left to continue it (a hung run, seen on loaded machines).
const STORM_PY = String.raw`import ctypes, os, sys, signal, time
libc = ctypes.CDLL(None, use_errno=True)
N, D = int(sys.argv[1]), sys.argv[2].encode()
pid = os.getpid()
before = len(os.listdir('/proc/self/fd'))
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(w); os.set_blocking(r, False)
    end = time.time() + 90
    while time.time() < end:
        try:
            os.kill(pid, signal.SIGSTOP); time.sleep(0.0005); os.kill(pid, signal.SIGCONT); time.sleep(0.0005)
        except ProcessLookupError:
            break
        try:
            if os.read(r, 1) == b'': break
        except BlockingIOError:
            pass
    os._exit(0)
os.close(r)
bad = {}
def note(k, i, e):
    bad.setdefault(k, []).append((i, e))
for i in range(N):
    d, e, f = D + b'/d%d' % i, D + b'/e%d' % i, D + b'/f%d' % i
    if libc.mkdir(d, 0o755) != 0: note('mkdir', i, ctypes.get_errno())
    if libc.rename(d, e) != 0: note('rename', i, ctypes.get_errno())
    if os.path.exists(d) or not os.path.isdir(e): note('rename-state', i, 0)
    fd = libc.open(f, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    if fd < 0: note('open-excl', i, ctypes.get_errno())
    else: os.close(fd)
    r = libc.renameat2(-100, e, -100, f, 2)  # RENAME_EXCHANGE: e becomes the file
    if r != 0: note('exchange', i, ctypes.get_errno())
    elif not os.path.isfile(e): note('exchange-undone', i, 0)
os.close(w); os.waitpid(child, 0)
leaked = len(os.listdir('/proc/self/fd')) - before
for k, v in sorted(bad.items()): print('%s WRONG %s: %d, e.g. (iteration, errno) %r' % (sys.argv[2], k, len(v), v[:4]))
print('%s RESULT wrong=%d leaked=%d' % (sys.argv[2], sum(len(v) for v in bad.values()), leaked))
`;

describe('red team rt8: calls the supervisor performs, while the script is stopped and continued (real kernel)', function () {
  const sb = useSandbox();
  before(function () {
    if (!hasTool('python3')) this.skip();
  });

  for (const [tier, env] of TIERS) {
    it(`mkdir, rename, O_EXCL open, RENAME_EXCHANGE in a deny glob's folder give the kernel's results under SIGSTOP/SIGCONT (${tier})`, async function () {
      this.timeout(180_000);
      fs.mkdirSync(path.join(sb.workspace, 'data', 'sub'), { recursive: true });
      fs.mkdirSync(path.join(sb.workspace, 'plain'));
      writeScript(sb.workspace, 'storm.py', STORM_PY, 0o644);
      writeScript(sb.workspace, 'storm.sh', '#!/bin/sh\npython3 storm.py 200 plain\npython3 storm.py 200 data/sub\n');
      // 400 iterations under a stop every millisecond take 3-15 s on 2 loaded cores; the CLI is killed only
      // past the test's own time, so a run that hangs says so (signal SIGKILL, its time) instead of an empty output.
      const t0 = Date.now();
      const r = await runIn(sb, ['--mode', 'enforce', '--deny-write', 'data/*.key'], ['./storm.sh'], env, 170_000);
      const out = `exit ${r.code ?? r.signal} after ${Date.now() - t0} ms\n${r.stdout}${r.stderr}`;
      // Control: the kernel's own calls in plain/ (no glob there) under the same storm give no wrong result.
      assert.match(r.stdout, /^plain RESULT wrong=0 leaked=0$/m, out);
      assert.match(r.stdout, /^data\/sub RESULT /m, out);
      assert.match(r.stdout, /^data\/sub RESULT wrong=0 leaked=0$/m, out);
    });
  }
});
