// `npm run demo`: a sample script in the sandbox that tries a write outside its workspace, a read of a
// planted secret and a namespace escape, then shows how each went and what was recorded.
import { parseCommand, type CommandSpec } from './parse';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePolicy } from '../policy';
import { createEngine } from '../host/engine';
import { recordEvents } from '../host/events-file';

const SCRIPT = `#!/bin/sh
# A script you did not write. It tries a few things it should not.
echo "1. write inside the workspace:"
echo hello > ./inside.txt && echo "   ok, wrote ./inside.txt"
echo "2. write outside the workspace (OUTSIDE_PATH):"
echo pwned > "OUTSIDE_PATH" 2>/dev/null && echo "   !! wrote it" || echo "   blocked: Permission denied"
echo "3. read a planted secret ($HOME/.ssh/id_rsa):"
cat "$HOME/.ssh/id_rsa" >/dev/null 2>&1 && echo "   !! read it" || echo "   blocked: Permission denied"
echo "4. create a user namespace (unshare -r):"
unshare -r true 2>/dev/null && echo "   !! escaped" || echo "   blocked: Operation not permitted"
echo "5. exit with status 3"
exit 3
`;

export const DEMO_SPEC: CommandSpec = {
  name: 'demo',
  summary: 'A sandboxed sample run in a throw-away workspace: a blocked write outside it, a blocked read of a planted key, a blocked user namespace.',
  options: {},
  positionals: 'none',
};

export async function runDemo(argv: string[]): Promise<number> {
  parseCommand(DEMO_SPEC, argv);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'script-sandbox-demo-'));
  const workspace = path.join(root, 'workspace');
  const home = path.join(root, 'home');
  fs.mkdirSync(workspace);
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
  fs.writeFileSync(path.join(home, '.ssh', 'id_rsa'), 'FAKE PRIVATE KEY (demo)\n');
  const outside = path.join(root, 'outside.txt');
  const script = path.join(workspace, 'untrusted.sh');
  fs.writeFileSync(script, SCRIPT.replace(/OUTSIDE_PATH/g, outside), { mode: 0o755 });
  const events = path.join(workspace, '.sandbox', 'events.jsonl');
  fs.mkdirSync(path.dirname(events), { recursive: true });

  const { policy } = resolvePolicy({ run: { mode: 'enforce', profile: 'strict' } }, { workspace, home });
  const out = process.stdout;
  out.write(`Script Sandbox demo — mode ${policy.mode}, profile ${policy.profile}\n  workspace ${workspace}\n  script    ${script}\n\n`);
  const engine = createEngine();
  try {
    const handle = engine.runner.run({
      command: ['./untrusted.sh'],
      cwd: workspace,
      policy,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, GITHUB_TOKEN: 'ghp_demo0000000000000000000000000000' },
    });
    recordEvents(handle, events, { mode: policy.mode, profile: policy.profile, workspace });
    handle.on('stdout', (b) => out.write(b));
    handle.on('stderr', (b) => process.stderr.write(b));
    const r = await handle.wait();
    out.write(`\nexit status ${r.exitCode} after ${r.durationMs} ms; outside file exists: ${fs.existsSync(outside)}\n`);
    out.write(`environment removed before the script started: ${describeRemoved(events)}\n`);
    out.write(`\nrecorded in ${events}:\n`);
    for (const line of fs.readFileSync(events, 'utf8').trim().split('\n')) out.write(`  ${line.length > 220 ? line.slice(0, 217) + '...' : line}\n`);
    const ok = r.exitCode === 3 && !fs.existsSync(outside);
    out.write(ok ? '\nThe sandbox held: nothing outside the workspace was touched.\n' : '\nUNEXPECTED: the sandbox did not hold (see above).\n');
    return ok ? 0 : 1;
  } finally {
    engine.dispose();
  }
}

function describeRemoved(events: string): string {
  const started = fs
    .readFileSync(events, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; envRemoved?: string[] })
    .find((e) => e.type === 'run_started');
  return started?.envRemoved?.join(', ') || '(none)';
}
