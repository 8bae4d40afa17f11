// Found by the red team (2026-11-29); held since the fix below. Fallback tier (no namespace stage: SCRIPT_SANDBOX_NAMESPACES=0,
// --no-namespaces, or a machine without user namespaces). The workspace root is the parent of a carve-out
// (.git), so every entry of it gets its own Landlock write rule. The launcher re-expands the carve-outs
// (carve-outs.ts: realpath of each rule path, a symlink child is skipped) and only afterwards opens each rule
// path with open(O_PATH) (landlock.ts pathRuleAdder), which follows symlinks. A second sandboxed run in the same
// workspace (run A) swaps an entry between a directory and a symlink to .git with renameat2(RENAME_EXCHANGE)
// (the supervisor lets it move a symlink into the workspace root); when the entry is a directory at the host's
// compile and at the launcher's realpath but a symlink at the open, run B's rule lands on .git itself, with
// every write right. The supervisor still refuses open/creat/rename/mkdir/truncate in .git, but symlinkat is
// left to Landlock, so run B plants .git/hooks/<hook> -> a script of its choice: a git hook that runs outside
// the sandbox. Observed (sbtest and the flipper itself sandboxed, 2026-11-29): 5 of 16 runs planted a link
// (5 of 20 with an unsandboxed flipper); the namespace tier holds (EROFS from the read-only bind of .git).
// Expected: no run can create anything in .git/hooks. Fix: the compile's expansion marks every path it saw
// canonical `exact`, and the launcher opens those with openat2(RESOLVE_NO_SYMLINKS): a name flipped to a link
// since then gets no rule (ELOOP, grant less) instead of the link target's (native/linux/landlock.ts).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeSandbox, runIn, writeScript, type Sandbox } from './helpers';

const PY = '/usr/bin/python3';

// Run A: keeps swapping "flip" (a directory) and "sub/flipln" (a symlink to .git) for SECONDS.
const FLIPPER = `import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
os.makedirs("flip", exist_ok=True)
os.makedirs("sub", exist_ok=True)
os.symlink(os.path.abspath(".git"), "sub/flipln")
end = time.time() + float(sys.argv[1])
n = 0
while time.time() < end:
    if libc.renameat2(-100, b"flip", -100, b"sub/flipln", 2) != 0:
        print("renameat2 errno", ctypes.get_errno(), flush=True)
        break
    n += 1
print("flips", n, flush=True)
`;

// Run B: tries to plant a hook as a symlink (the one call the supervisor leaves to Landlock there).
const PLANT = `import os
try:
    os.symlink("../../sub/payload", ".git/hooks/pre-commit-%d" % os.getpid())
    print("PLANTED", flush=True)
except OSError as e:
    print("held", e.errno, flush=True)
`;

describe('boundary: a rule path flipped to a symlink between expansion and open (fallback tier)', function () {
  this.timeout(180000);
  let sb: Sandbox;
  beforeEach(() => {
    sb = makeSandbox();
    fs.mkdirSync(path.join(sb.workspace, '.git', 'hooks'), { recursive: true });
    fs.mkdirSync(path.join(sb.workspace, '.git', 'objects'), { recursive: true });
    // Ordinary folders of the checkout (a symlink in a folder the run itself created in the root is refused).
    fs.mkdirSync(path.join(sb.workspace, 'sub'));
    fs.mkdirSync(path.join(sb.workspace, 'flip'));
    fs.writeFileSync(path.join(sb.workspace, '.git', 'config'), '[core]\n\tbare = false\n');
    fs.writeFileSync(path.join(sb.workspace, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  });
  afterEach(() => sb.cleanup());

  it('no run plants a link in .git/hooks while another run flips a workspace entry to a symlink to .git', async () => {
    writeScript(sb.workspace, 'flipper.py', FLIPPER);
    writeScript(sb.workspace, 'plant.py', PLANT);
    const env = { SCRIPT_SANDBOX_NAMESPACES: '0' };
    const flipper = runIn(sb, ['--timeout', '120'], [PY, 'flipper.py', '45'], env);
    await new Promise((r) => setTimeout(r, 2000));
    const outs: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await runIn(sb, [], [PY, 'plant.py'], env);
      outs.push(r.stdout.trim());
      if (/PLANTED/.test(r.stdout)) break;
    }
    const a = await flipper;
    const planted = fs.readdirSync(path.join(sb.workspace, '.git', 'hooks'));
    assert.deepEqual(planted, [], `run B planted ${planted.join(', ')} in .git/hooks (flipper: ${a.stdout.trim()}; runs: ${outs.join(' | ')})`);
  });
});
