// Red team rt22's attack program (redteam-rt22.test.ts): one C file, one mode per attack, each attempt printed
// as `<name>: ALLOWED` or `<name>: denied (<errno>)`, and the place its tests build (argv: mode, workspace, out).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliResult } from './helpers';
import type { Place } from './rt21-attack';

export type { Place };

export const ATTACK_C = String.raw`
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE 2
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
static const char *H, *W, *O;
static char *cat(const char *a, const char *b) { char *s = malloc(strlen(a) + strlen(b) + 2); sprintf(s, "%s/%s", a, b); return s; }
static void report(const char *name, int rc) {
  if (rc >= 0) printf("%s: ALLOWED\n", name); else printf("%s: denied (%s)\n", name, strerror(errno));
  fflush(stdout);
}
static struct timespec OLD[2] = {{978307200, 0}, {978307200, 0}}; /* 2001-01-01 */
static int touchold(const char *p) { return utimensat(AT_FDCWD, p, OLD, 0); }
static char *procfd(int fd) { char *s = malloc(64); snprintf(s, 64, "/proc/self/fd/%d", fd); return s; }
static volatile int stop;
static const char *fa, *fb;
static long flips;
static void *flipper(void *x) { (void)x; while (!stop) if (syscall(SYS_renameat2, AT_FDCWD, fa, AT_FDCWD, fb, RENAME_EXCHANGE) == 0) flips++; return NULL; }

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  H = getenv("HOME"); W = argv[2]; O = argv[3];
  const char *m = argv[1];
  if (chdir(W) != 0) return 3;
  if (!strcmp(m, "protected")) {
    const char *hook = cat(W, ".git/hooks/pre-commit.sample");
    report("chmod-hook", chmod(hook, 0755));
    report("chmod-git-world-w", chmod(cat(W, ".git"), 0777));
    report("chmod-hooks-dir", chmod(cat(W, ".git/hooks"), 0777));
    report("utime-git-config", touchold(cat(W, ".git/config")));
    report("chmod-git-config", chmod(cat(W, ".git/config"), 0666));
    report("chown-git-config-gid", chown(cat(W, ".git/config"), -1, getgid()));
    report("utime-vscode", touchold(cat(W, ".vscode/tasks.json")));
    report("chmod-vscode-dir", chmod(cat(W, ".vscode"), 0777));
    report("utime-audit", touchold(cat(W, ".sandbox/audit.jsonl")));
    report("chmod-sandbox-dir", chmod(cat(W, ".sandbox"), 0777));
    report("chmod-bashrc", chmod(cat(H, ".bashrc"), 0777));
    report("utime-bashrc", touchold(cat(H, ".bashrc")));
    report("chmod-state", chmod(cat(H, ".local/state/script-sandbox"), 0777));
    report("utime-state", touchold(cat(H, ".local/state/script-sandbox")));
    report("chmod-hookspath-hook", chmod(cat(W, "tools/githooks/pre-commit"), 0755));
    report("chmod-dotfiles-bashrc", chmod(cat(H, "dotfiles/bashrc"), 0777));
    report("utime-dotfiles-bashrc", touchold(cat(H, "dotfiles/bashrc")));
    report("chmod-shared-vs", chmod(cat(O, "shared/vs/settings.json"), 0777));
    report("utime-shared-vs", touchold(cat(O, "shared/vs/settings.json")));
    report("chmod-theirs", chmod(cat(W, "theirs"), 0777));
    report("utime-theirs", touchold(cat(W, "theirs")));
    report("chown-theirs", chown(cat(W, "theirs"), getuid(), getgid()));
    /* fd forms */
    int r = open(hook, O_RDONLY);
    report("fchmod-rdonly-hook", fchmod(r, 0755));
    report("futimens-rdonly-hook", futimens(r, OLD));
    report("chmod-proc-self-fd-hook", chmod(procfd(r), 0755));
    report("chmod-dev-fd-hook", (({ char s[64]; snprintf(s, 64, "/dev/fd/%d", r); chmod(s, 0755); })));
    int p = open(hook, O_PATH);
    report("fchmodat2-empty-opath-hook", syscall(SYS_fchmodat2, p, "", 0755, AT_EMPTY_PATH));
    report("fchmodat-opath-dotslash", fchmodat(p, ".", 0755, 0));
    report("fchownat-empty-opath-hook", fchownat(p, "", -1, getgid(), AT_EMPTY_PATH));
    report("utimensat-empty-opath-hook", utimensat(p, "", OLD, AT_EMPTY_PATH));
    int hd = open(cat(W, ".git/hooks"), O_RDONLY | O_DIRECTORY);
    report("fchmodat-hooksdir-rel", fchmodat(hd, "pre-commit.sample", 0755, 0));
    report("fchmod-hooksdir", fchmod(hd, 0777));
    /* the hook mapped: /proc/self/map_files */
    void *mp = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r, 0);
    if (mp != MAP_FAILED) { char s[128]; snprintf(s, sizeof s, "/proc/self/map_files/%lx-%lx", (unsigned long)mp, (unsigned long)mp + 4096); report("chmod-map-files-hook", chmod(s, 0755)); }
    /* a child holding the hook: /proc/<child>/fd/N */
    pid_t c = fork();
    if (c == 0) { int q = open(hook, O_RDONLY); (void)q; sleep(3); _exit(0); }
    usleep(300000);
    { char s[64]; snprintf(s, 64, "/proc/%d/fd/%d", c, r); report("chmod-proc-child-fd-hook", chmod(s, 0755)); snprintf(s, 64, "/proc/%d/cwd/.git/hooks/pre-commit.sample", c); report("chmod-proc-child-cwd-hook", chmod(s, 0755)); }
    kill(c, 9); waitpid(c, NULL, 0);
    /* an fd passed over a unix socket to ourselves */
    int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    { char cm[CMSG_SPACE(sizeof(int))]; char b = 'x'; struct iovec io = { &b, 1 }; struct msghdr mh = {0}; mh.msg_iov = &io; mh.msg_iovlen = 1; mh.msg_control = cm; mh.msg_controllen = sizeof cm;
      struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch->cmsg_level = SOL_SOCKET; ch->cmsg_type = SCM_RIGHTS; ch->cmsg_len = CMSG_LEN(sizeof(int)); memcpy(CMSG_DATA(ch), &r, sizeof(int));
      sendmsg(sv[0], &mh, 0); char cm2[CMSG_SPACE(sizeof(int))]; mh.msg_control = cm2; mh.msg_controllen = sizeof cm2; recvmsg(sv[1], &mh, 0);
      int got; memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int)); report("fchmod-passed-hook", fchmod(got, 0755)); }
    /* hard links */
    int f = open(cat(W, "hl1"), O_WRONLY | O_CREAT, 0644); close(f); link(cat(W, "hl1"), cat(W, "hl2"));
    report("chmod-hardlinked", chmod(cat(W, "hl1"), 0755));
    /* non-dumpable */
    prctl(PR_SET_DUMPABLE, 0);
    report("nondump-chmod-hook", chmod(hook, 0755));
    report("nondump-fchmod-hook", fchmod(r, 0755));
    f = open(cat(W, "nd"), O_WRONLY | O_CREAT, 0644); close(f);
    report("nondump-chmod-own", chmod(cat(W, "nd"), 0700));
  } else if (!strcmp(m, "nested")) {
    report("chmod-nested-hook", chmod(cat(W, "sub/.git/hooks/pre-commit"), 0755));
  } else if (!strcmp(m, "hardlink-rc")) {
    report("chmod-rc-other-name", chmod(cat(H, "dotfiles/bashrc"), 0777));
    report("utime-rc-other-name", touchold(cat(H, "dotfiles/bashrc")));
  } else if (!strcmp(m, "roots")) {
    report("utime-dev-null", touchold("/dev/null"));
    report("chmod-dev-full", chmod("/dev/full", 0606));
    report("utime-dev-shm", touchold("/dev/shm"));
    report("utime-tmp", touchold("/tmp"));
    report("utime-ws-root", touchold(W));
    char *s = cat(O, "suid");
    int f = open(s, O_WRONLY | O_CREAT, 0755); close(f);
    report("chmod-suid-in-tmp", chmod(s, 04755));
  } else if (!strcmp(m, "race")) {
    /* d <-> l (symlink to .git/hooks) exchanged by a thread while chmod d/pre-commit.sample and fchmodat via a dir fd */
    int secs = argc > 4 ? atoi(argv[4]) : 3;
    mkdir("rd", 0755); mkdir("rd/d", 0755);
    int f = open("rd/d/pre-commit.sample", O_WRONLY | O_CREAT, 0644); close(f);
    symlink(cat(W, ".git/hooks"), "rd/l");
    fa = "rd/d"; fb = "rd/l";
    pthread_t th; pthread_create(&th, NULL, flipper, NULL);
    long tries = 0, ok = 0; time_t end = time(NULL) + secs;
    while (time(NULL) < end) { tries++; if (chmod("rd/d/pre-commit.sample", 0755) == 0) ok++; chmod("rd/d/pre-commit.sample", 0644); if (utimensat(AT_FDCWD, "rd/d/pre-commit.sample", OLD, 0) == 0) ok++; }
    stop = 1; pthread_join(th, NULL);
    printf("race: tries=%ld ok=%ld flips=%ld\n", tries, ok, flips); fflush(stdout);
  } else if (!strcmp(m, "hang")) {
    int pf[2]; pipe(pf);
    report("fchmod-pipe", fchmod(pf[0], 0600));
    int so = socket(AF_UNIX, SOCK_STREAM, 0);
    report("fchmod-socket", fchmod(so, 0600));
    int mf = memfd_create("x", 0);
    report("fchmod-memfd", fchmod(mf, 0600));
    report("futimens-pipe", futimens(pf[0], NULL));
    report("chmod-badptr", chmod((const char *)0x10, 0600));
    report("chmod-kernelptr", chmod((const char *)0xffffffffff600000UL, 0600));
    char *big = malloc(1 << 20); memset(big, 'a', (1 << 20) - 1); big[(1 << 20) - 1] = 0;
    report("chmod-huge-path", chmod(big, 0600));
    char *deep = malloc(8192); strcpy(deep, W); for (int i = 0; i < 1500; i++) strcat(deep, "/.");
    strcat(deep, "/x"); int f = open("x", O_WRONLY | O_CREAT, 0644); close(f);
    report("chmod-long-dots", chmod(deep, 0600));
    mkfifo("fifo", 0644);
    report("chmod-fifo", chmod("fifo", 0600));
    report("utimes-bad-tv", syscall(SYS_utimes, "x", (void *)0x10));
    report("utimensat-fdcwd-null", syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0));
    report("fchmod-negfd", fchmod(-5, 0600));
    report("fchmod-bigfd", fchmod(100000, 0600));
    mkdir("nl\ndir", 0755); f = open("nl\ndir/x (deleted)", O_WRONLY | O_CREAT, 0644); close(f);
    report("chmod-odd-name", chmod("nl\ndir/x (deleted)", 0600));
    report("alive", 0);
  }
  return 0;
}
`;

/** In /tmp (moderate's write grant, so the home's protections matter): a workspace (git repository) with a
 *  nested repository, core.hooksPath naming tools/githooks, .vscode -> ../out/shared/vs, another user's file
 *  (root host); a home whose ~/.bashrc is a symlink to dotfiles/bashrc (or, hardRc, a second hard name). */
export function makePlace(opts: { hardRc?: boolean; uid?: number } = {}): Place {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rt22-'));
  fs.chmodSync(root, 0o755);
  const ws = path.join(root, 'ws');
  const home = path.join(root, 'h');
  const out = path.join(root, 'out');
  const sh = (s: string) => execFileSync('sh', ['-ec', s], { cwd: root, stdio: 'ignore' });
  sh(`mkdir ws h out
git init -q ws
mkdir -p h/dotfiles h/.local/state/script-sandbox out/shared/vs
echo '# rc' > h/dotfiles/bashrc
${opts.hardRc ? 'ln h/dotfiles/bashrc h/.bashrc; touch -d 2001-01-01 h/.bashrc' : 'ln -s dotfiles/bashrc h/.bashrc'}
echo '{}' > out/shared/vs/settings.json; echo '{}' > out/shared/vs/tasks.json; ln -s ../out/shared/vs ws/.vscode
chmod 644 ws/.git/hooks/pre-commit.sample
git init -q ws/sub; printf '#!/bin/sh\necho HOOK-RAN\n' > ws/sub/.git/hooks/pre-commit; chmod 644 ws/sub/.git/hooks/pre-commit
mkdir -p ws/tools/githooks; printf '#!/bin/sh\necho ARMED\n' > ws/tools/githooks/pre-commit; chmod 644 ws/tools/githooks/pre-commit
git -C ws config core.hooksPath tools/githooks
echo x > ws/theirs; chmod 666 ws/theirs; ${process.getuid?.() === 0 ? 'chown 65534:65534 ws/theirs' : 'true'}`);
  if (opts.uid !== undefined) execFileSync('chown', ['-R', String(opts.uid), root]);
  return { root, ws, home, out, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export function run(p: Place, mode: 'warn' | 'enforce', command: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['run', '--workspace', p.ws, '--mode', mode, '--profile', 'moderate', '--', ...command], { cwd: p.ws, home: p.home, env: { SCRIPT_SANDBOX_NAMESPACES: '0', ...env }, timeoutMs: 90_000 });
}

/** Mode, owner, group and mtime of each path (lstat; '-' when missing). */
export function meta(paths: string[]): string[] {
  return paths.map((p) => {
    const s = fs.lstatSync(p, { throwIfNoEntry: false });
    return s ? `${p} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.mtimeMs}` : `${p} -`;
  });
}
