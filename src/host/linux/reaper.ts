// Takes a host's runs down with it, even when the host is SIGKILLed. PR_SET_PDEATHSIG only reaches the
// launcher's own process (the script); its children would outlive the host. The reaper is a detached
// /bin/sh reading run registrations from a pipe the host holds; when the pipe closes (the host is gone,
// however it died) it kills every registered process group and cgroup. ~1 MB, no Node. A registration is
// added and removed with the shell's own parameter expansion (quoted words match literally): no process per
// update (it was four `sed` processes per run).
import { spawn, type ChildProcess } from 'node:child_process';

const REAPER_SH = `
pgs=" "; cgs=" "
while read -r op what; do
  case "$op" in
    +pg) pgs="$pgs$what " ;;
    -pg) case "$pgs" in *" $what "*) pgs="\${pgs%% "$what" *} \${pgs#* "$what" }" ;; esac ;;
    +cg) cgs="$cgs$what " ;;
    -cg) case "$cgs" in *" $what "*) cgs="\${cgs%% "$what" *} \${cgs#* "$what" }" ;; esac ;;
  esac
done
for pg in $pgs; do kill -KILL -- "-$pg" 2>/dev/null; done
for cg in $cgs; do
  for i in 1 2 3 4 5; do
    procs=$(cat "$cg/cgroup.procs" 2>/dev/null) || break
    [ -z "$procs" ] && break
    kill -KILL $procs 2>/dev/null
  done
done
`;

export class Reaper {
  private child: ChildProcess;
  /** What the live reaper holds, to hand to a new one when it dies (killed by hand, OOM): `+pg 123`, `+cg /…`. */
  private readonly registered = new Set<string>();
  private disposed = false;
  /** Reapers that died within a second of their start, in a row: past 3, /bin/sh cannot run here; stop trying. */
  private quickDeaths = 0;

  constructor() {
    this.child = this.start();
  }

  private start(): ChildProcess {
    const child = spawn('/bin/sh', ['-c', REAPER_SH], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.on('error', () => undefined); // no /bin/sh: runs still die through PDEATHSIG and the sweep
    child.stdin?.on('error', () => undefined);
    // A reaper that dies while the host lives would leave every later run without its guard: start another
    // and give it the runs registered now. (SIGKILLed, it kills nothing: the shell never reaches its loop end.)
    const startedAt = Date.now();
    child.on('exit', () => {
      if (this.disposed || this.child !== child) return;
      this.quickDeaths = Date.now() - startedAt < 1000 ? this.quickDeaths + 1 : 0;
      if (this.quickDeaths > 3) return;
      this.child = this.start();
      for (const line of this.registered) this.say(line);
    });
    child.unref();
    (child.stdin as unknown as { unref?: () => void })?.unref?.();
    return child;
  }

  private say(line: string): void {
    this.child.stdin?.write(line + '\n');
  }

  track(run: { pgid: number; cgroupDirs: string[] }): () => void {
    const lines = [`pg ${run.pgid}`, ...run.cgroupDirs.map((d) => `cg ${d}`)];
    for (const l of lines) {
      this.registered.add(`+${l}`);
      this.say(`+${l}`);
    }
    return () => {
      for (const l of lines) {
        this.registered.delete(`+${l}`);
        this.say(`-${l}`);
      }
    };
  }

  /** The reaper's pid: the host's own child, never to be mistaken for a run's orphan. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  dispose(): void {
    this.disposed = true;
    this.child.stdin?.end();
  }
}
