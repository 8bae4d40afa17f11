// The namespace stage's command line and its probe. A multithreaded process (Node) cannot
// unshare(CLONE_NEWUSER) (EINVAL), so the launcher is started by util-linux `unshare` (new user and mount
// namespaces, uid mapped to itself: the script sees the caller's uid, never a mapped root) and a small perl
// program that adds the PID namespace. PID 1 of that namespace is a tiny init, not the launcher: the kernel
// ignores signals without a handler that a namespace's init gets from inside its namespace, so a script as
// PID 1 could not `kill -TERM $$`, would never get SIGXFSZ/SIGXCPU, and would leave its orphans unreaped.
// The stage and its init die with the host (parent-death signals): no process of a run outlives it.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** fd of the init's status line (the wait status of the launcher/script, as a decimal number). */
export const INIT_STATUS_FD = 4;

/** unshare, mount and prctl numbers for the perl stage (perl's syscall() takes the number). */
const STAGE_SYSCALLS: Record<string, [number, number, number]> = { x64: [272, 165, 157], arm64: [97, 40, 167] };

// util-linux unshare makes the user namespace (uid mapped to itself, capabilities kept as ambient) and the
// mount namespace, then execs this perl program in place: the host's child never holds the control channel
// (fd 3) for long, so the launcher's exec still shows as its end of file. The program takes the PID namespace
// (it is single-threaded, so it may), forks PID 1 (the init), closes its fds 3 and 4 and waits. The init
// mounts a fresh /proc, forks the launcher, closes fd 3, reaps every orphan, and when the launcher (then the
// script) ends writes the exact wait status on fd 4 and exits: every process left in the namespace dies.
const STAGE_PL = [
  'my ($nr_unshare, $nr_mount, $nr_prctl, $host) = map { $_ + 0 } splice(@ARGV, 0, 4);',
  // PR_SET_PDEATHSIG: the stage dies with the host that started it (SIGKILL included), the init with the
  // stage, and the PID namespace with its init: every process of the run goes, however it detached. The
  // parent check catches a host that died before the prctl.
  'syscall($nr_prctl, 1, 9, 0, 0, 0); getppid() == $host or die "script-sandbox init: the host is gone\n";',
  'sub closefd { my $fd = shift; if (open(my $h, "<&=", $fd)) { close($h) } }',
  // Once the stage and the init only wait, their stdio goes to /dev/null: the run's output pipes then end
  // when the script's processes are gone, not when the stage has torn its namespaces down.
  'sub quiet { open(STDIN, "<", "/dev/null"); open(STDOUT, ">", "/dev/null"); open(STDERR, ">", "/dev/null") }',
  'syscall($nr_unshare, 0x20000000) == 0 or die "script-sandbox init: unshare(CLONE_NEWPID): $!\\n";',
  'my $init = fork; defined $init or die "script-sandbox init: fork: $!\\n";',
  'if (!$init) {',
  '  syscall($nr_prctl, 1, 9, 0, 0, 0);',
  // perl's syscall() wants modifiable strings for pointer arguments.
  '  my ($src, $dir, $type) = ("proc", "/proc", "proc");',
  '  syscall($nr_mount, $src, $dir, $type, 14, 0) == 0 or die "script-sandbox init: mount /proc: $!\\n";',
  '  my $pid = fork; defined $pid or die "script-sandbox init: fork: $!\\n";',
  '  if (!$pid) { exec { $ARGV[0] } @ARGV; warn "script-sandbox init: exec $ARGV[0]: $!\\n"; exit 127 }',
  '  closefd(3); quiet();',
  '  my $st = -1;',
  '  for (;;) { my $w = waitpid(-1, 0); last if $w == -1; if ($w == $pid) { $st = $?; last } }',
  `  if (open(my $fh, ">&=", ${INIT_STATUS_FD})) { syswrite($fh, "$st\\n") }`,
  '  exit(($st & 127) ? 128 + ($st & 127) : ($st >> 8));',
  '}',
  `closefd(3); closefd(${INIT_STATUS_FD}); quiet();`,
  'waitpid($init, 0);',
  'exit(($? & 127) ? 128 + ($? & 127) : ($? >> 8));',
].join('\n');

export const UNSHARE_FLAGS = ['--user', '--map-current-user', '--keep-caps', '--mount', '--propagation', 'private'];

export interface NamespaceStage {
  available: boolean;
  detail: string;
  /** The command to prefix to `node launcher.js` (empty when unavailable). */
  prefix: string[];
  /** Whether a private devpts instance could be mounted (the launcher then gives each run one). */
  privateDevpts?: boolean;
}

function findFile(names: string[]): string | null {
  for (const n of names) {
    try {
      fs.accessSync(n, fs.constants.X_OK);
      return n;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * Whether to use the namespace tier: the one place that reads SCRIPT_SANDBOX_NAMESPACES (0 forces the fallback
 * tier, for tests and machines where namespaces misbehave; the CLI's --no-namespaces sets it). Here, below the
 * host binding, so the CLI's entry can read it too before it starts its early launcher.
 */
export function namespacesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SCRIPT_SANDBOX_NAMESPACES !== '0';
}

/** The stage's command prefix, or why there is none (no binaries, no syscall numbers for this architecture). */
export function namespaceStagePrefix(): { prefix: string[] } | { unavailable: NamespaceStage } {
  const unshare = findFile(['/usr/bin/unshare', '/bin/unshare']);
  const perl = findFile(['/usr/bin/perl', '/bin/perl']);
  if (!unshare) return { unavailable: { available: false, detail: 'util-linux unshare not found (/usr/bin/unshare)', prefix: [] } };
  if (!perl) return { unavailable: { available: false, detail: 'perl not found (/usr/bin/perl): needed as the namespace init', prefix: [] } };
  const nrs = STAGE_SYSCALLS[process.arch];
  if (!nrs) return { unavailable: { available: false, detail: `no namespace stage for ${process.arch}`, prefix: [] } };
  return { prefix: [unshare, ...UNSHARE_FLAGS, '--', perl, '-e', STAGE_PL, ...nrs.map(String), String(process.pid)] };
}

// The probe runs the same init with a command that mounts (in its private mount namespace only), so a
// machine where the namespaces are made but mounts are refused counts as unavailable. `$$` is 2: the shell
// is the init's child in a fresh PID namespace.
// A devpts instance too (the launcher mounts one per run; it falls back to exact-path grants without it).
const PROBE_SH = 'mount -t tmpfs -o ro,size=4k none /tmp && { mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts 2>/dev/null && echo devpts; echo $$; }';
const PROBE_TIMEOUT_MS = 5000;

/** What the probe's run says about the stage; the same reading for the synchronous and the asynchronous probe. */
function probeVerdict(prefix: string[], r: { error?: Error; status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }): NamespaceStage {
  if (r.error) return { available: false, detail: `unshare failed to run: ${r.error.message}`, prefix: [] };
  const lines = r.stdout.trim().split('\n');
  if (r.status !== 0 || lines[lines.length - 1] !== '2') {
    const why = (r.stderr || '').trim().split('\n')[0] || `exit ${r.status ?? r.signal}`;
    return { available: false, detail: `user namespaces refused here: ${why}`, prefix: [] };
  }
  return availableStage(prefix, lines.includes('devpts'));
}

/** The stage as a probe that succeeded reports it (also how a cached verdict is restored). */
export function availableStage(prefix: string[], privateDevpts: boolean): NamespaceStage {
  return { available: true, detail: `user, mount, PID, IPC (and network when isolated) namespaces via util-linux unshare${privateDevpts ? ', private devpts' : ''}`, prefix, privateDevpts };
}

/** Tries the stage once (~10-20 ms): the binaries exist, and user namespaces with a bind mount work here. */
export function probeNamespaceStage(): NamespaceStage {
  const p = namespaceStagePrefix();
  if ('unavailable' in p) return p.unavailable;
  const r = spawnSync(p.prefix[0]!, [...p.prefix.slice(1), '/bin/sh', '-c', PROBE_SH], {
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore'],
  });
  return probeVerdict(p.prefix, { error: r.error, status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
}

/**
 * The same probe without blocking this process: the CLI's cold path runs it while the launcher it will
 * probably use is already starting (and while it reads its log and policy). Same command, same verdict.
 */
export function probeNamespaceStageAsync(): Promise<NamespaceStage> {
  const p = namespaceStagePrefix();
  if ('unavailable' in p) return Promise.resolve(p.unavailable);
  return new Promise((resolve) => {
    const child = spawn(p.prefix[0]!, [...p.prefix.slice(1), '/bin/sh', '-c', PROBE_SH], { timeout: PROBE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (error) => resolve(probeVerdict(p.prefix, { error, status: null, signal: null, stdout, stderr })));
    // 'close': the exit status and all the output are in.
    child.once('close', (status, signal) => resolve(probeVerdict(p.prefix, { status, signal, stdout, stderr })));
  });
}
