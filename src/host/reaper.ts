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
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn('/bin/sh', ['-c', REAPER_SH], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.child.on('error', () => undefined); // no /bin/sh: runs still die through PDEATHSIG and the sweep
    this.child.stdin?.on('error', () => undefined);
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void })?.unref?.();
  }

  private say(line: string): void {
    this.child.stdin?.write(line + '\n');
  }

  track(run: { pgid: number; cgroupDirs: string[] }): () => void {
    this.say(`+pg ${run.pgid}`);
    for (const d of run.cgroupDirs) this.say(`+cg ${d}`);
    return () => {
      this.say(`-pg ${run.pgid}`);
      for (const d of run.cgroupDirs) this.say(`-cg ${d}`);
    };
  }

  /** The reaper's pid: the host's own child, never to be mistaken for a run's orphan. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  dispose(): void {
    this.child.stdin?.end();
  }
}
