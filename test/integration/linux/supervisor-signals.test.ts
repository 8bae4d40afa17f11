// A signal that lands on the supervisor's worker thread while it answers must not change the answer. The
// kernel's SECCOMP_IOCTL_NOTIF_ADDFD with FLAG_SEND, interrupted by a signal, could leave the target's open()
// returning a number with no fd installed (0, then EBADF on every use): a process-directed signal (SIGCHLD,
// SIGINT) may be delivered to any thread that does not block it. The worker now blocks every signal. Here a
// helper sends SIGCHLD (a signal Node handles, so nothing dies) to every thread of the CLI but its main one,
// thousands of times a second, while the script reads a file the supervisor opens for it (a file in a deny
// glob's folder has no Landlock rule of its own: every open of it is performed by the supervisor).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPidFor } from './redteam-support';
import { runCli } from './helpers';
import { hasTool, TIERS, useSandbox } from './use-sandbox';

/** tgkill(SIGCHLD) to every thread of `pid` but the main one until it is gone or `seconds` passed. */
const HAMMER = `import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1]); end = time.time() + float(sys.argv[2]); sent = 0
while time.time() < end:
    try: tids = [int(t) for t in os.listdir(f'/proc/{pid}/task')]
    except FileNotFoundError: break
    for t in tids:
        if t != pid and libc.syscall(234, pid, t, 17) == 0: sent += 1
    time.sleep(0.0002)
print(sent)
`;

describe('supervisor answers under signals (real kernel)', function () {
  const sb = useSandbox();
  before(function () {
    if (process.arch !== 'x64') this.skip(); // the helper's tgkill number is x86-64's
    if (!hasTool('python3')) this.skip();
  });

  for (const [tier, env] of TIERS) {
    it(`1500 opens performed by the supervisor all give the script its file while its worker thread is sent SIGCHLD (${tier})`, async function () {
      this.timeout(120_000);
      fs.mkdirSync(path.join(sb.workspace, 'secrets'));
      fs.writeFileSync(path.join(sb.workspace, 'secrets', 'plain.txt'), 'plain\n');
      const script = [
        'import os, time',
        "while not os.path.exists('go'): time.sleep(0.05)",
        'bad = 0',
        'for i in range(1500):',
        '    try:',
        "        if open('secrets/plain.txt').read() != 'plain\\n': bad += 1",
        '    except OSError as e:',
        "        print('failed at', i, e); bad += 1; break",
        "print('bad', bad)",
      ].join('\n');
      const run = runCli(['run', '--mode', 'enforce', '--workspace', sb.workspace, '--deny-read', 'secrets/*.pem', '--', 'python3', '-c', script], { cwd: sb.workspace, env: { ...env } });
      let pid: number | null = null;
      for (let i = 0; i < 200 && pid === null; i++) {
        await new Promise((r) => setTimeout(r, 50));
        pid = cliPidFor(sb.workspace);
      }
      assert.ok(pid, 'the CLI process was not found');
      const hammer = spawn('python3', ['-c', HAMMER, String(pid), '60'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let sent = '';
      hammer.stdout.on('data', (d: Buffer) => (sent += d));
      const hammerDone = new Promise((r) => hammer.once('close', r));
      await new Promise((r) => setTimeout(r, 500));
      fs.writeFileSync(path.join(sb.workspace, 'go'), '');
      const r = await run;
      await hammerDone;
      assert.ok(Number(sent) > 100, `the helper sent only ${sent.trim() || 'no'} signals (cli ${pid}; ${r.stdout} ${r.stderr})`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^bad 0$/m, r.stdout);
    });
  }
});
