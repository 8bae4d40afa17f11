// dist/cli.js started as the user starts it (its own first lines, a shell script) runs Node without
// NODE_EXTRA_CA_CERTS, which Node 20 loads at every start; the script still gets the variable as the user
// set it (src/cli/env-handover.ts). Real processes: Node's own warning for a bundle it cannot load shows
// whether the CLI's Node read the variable, and the sandboxed script prints what it got.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { CLI } from './helpers';
import { useSandbox } from './use-sandbox';

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(argv: string[], env: Record<string, string>, cwd?: string): Promise<Out> {
  return new Promise((resolve) => {
    // dist/cli.js finds Node through PATH (`/usr/bin/env node`): this Node's folder first.
    const PATH = `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
    execFile(argv[0]!, argv.slice(1), { env: { PATH, LANG: 'C.UTF-8', ...env }, cwd, timeout: 50000 }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('the CLI starts Node without NODE_EXTRA_CA_CERTS and hands it to the script', function () {
  this.timeout(60000);
  const sb = useSandbox();
  const MISSING = '/nonexistent/ca-bundle.pem';

  it("its own Node does not read the bundle (no load warning), while `node dist/cli.js` does (the control)", async () => {
    const direct = await start([CLI, '--help'], { NODE_EXTRA_CA_CERTS: MISSING });
    assert.equal(direct.code, 0, direct.stderr);
    assert.doesNotMatch(direct.stderr, /extra certs/i);
    const viaNode = await start([process.execPath, CLI, '--help'], { NODE_EXTRA_CA_CERTS: MISSING });
    assert.match(viaNode.stderr, /Ignoring extra certs from `\/nonexistent\/ca-bundle\.pem`/);
  });

  it('a script allowed the variable gets it as set: a path, an empty value, or none; never under the hand-over name', async () => {
    const script = 'echo "certs=[${NODE_EXTRA_CA_CERTS-unset}] handover=[${SCRIPT_SANDBOX_HANDOVER_NODE_EXTRA_CA_CERTS-unset}]"';
    const run = (env: Record<string, string>) =>
      start([CLI, 'run', '--workspace', sb.workspace, '--env-allow', 'NODE_EXTRA_CA_CERTS', '--env-allow', 'SCRIPT_SANDBOX_*', '--', '/bin/sh', '-c', script], { HOME: sb.home, ...env }, sb.workspace);
    const cases: Array<[Record<string, string>, string]> = [
      [{ NODE_EXTRA_CA_CERTS: MISSING }, `certs=[${MISSING}] handover=[unset]`],
      [{ NODE_EXTRA_CA_CERTS: '' }, 'certs=[] handover=[unset]'],
      [{}, 'certs=[unset] handover=[unset]'],
    ];
    for (const [env, want] of cases) {
      const r = await run(env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), want, JSON.stringify(env));
    }
  });
});
