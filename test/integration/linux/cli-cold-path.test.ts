// The cold CLI's path in the namespace tier (issue 11 goal 2), observed from outside on real processes: once
// the stage's verdict is kept, a run starts no probe and no reaper (only the stage, the launcher and the
// script), and a CLI killed with SIGKILL still takes every process of its run down, a detached (setsid) one
// included: the stage dies with the CLI (PR_SET_PDEATHSIG), the init with the stage, the PID namespace with
// its init.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { probeNamespaceStage } from '../../../native/linux/namespace-stage';
import { CLI, makeSandbox, processesWith, sleepToken, type Sandbox } from './helpers';
import { detectCgroups } from '../../../native/linux/cgroup';

/** Every live descendant of pid with its command line. */
function descendants(pid: number): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  const walk = (p: number) => {
    let kids: number[] = [];
    try {
      kids = fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const k of kids) {
      try {
        out.push({ pid: k, cmd: fs.readFileSync(`/proc/${k}/cmdline`, 'utf8').replace(/\0/g, ' ') });
      } catch {
        continue;
      }
      walk(k);
    }
  };
  walk(pid);
  return out;
}

async function waitUntil(f: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (f()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return f();
}

describe('cold CLI path: kept stage verdict, no reaper, the run dies with the CLI', function () {
  this.timeout(120_000);
  let sb: Sandbox;
  before(function () {
    if (process.env.SCRIPT_SANDBOX_NAMESPACES === '0') this.skip(); // the fallback tier keeps its reaper
    if (!probeNamespaceStage().available) this.skip(); // no namespace stage on this machine
    if (!fs.existsSync('/proc/self/task/' + process.pid + '/children')) this.skip(); // no CONFIG_PROC_CHILDREN: cannot list the CLI's tree
    sb = makeSandbox();
  });
  after(() => sb?.cleanup());

  it('a second run in one boot spawns no probe and no reaper, and SIGKILL of the CLI leaves no process of the run', async () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sb.home, LANG: 'C.UTF-8' };
    // The first run probes and keeps the verdict in HOME's state folder.
    const first = spawnSync(process.execPath, [CLI, 'run', '--workspace', sb.workspace, '--', '/bin/true'], { cwd: sb.workspace, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(first.status, 0, first.stderr);
    assert.ok(fs.existsSync(`${sb.home}/.local/state/script-sandbox/namespace-stage.json`), 'the verdict was kept');

    // The run's cgroups (a CLI killed with SIGKILL cannot remove them): the next CLI's start sweeps them.
    const cgroupRoots = Object.values(detectCgroups().roots);
    const runCgroups = () => cgroupRoots.flatMap((r) => (fs.existsSync(r) ? fs.readdirSync(r).filter((n) => /^[a-z0-9]+-[0-9a-f]{8}$/.test(n)).map((n) => `${r}/${n}`) : []));
    const cgBefore = new Set(runCgroups());
    const token = sleepToken(60);
    const cli = spawn(process.execPath, [CLI, 'run', '--workspace', sb.workspace, '--', 'sh', '-c', `setsid sleep ${token} </dev/null >/dev/null 2>&1 & echo started; wait`], { cwd: sb.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((r) => cli.once('exit', r));
    let out = '';
    cli.stdout.on('data', (d) => (out += d));
    cli.stderr.on('data', () => undefined);
    try {
      assert.ok(await waitUntil(() => out.includes('started') && processesWith(token).length > 0, 60_000), 'the script started its detached sleep');
      const tree = descendants(cli.pid!);
      assert.equal(tree.filter((p) => p.cmd.includes('while read -r op what')).length, 0, `a reaper shell: ${JSON.stringify(tree)}`);
      assert.equal(tree.filter((p) => p.cmd.includes('mount -t tmpfs')).length, 0, `a probe: ${JSON.stringify(tree)}`);
      cli.kill('SIGKILL');
      await exited;
      assert.ok(await waitUntil(() => processesWith(token).length === 0, 15_000), `processes of the run alive after the CLI was killed: ${processesWith(token).join(', ')}`);
      const third = spawnSync(process.execPath, [CLI, 'run', '--workspace', sb.workspace, '--', '/bin/true'], { cwd: sb.workspace, env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(third.status, 0, third.stderr);
      const left = runCgroups().filter((d) => !cgBefore.has(d));
      assert.deepEqual(left, [], 'the killed run left cgroups the next run did not sweep');
    } finally {
      cli.kill('SIGKILL');
      for (const p of processesWith(token)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
});
