// The watchdog's process walk on the real kernel: listTree finds a process's descendants through the children
// lists of every thread (a child forked by a Node process's worker thread included), with the right parents,
// and a seed re-parented out of the tree (a double fork whose subreaper is not us) is still read.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { hasChildrenLists, listTree, readProc } from '../../../../native/linux/procfs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(f: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = f();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('procfs listTree (real kernel)', function () {
  this.timeout(30000);
  const started: ChildProcess[] = [];
  const extra: number[] = [];

  before(function () {
    if (!hasChildrenLists()) this.skip(); // kernel without CONFIG_PROC_CHILDREN: the platform scans all of /proc
  });
  after(() => {
    for (const c of started) c.kill('SIGKILL');
    for (const pid of extra) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('lists the children and grandchildren of a process, not the process itself', async () => {
    const sh = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
    started.push(sh);
    const kids = await waitFor(() => {
      const t = listTree([process.pid]).filter((p) => p.ppid === sh.pid);
      return t.length === 2 ? t : undefined;
    }, 'two sleeps');
    const all = listTree([process.pid]);
    assert.ok(all.some((p) => p.pid === sh.pid && p.ppid === process.pid));
    assert.ok(!all.some((p) => p.pid === process.pid));
    for (const k of kids) assert.ok(all.some((p) => p.pid === k.pid));
  });

  it("finds a child forked by a worker thread of a multithreaded process (another thread's children list)", async () => {
    const src = `const { Worker } = require('node:worker_threads');
new Worker("require('node:child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); setInterval(() => {}, 1000);", { eval: true });
setInterval(() => {}, 1000);`;
    const node = spawn(process.execPath, ['-e', src], { stdio: 'ignore' });
    started.push(node);
    const kid = await waitFor(() => listTree([process.pid]).find((p) => p.ppid === node.pid), 'the worker thread child');
    assert.ok((readProc(node.pid!)?.threads ?? 0) > 1);
    extra.push(kid.pid);
  });

  it('reads a seed that left the tree (re-parented above it) and its descendants', async () => {
    // The subshell exits at once: its sleep is re-parented to the nearest subreaper above the shell, or init.
    // The tree is the shell's: this process may itself be a subreaper by now (an engine made earlier in the
    // same mocha run sets PR_SET_CHILD_SUBREAPER), so the orphan may land here, which is still outside it.
    const sh = spawn('/bin/sh', ['-c', '(sleep 30 & echo $!) ; sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(sh);
    const pid = await new Promise<number>((r) => sh.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
    extra.push(pid);
    const root = sh.pid!;
    await waitFor(() => (readProc(pid)?.ppid !== undefined && readProc(pid)!.ppid !== root && !listTree([root]).some((p) => p.pid === pid) ? true : undefined), 'the orphan to leave the tree');
    assert.ok(listTree([root], [pid]).some((p) => p.pid === pid));
  });
});
