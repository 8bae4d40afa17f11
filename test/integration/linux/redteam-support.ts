// Pieces the red-team integration tests share: the process outside the run that acts once the script says it
// is ready, the script's wait for it, a thread that flips a path buffer while another writes through it, and
// finding the CLI process of a run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Polls for `ready` in the workspace, then runs `act` once (the process outside the run) and creates `go`. */
export function hostWhenReady(ws: string, act: () => void): NodeJS.Timeout {
  return setInterval(() => {
    if (!fs.existsSync(path.join(ws, 'ready')) || fs.existsSync(path.join(ws, 'go'))) return;
    act();
    fs.writeFileSync(path.join(ws, 'go'), '');
  }, 50);
}

/** The script's side of hostWhenReady: waits (up to 20 s) for `go`. */
export const WAIT_GO = 'i=0; while [ ! -e go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n';

/**
 * Opens argv[1] for appending while a second thread flips the path buffer between it and argv[2] (an allowed
 * name of the same length, answered "continue"); writes PWNED when an open lands on a `.key` path. Prints
 * `race: WON|held after N tries` (8 s).
 */
export const WRITE_RACE_PY = `import ctypes, os, sys, threading, time
sys.setswitchinterval(1e-5)
libc = ctypes.CDLL(None, use_errno=True)
target, allowed = sys.argv[1].encode(), sys.argv[2].encode()
buf = ctypes.create_string_buffer(target, 256)
stop = False
def flip():
    while not stop:
        ctypes.memmove(buf, allowed, len(allowed))
        ctypes.memmove(buf, target, len(target))
threading.Thread(target=flip, daemon=True).start()
end, tries, won = time.time() + 8, 0, False
while time.time() < end and not won:
    tries += 1
    fd = libc.open(buf, os.O_WRONLY | os.O_APPEND)
    if fd < 0: continue
    if '.key/' in os.readlink('/proc/self/fd/%d' % fd): won = os.write(fd, b'PWNED') > 0
    os.close(fd)
stop = True
print('race: %s after %d tries' % ('WON' if won else 'held', tries))
`;

/** The pid of the CLI running on `workspace` (its command line names it), or null. */
export function cliPidFor(workspace: string): number | null {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.endsWith('cli.js')) && cmd.includes(workspace) && cmd.includes('run')) return Number(e);
    } catch {
      // gone
    }
  }
  return null;
}

const TEMPS = () => [os.tmpdir(), '/tmp', '/var/tmp', '/dev/shm'].map((t) => path.resolve(t));
const inTemp = (p: string) => TEMPS().some((t) => p === t || p.startsWith(t + '/'));

/** A fresh folder outside every temp folder (beside the compiled tests, else in the home), or null when there
 *  is no such writable place: the deny-glob walk counts anything in a temp folder as replaceable, so a
 *  workspace there would be refused for a reason the test does not mean (red teams rt15-rt18). */
export function workspaceOutsideTemp(tag: string): string | null {
  for (const base of [__dirname, os.homedir()]) {
    const real = fs.realpathSync(base);
    if (inTemp(real)) continue;
    try {
      return fs.mkdtempSync(path.join(real, `.${tag}-ws-`));
    } catch {
      // not writable here
    }
  }
  return null;
}
