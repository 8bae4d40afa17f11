// The namespace stage's command line and its probe. A multithreaded process (Node) cannot
// unshare(CLONE_NEWUSER) (EINVAL), so the launcher is started by util-linux `unshare` in new user, mount and
// PID namespaces (uid mapped to itself: the script sees the caller's uid, never a mapped root). PID 1 of the
// new namespace is a tiny init (perl, ~2 ms), not the launcher: the kernel ignores signals without a handler
// that a namespace's init gets from inside its namespace, so a script as PID 1 could not `kill -TERM $$`,
// would never get SIGXFSZ/SIGXCPU, and would leave its orphans unreaped. The init forks the launcher, reaps
// every orphan, and when the launcher (then the script) ends, writes its exact wait status on fd 4 and exits;
// its exit ends every process left in the namespace (a `setsid` daemon included).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** fd of the init's status line (the wait status of the launcher/script, as a decimal number). */
export const INIT_STATUS_FD = 4;

const INIT_PL = [
  'my $pid = fork; defined $pid or die "script-sandbox init: fork: $!\\n";',
  'if (!$pid) { exec { $ARGV[0] } @ARGV; warn "script-sandbox init: exec $ARGV[0]: $!\\n"; exit 127 }',
  'my $st = -1;',
  'for (;;) { my $w = waitpid(-1, 0); last if $w == -1; if ($w == $pid) { $st = $?; last } }',
  `if (open(my $fh, '>&=', ${INIT_STATUS_FD})) { syswrite($fh, "$st\\n") }`,
  'exit(($st & 127) ? 128 + ($st & 127) : ($st >> 8));',
].join(' ');

export const UNSHARE_FLAGS = [
  '--user',
  '--map-current-user',
  '--keep-caps',
  '--mount',
  '--pid',
  '--fork',
  '--mount-proc',
  '--propagation',
  'private',
  // unshare arms PR_SET_PDEATHSIG on its child: if unshare is killed, the namespace's init goes too.
  '--kill-child',
];

export interface NamespaceStage {
  available: boolean;
  detail: string;
  /** The command to prefix to `node launcher.js` (empty when unavailable). */
  prefix: string[];
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

/** Tries the stage once (~10-20 ms): the binaries exist, and user namespaces with a bind mount work here. */
export function probeNamespaceStage(): NamespaceStage {
  const unshare = findFile(['/usr/bin/unshare', '/bin/unshare']);
  const perl = findFile(['/usr/bin/perl', '/bin/perl']);
  if (!unshare) return { available: false, detail: 'util-linux unshare not found (/usr/bin/unshare)', prefix: [] };
  if (!perl) return { available: false, detail: 'perl not found (/usr/bin/perl): needed as the namespace init', prefix: [] };
  const prefix = [unshare, ...UNSHARE_FLAGS, '--', perl, '-e', INIT_PL];
  // The probe runs the same init with a command that mounts (in its private mount namespace only), so a
  // machine where the namespaces are made but mounts are refused counts as unavailable. `$$` is 2: the shell
  // is the init's child in a fresh PID namespace.
  const r = spawnSync(prefix[0]!, [...prefix.slice(1), '/bin/sh', '-c', 'mount -t tmpfs -o ro,size=4k none /tmp && echo $$'], {
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore'],
  });
  if (r.error) return { available: false, detail: `unshare failed to run: ${r.error.message}`, prefix: [] };
  if (r.status !== 0 || r.stdout.trim() !== '2') {
    const why = (r.stderr || '').trim().split('\n')[0] || `exit ${r.status ?? r.signal}`;
    return { available: false, detail: `user namespaces refused here: ${why}`, prefix: [] };
  }
  return { available: true, detail: 'user, mount, PID, IPC (and network when isolated) namespaces via util-linux unshare', prefix };
}
