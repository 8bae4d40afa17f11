// Runs in a real terminal, driven through the host's pty API exactly as the extension drives it: a `run` with
// `terminal`, keys as terminalInput, resizes as terminalResize, the script's output as `output` messages.
// Observed from outside: what the script prints back, how it ended, and when its lines arrived.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { HostProcess, type Msg } from './host-process';
import { CLI, PYTHON, makeSandbox, writeScript, type Sandbox } from './helpers';
import { loadPtyCalls } from '../../../native/linux/pty';

const TIERS = [
  { name: 'namespace tier', env: {} as Record<string, string> },
  { name: 'fallback tier', env: { SCRIPT_SANDBOX_NAMESPACES: '0' } as Record<string, string> },
];

function untilOutput(host: HostProcess, runId: string, re: RegExp, timeoutMs = 30000): Promise<Msg> {
  return host.waitFor(() => re.test(host.output(runId)), timeoutMs, `output matching ${re}`, true);
}

for (const tier of TIERS) {
  describe(`runs in a terminal (host pty, ${tier.name})`, function () {
    this.timeout(120000);
    let sb: Sandbox;
    let host: HostProcess;
    let n = 0;
    before(async () => {
      host = new HostProcess(tier.env);
      await host.ready();
    });
    after(() => host.stop());
    beforeEach(() => (sb = makeSandbox()));
    afterEach(() => sb.cleanup());

    const start = (command: string[], size = { rows: 24, cols: 80 }) =>
      host.run({ requestId: `t${++n}`, command, cwd: sb.workspace, workspace: sb.workspace, terminal: { size } } as never);

    it('an interactive script reads a name typed in the terminal and greets it', async () => {
      const script = writeScript(sb.workspace, 'greet.sh', '#!/bin/sh\nprintf "name? "\nread name\necho "hi $name"\n');
      const runId = await start([script]);
      await untilOutput(host, runId, /name\? /);
      // Enter is \r in a terminal; the line discipline (ICRNL) makes it the newline `read` waits for.
      host.send({ type: 'terminalInput', runId, data: 'Ada\r' });
      const f = await host.finished(runId);
      assert.equal(f.exitCode, 0, host.output(runId));
      assert.match(host.output(runId), /hi Ada/);
      // Echo comes from the terminal itself: the typed name shows once, before the greeting.
      assert.match(host.output(runId), /name\? Ada\r?\n/);
    });

    it('stdout is a terminal: Python line-buffers, the first line arrives before a 2 s sleep ends', async () => {
      const script = writeScript(sb.workspace, 'slow.py', 'import sys, time\nprint("first", sys.stdout.isatty())\ntime.sleep(2)\nprint("second")\n', 0o644);
      const runId = await start([PYTHON, script]);
      await untilOutput(host, runId, /first True/);
      const tFirst = Date.now();
      assert.doesNotMatch(host.output(runId), /second/);
      await untilOutput(host, runId, /second/);
      const gap = Date.now() - tFirst;
      assert.ok(gap >= 1000, `the second line came ${gap} ms after the first: the first was held back`);
      assert.equal((await host.finished(runId)).exitCode, 0);
    });

    it('Ctrl+C (\\x03 through the line discipline) stops a long script: it ends by SIGINT', async () => {
      // One process that says it is ready from inside the wait: a shell that echoes and then forks `sleep` can
      // take the signal in the fork's window, where the child still runs the shell's handler and then execs
      // sleep with it consumed (a real terminal loses that Ctrl+C too), so the key would race the script.
      const script = writeScript(sb.workspace, 'long.py', 'import time\nprint("started", flush=True)\ntime.sleep(100)\nprint("not-reached")\n', 0o644);
      const runId = await start([PYTHON, script]);
      await untilOutput(host, runId, /started/);
      const t0 = Date.now();
      host.send({ type: 'terminalInput', runId, data: '\x03' });
      const f = await host.finished(runId, 30000);
      assert.ok(Date.now() - t0 < 20000, 'the run did not stop on Ctrl+C');
      assert.ok(f.signal === 'SIGINT' || f.exitCode === 130, `ended with ${JSON.stringify(f)}`);
      assert.doesNotMatch(host.output(runId), /not-reached/);
      assert.equal(f.cancelled, false, 'stopped by the terminal, not by a host cancel');
    });

    it('Ctrl+D ends the input: cat sees end of file and the run ends cleanly', async () => {
      const runId = await start(['/bin/cat']);
      await host.waitFor((m) => m.type === 'started' && m.runId === runId, 30000, 'started', true);
      host.send({ type: 'terminalInput', runId, data: 'line\r\x04' });
      const f = await host.finished(runId, 30000);
      assert.equal(f.exitCode, 0);
      assert.match(host.output(runId), /line/);
    });

    it('a script that closes its terminal and works on is not hung up: the host keeps the master until the run ends', async () => {
      // The slave's last fd closing makes the master read EIO. Closing the master then would hang up the
      // terminal and SIGHUP the session leader, which is still running (a daemon detaching, a tool closing
      // stdio before its last work): the run would end 129 instead of 0.
      const script = writeScript(sb.workspace, 'detach.sh', '#!/bin/sh\necho detaching\nexec 0<&- 1>&- 2>&-\nsleep 1\nexit 7\n');
      const runId = await start([script]);
      const f = await host.finished(runId, 30000);
      assert.equal(f.signal ?? null, null, `ended with ${JSON.stringify(f)}`);
      assert.equal(f.exitCode, 7, `ended with ${JSON.stringify(f)}`);
      assert.match(host.output(runId), /detaching/);
    });

    it('the window size set is what `stty size` sees, and a resize reaches the script', async () => {
      const script = writeScript(sb.workspace, 'size.sh', '#!/bin/sh\nstty size\nread x\nstty size\n');
      const runId = await start([script], { rows: 37, cols: 101 });
      await untilOutput(host, runId, /37 101/);
      host.send({ type: 'terminalResize', runId, size: { rows: 50, cols: 132 } });
      // The resize and the key travel in order over one channel; the script asks again after the key.
      host.send({ type: 'terminalInput', runId, data: '\r' });
      await host.finished(runId);
      assert.match(host.output(runId), /50 132/);
    });

    it('the run owns its terminal: it is the controlling tty, reachable as /dev/tty (and by its own path in the fallback tier)', async () => {
      const script = writeScript(
        sb.workspace,
        'own.sh',
        '#!/bin/sh\nT=$(tty)\necho "tty=$T"\necho via-tty > /dev/tty\n[ -c "$T" ] && echo via-path > "$T"\nps -o tty= -p $$ | sed "s/^/ctty=/"\nread _ _ _ _ _ _ nr _ < /proc/$$/stat\necho "tty_nr=$nr"\n',
      );
      const runId = await start([script]);
      const f = await host.finished(runId);
      const out = host.output(runId);
      assert.equal(f.exitCode, 0, out);
      assert.match(out, /via-tty/);
      // The controlling terminal is set (tty_nr is its device number), whatever its name resolves to.
      assert.match(out, /tty_nr=[1-9]\d*/);
      if (tier.name === 'fallback tier') {
        assert.match(out, /tty=\/dev\/pts\/\d+/);
        assert.match(out, /via-path/);
        assert.match(out, /ctty=pts\/\d+/);
      } else {
        // The namespace tier's private devpts covers the host's instance, where this slave lives: its
        // /dev/pts/N name no longer resolves (ttyname fails; the stated cost), /dev/tty and fds 0-2 work.
        assert.match(out, /tty=not a tty/);
        assert.doesNotMatch(out, /via-path/);
      }
    });

    it('TIOCSTI on its own terminal stays blocked by the syscall filter (EPERM, nothing injected)', async () => {
      const probe = writeScript(
        sb.workspace,
        'sti.py',
        [
          'import errno, fcntl, os, select, sys, termios',
          'try:',
          '    fcntl.ioctl(0, termios.TIOCSTI, b"Z")',
          '    print("injected")',
          'except OSError as e:',
          '    print("denied", errno.errorcode.get(e.errno, e.errno))',
          'r, _, _ = select.select([0], [], [], 0.5)',
          'print("pending-input" if r else "no-input")',
        ].join('\n'),
        0o644,
      );
      const runId = await start([PYTHON, probe]);
      const f = await host.finished(runId);
      const out = host.output(runId);
      assert.equal(f.exitCode, 0, out);
      assert.match(out, /denied EPERM/);
      assert.match(out, /no-input/);
      assert.ok(host.messages.some((m) => m.type === 'violation' && /ioctl/.test(JSON.stringify(m.violation))), `the blocked ioctl is reported: ${JSON.stringify(host.messages.filter((m) => m.type === 'violation'))}`);
    });
  });
}

describe('the CLI keeps the caller\'s terminal', function () {
  this.timeout(180000);
  let sb: Sandbox;
  beforeEach(() => (sb = makeSandbox()));
  afterEach(() => sb.cleanup());

  for (const tier of TIERS) {
    const fallback = tier.name === 'fallback tier';
    // Reopened by its path in the fallback tier. In the namespace tier the private devpts covers the host's
    // instance, so the name does not resolve there, and it is no controlling terminal (/dev/tty is not it):
    // the inherited fds 0-2 are the way to it.
    it(`stdin stays the caller's tty (${tier.name}): typing works, ${fallback ? 'it can be reopened by its path' : 'it is written through fd 0'}, TIOCSTI is EPERM`, async () => {
      const ptys = loadPtyCalls();
      const pair = ptys.open({ rows: 24, cols: 80 });
      const master = new tty.ReadStream(pair.master);
      let screen = '';
      master.on('data', (d) => (screen += d));
      master.on('error', () => undefined);
      const slaveFd = fs.openSync(pair.slave, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      try {
        writeScript(sb.workspace, 'sti.py', 'import errno, fcntl, termios\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b"Z")\n    print("injected")\nexcept OSError as e:\n    print("denied", errno.errorcode.get(e.errno, e.errno))\n', 0o644);
        const script = writeScript(sb.workspace, 'cli-tty.sh', `#!/bin/sh\nT=$(tty)\necho "tty=$T"\necho on-screen ${fallback ? '> "$T"' : '>&0'} && echo reopen=ok\n${PYTHON} sti.py\nread name\necho "hi $name"\n`);
        fs.writeSync(pair.master, 'Bob\r');
        const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [CLI, 'run', '--workspace', sb.workspace, '--', script], {
            cwd: sb.workspace,
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sb.home, LANG: 'C.UTF-8', ...tier.env },
            stdio: [slaveFd, 'pipe', 'pipe'],
          });
          let out = '';
          let err = '';
          child.stdout!.on('data', (d) => (out += d));
          child.stderr!.on('data', (d) => (err += d));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, out, err }));
        });
        assert.equal(r.code, 0, `${r.out}\n${r.err}`);
        assert.match(r.out, fallback ? new RegExp(`tty=${pair.slave}\\b`) : /tty=not a tty/);
        assert.match(r.out, /reopen=ok/);
        assert.match(r.out, /denied EPERM/);
        assert.match(r.out, /hi Bob/);
        await new Promise((res) => setTimeout(res, 200));
        assert.match(screen, /on-screen/);
        assert.doesNotMatch(screen + r.out, /injected|Z\r?\nhi/);
      } finally {
        fs.closeSync(slaveFd);
        master.destroy();
      }
    });
  }
});
