// The run's cgroups hold the script from its first instruction. The host writes the launcher's pid into the
// cgroups (tree.attach) while the launcher already applies a plan that waits at the listener ack, so the
// attach is off the critical path (runner.ts startOn); a plan without that barrier is sent only after the
// attach. Both are checked with an attach held back on purpose until the launcher execs (at most 4 s): the
// script's `cat /proc/self/cgroup` must still name the run's own groups. Sending a barrier-less plan first
// fails this (the script runs outside the groups, or is gone before the attach: LAUNCHER_CRASHED).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, makeSandbox, type Sandbox } from './helpers';

function comm(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

type Engine = ReturnType<typeof import('../../../src/host/engine').createEngine>;

describe('the run tree holds the launcher before it can exec (real kernel, cgroups)', function () {
  this.timeout(120_000);
  let sb: Sandbox;
  let engine: Engine | null = null;
  beforeEach(() => {
    sb = makeSandbox();
  });
  afterEach(() => {
    engine?.dispose();
    engine = null;
    sb.cleanup();
  });

  for (const listener of [true, false]) {
    it(`a slow attach still precedes the script (${listener ? 'plan held at the listener ack' : 'plan without a listener'})`, async function () {
      const { createEngine } = require(path.join(REPO, 'out/src/host/engine.js')) as typeof import('../../../src/host/engine');
      const { resolvePolicy } = require(path.join(REPO, 'out/src/policy/index.js')) as typeof import('../../../src/policy');
      engine = createEngine({ pool: 1, launcherPath: path.join(REPO, 'dist/launcher.js'), supervisorPath: path.join(REPO, 'dist/supervisor.js') });
      const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'moderate' } }, { workspace: sb.workspace, home: sb.home });
      // The runner's platform, reached as the runner does (private in TypeScript): the test slows its tree.
      const platform = (engine.runner as unknown as { platform: { createTree: (...a: unknown[]) => { kind: string; attach(pid: number): void }; supervises: (p: unknown) => boolean } }).platform;
      const createTree = platform.createTree.bind(platform);
      let kind = '';
      platform.createTree = (...a: unknown[]) => {
        const tree = createTree(...a);
        kind = tree.kind;
        const attach = tree.attach.bind(tree);
        tree.attach = (pid: number) => {
          // Up to 4 s, or until the launcher is no longer Node (it exec'd, or is gone): a launcher that could
          // pass this attach is seen doing so, whatever the machine's load.
          const until = Date.now() + 4000;
          const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
          while (Date.now() < until && comm(pid) === 'node') sleep(10);
          // It exec'd: let the script read its groups before they are written (it sleeps on, so the attach
          // still finds it and the run goes on with the output it printed).
          if (comm(pid) !== 'node') sleep(300);
          attach(pid);
        };
        return tree;
      };
      if (!listener) platform.supervises = () => false;
      await engine.launchersSettled();
      const h = engine.runner.run({ command: ['/bin/sh', '-c', 'cat /proc/self/cgroup; sleep 1'], cwd: sb.workspace, policy, env: { PATH: '/usr/bin:/bin', HOME: sb.home } });
      let out = '';
      h.on('stdout', (b: Buffer) => (out += b.toString()));
      const r = await h.wait();
      if (!kind.startsWith('cgroup')) {
        process.stdout.write(`      skipped: the run's tree is "${kind}" here, no cgroup to be in (the capability report says so)\n`);
        this.skip();
      }
      assert.equal(r.setupError, null, JSON.stringify(r.setupError));
      assert.equal(r.exitCode, 0, out);
      // Every line of the tree's controllers names the run's group: a script that ran outside them (then maybe
      // replaced by a retry on another launcher, whose output is the run's too) leaves a line that does not.
      const lines = out.split('\n').filter((l) => (kind === 'cgroup v1' ? /^\d+:(pids|memory):/.test(l) : l.startsWith('0::')));
      assert.ok(lines.length >= (kind === 'cgroup v1' ? 2 : 1), `the tree's controllers expected in:\n${out}`);
      for (const l of lines) assert.ok(l.endsWith(`/${h.runId}`), `the script ran outside the run's cgroups (${l}):\n${out}`);
    });
  }
});
