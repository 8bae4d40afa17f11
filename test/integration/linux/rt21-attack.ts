// Red team rt21's attack program (redteam-rt21.test.ts): one C file, one mode per attack, each attempt printed
// as `<name>: ALLOWED` or `<name>: denied (<errno>)`, and the places (home, workspace) its tests build.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliResult } from './helpers';
import { treeSnapshot } from './use-sandbox';

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
#include <sys/syscall.h>
#include <sys/prctl.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE 2
#endif
static const char *H, *W, *O;
static char *cat(const char *a, const char *b) { char *s = malloc(strlen(a) + strlen(b) + 2); sprintf(s, "%s/%s", a, b); return s; }
static void report(const char *name, int rc) {
  if (rc >= 0) printf("%s: ALLOWED\n", name); else printf("%s: denied (%s)\n", name, strerror(errno));
  fflush(stdout);
}
static int create(const char *p) {
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  if (fd < 0) return -1;
  if (write(fd, "PWNED\n", 6) != 6) { close(fd); return -1; }
  close(fd);
  return 0;
}
static int append(const char *p) {
  int fd = open(p, O_WRONLY | O_APPEND);
  if (fd < 0) return -1;
  int n = write(fd, "echo PWNED\n", 11);
  close(fd);
  return n == 11 ? 0 : -1;
}
static int exch(const char *a, const char *b) { return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE); }

static volatile int stop;
static const char *flipA, *flipB, *cwdA, *cwdB;
static long flips;
static void *flipper(void *x) { (void)x; while (!stop) { if (exch(flipA, flipB) == 0) flips++; } return NULL; }
static void *cwdflipper(void *x) { (void)x; while (!stop) { if (chdir(cwdA) == 0) flips++; chdir(cwdB); } return NULL; }

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage\n"); return 2; }
  H = getenv("HOME"); W = argv[2]; O = argv[3];
  if (!H || !W || !O || argc < 2) { fprintf(stderr, "usage\n"); return 2; }
  const char *m = argv[1];
  if (!strcmp(m, "ancestor-symlink")) {
    // A protected path's missing ancestor (~/.config for ~/.config/git) made a symlink to a folder the script owns.
    report("symlink-config", symlink(cat(O, "cfg"), cat(H, ".config")));
    mkdir(cat(O, "cfg"), 0755); mkdir(cat(O, "cfg/git"), 0755);
    report("write-config-git-config", create(cat(H, ".config/git/config")));
    // The same with link(2) of a symlink (no AT_SYMLINK_FOLLOW): ~/.vscode for ~/.vscode/extensions.
    symlink(cat(O, "vs"), cat(O, "vsl"));
    report("hardlink-symlink-vscode", linkat(AT_FDCWD, cat(O, "vsl"), AT_FDCWD, cat(H, ".vscode"), 0));
    mkdir(cat(O, "vs"), 0755); mkdir(cat(O, "vs/extensions"), 0755);
    report("write-vscode-extensions", create(cat(H, ".vscode/extensions/evil.js")));
    // ~/.cache for ~/.cache/script-sandbox/git/approvals.json (the sandbox's own git-script approvals).
    report("symlink-cache", symlink(cat(O, "cache"), cat(H, ".cache")));
    mkdir(cat(O, "cache"), 0755); mkdir(cat(O, "cache/script-sandbox"), 0755); mkdir(cat(O, "cache/script-sandbox/git"), 0755);
    report("write-approvals", create(cat(H, ".cache/script-sandbox/git/approvals.json")));
  } else if (!strcmp(m, "rc-link")) {
    // ~/.bashrc -> dotfiles/bashrc: a second name for the protected file, then a write through it.
    report("link-rc-target", link(cat(H, "dotfiles/bashrc"), cat(H, "b2")));
    report("write-through-link", append(cat(H, "b2")));
  } else if (!strcmp(m, "rc-rename")) {
    mkdir(cat(H, "made"), 0755);
    report("make-file", create(cat(H, "made/x")));
    report("rename-over-rc-target", rename(cat(H, "made/x"), cat(H, "dotfiles/bashrc")));
  } else if (!strcmp(m, "ws-vscode")) {
    // .vscode -> ../shared/vs: a made file renamed over the physical settings file (argv[4]).
    mkdir(cat(W, "made"), 0755);
    report("make-file", create(cat(W, "made/x")));
    report("rename-over-vscode-target", rename(cat(W, "made/x"), argv[4]));
  } else if (!strcmp(m, "held")) {
    report("create-rc", create(cat(H, ".bash_profile")));
    report("create-rc-proc-root", create(cat("/proc/self/root", cat(H, ".zshrc"))));
    if (chdir(H) == 0) {
      report("create-rc-relative", create(".zshenv"));
      report("create-rc-proc-cwd", create("/proc/self/cwd/.zprofile"));
      report("create-rc-proc-thread-self-cwd", create("/proc/thread-self/cwd/.zprofile"));
    }
    if (chdir(W) != 0) return 3;
    report("mkdir-config", mkdir(cat(H, ".config"), 0755));
    report("mkdir-config-git", mkdir(cat(H, ".config/git"), 0755));
    report("symlink-rc", symlink("/tmp", cat(H, ".bash_login")));
    report("fifo-rc", mknod(cat(H, ".profile"), S_IFIFO | 0644, 0));
    mkdir(cat(H, "made"), 0755);
    create(cat(H, "made/x"));
    report("rename-into-rc", rename(cat(H, "made/x"), cat(H, ".bash_profile")));
    report("link-into-rc", link(cat(H, "made/x"), cat(H, ".bash_profile")));
    mkdir(cat(H, "made/git"), 0755);
    create(cat(H, "made/git/config"));
    report("rename-dir-onto-config", rename(cat(H, "made"), cat(H, ".config")));
    report("exchange-dir-with-config", exch(cat(H, "made"), cat(H, ".config")));
    report("exchange-config-with-dir", exch(cat(H, ".config"), cat(H, "made")));
    // From the home (carved in both tiers, so performed by the supervisor in the host's view, where .git is no
    // read-only mount) into the workspace's integrity set.
    create(cat(H, "made/y"));
    report("rename-home-into-hooks", rename(cat(H, "made/y"), cat(W, ".git/hooks/pre-commit")));
    report("link-home-into-hooks", link(cat(H, "made/y"), cat(W, ".git/hooks/pre-commit")));
    report("rename-home-into-git-config", rename(cat(H, "made/y"), cat(W, ".git/config")));
    report("exchange-home-dir-with-hooks", exch(cat(H, "made/git"), cat(W, ".git/hooks")));
    report("rename-home-dir-into-git", rename(cat(H, "made/git"), cat(W, ".git/made")));
    report("rename-home-dir-into-vscode", rename(cat(H, "made/git"), cat(W, ".vscode")));
    report("rename-home-dir-into-sandbox", rename(cat(H, "made/git"), cat(W, ".sandbox/made")));
    mkdir(cat(W, "wm"), 0755);
    create(cat(W, "wm/x"));
    report("rename-into-hooks", rename(cat(W, "wm/x"), cat(W, ".git/hooks/pre-commit")));
    report("rename-into-git", rename(cat(W, "wm/x"), cat(W, ".git/config")));
    report("exchange-with-hooks", exch(cat(W, "wm"), cat(W, ".git/hooks")));
    report("exchange-with-git", exch(cat(W, "wm"), cat(W, ".git")));
    report("rename-onto-vscode", rename(cat(W, "wm"), cat(W, ".vscode")));
    report("hardlink-git-config-ws", link(cat(W, ".git/config"), cat(W, "wm/cfg")));
    report("hardlink-git-config-home", link(cat(W, ".git/config"), cat(H, "cfg")));
    report("hardlink-rc-home", link(cat(H, ".bashrc"), cat(H, "rc2")));
    report("symlink-then-rename-onto-config", (symlink(cat(O, "cfg"), cat(O, "l")) , rename(cat(O, "l"), cat(H, ".vscode"))));
    int t = open(O, O_TMPFILE | O_WRONLY, 0755);
    if (t >= 0) {
      if (write(t, "PWNED\n", 6) != 6) return 4;
      report("tmpfile-linkat-empty-path-rc", linkat(t, "", AT_FDCWD, cat(H, ".bash_profile"), AT_EMPTY_PATH));
      char pp[64]; snprintf(pp, sizeof pp, "/proc/self/fd/%d", t);
      report("tmpfile-proc-fd-link-rc", linkat(AT_FDCWD, pp, AT_FDCWD, cat(H, ".bash_profile"), AT_SYMLINK_FOLLOW));
      report("tmpfile-proc-fd-link-hooks", linkat(AT_FDCWD, pp, AT_FDCWD, cat(W, ".git/hooks/post-checkout"), AT_SYMLINK_FOLLOW));
    } else report("tmpfile", -1);
    report("mkdir-ws-vscode", mkdir(cat(W, ".vscode/x"), 0755));
    report("create-sandbox-dir", create(cat(W, ".sandbox/x")));
    report("non-utf8-name", create(cat(H, "\xff\xfe-name")));
    char longname[300]; memset(longname, 'a', 299); longname[299] = 0;
    report("long-name", create(cat(H, longname)));
    // A non-dumpable process (an unprivileged supervisor cannot read its memory or /proc links).
    prctl(PR_SET_DUMPABLE, 0);
    report("nondump-create-rc", create(cat(H, ".bash_profile")));
    report("nondump-rename-into-rc", rename(cat(H, "made/x"), cat(H, ".zshrc")));
    report("nondump-link-git-config", link(cat(W, ".git/config"), cat(H, "cfg2")));
    report("nondump-symlink-hooks", symlink("/tmp", cat(W, ".git/hooks/pre-push")));
  } else if (!strcmp(m, "race")) {
    // Swap a made folder with a symlink to .git (RENAME_EXCHANGE, performed by the supervisor) while creating
    // names below it; and a thread flipping the shared cwd between the made folder and .git.
    int secs = argc > 4 ? atoi(argv[4]) : 4;
    mkdir(cat(H, "rm"), 0755); mkdir(cat(H, "rm/d"), 0755); mkdir(cat(H, "rm/d/hooks"), 0755);
    symlink(cat(W, ".git"), cat(H, "rm/l"));
    flipA = cat(H, "rm/d"); flipB = cat(H, "rm/l");
    pthread_t th; pthread_create(&th, NULL, flipper, NULL);
    long won = 0, tries = 0;
    time_t end = time(NULL) + secs;
    const char *names[] = { "config", "hooks/pre-commit", "description", "newfile" };
    while (time(NULL) < end) {
      for (int i = 0; i < 4; i++) {
        char *p = cat(flipA, names[i]);
        int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0755);
        tries++;
        if (fd >= 0) { char q[64], r[4096]; snprintf(q, sizeof q, "/proc/self/fd/%d", fd); ssize_t n = readlink(q, r, sizeof r - 1); if (n > 0) { r[n] = 0; if (strstr(r, "/.git/")) { won++; write(fd, "PWNED\n", 6); } } close(fd); }
        free(p);
      }
      unlink(cat(flipA, "description"));
      mkdir(cat(flipA, "hooks/x"), 0755);
      rename(cat(H, "rm/d/newfile"), cat(flipA, "hooks/post-merge"));
    }
    stop = 1; pthread_join(th, NULL);
    printf("exchange-race: %s after %ld tries (%ld flips)\n", won ? "WON" : "held", tries, flips); fflush(stdout);
    // cwd flipping
    stop = 0; flips = 0; won = 0;
    cwdA = cat(H, "rm"); cwdB = cat(W, ".git");
    pthread_create(&th, NULL, cwdflipper, NULL);
    end = time(NULL) + secs;
    while (time(NULL) < end) {
      int fd = open("config", O_WRONLY | O_CREAT | O_APPEND, 0755);
      if (fd >= 0) { char q[64], r[4096]; snprintf(q, sizeof q, "/proc/self/fd/%d", fd); ssize_t n = readlink(q, r, sizeof r - 1); if (n > 0) { r[n] = 0; if (strstr(r, "/.git/")) { won++; write(fd, "PWNED\n", 6); } } close(fd); }
      mkdir("hooks/y", 0755);
      symlink("/tmp", "hooks/pre-push");
    }
    stop = 1; pthread_join(th, NULL);
    printf("cwd-race: %s (%ld flips)\n", won ? "WON" : "held", flips); fflush(stdout);
  }
  return 0;
}
`;

export interface Place {
  root: string;
  ws: string;
  home: string;
  out: string;
  cleanup(): void;
}

export function makePlace(opts: { dotfiles?: boolean; homeUnderTmp?: boolean } = {}): Place {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rt21-'));
  const homeRoot = fs.mkdtempSync(path.join(opts.homeUnderTmp ? os.tmpdir() : '/var/tmp', 'rt21-home-'));
  fs.chmodSync(root, 0o755);
  fs.chmodSync(homeRoot, 0o755);
  const ws = path.join(root, 'ws');
  const out = path.join(root, 'out');
  const home = path.join(homeRoot, 'h');
  for (const d of [ws, out, home]) fs.mkdirSync(d);
  execFileSync('git', ['init', '-q', ws]);
  if (opts.dotfiles) {
    fs.mkdirSync(path.join(home, 'dotfiles'));
    fs.writeFileSync(path.join(home, 'dotfiles', 'bashrc'), '# rc\n');
    fs.symlinkSync('dotfiles/bashrc', path.join(home, '.bashrc'));
  } else {
    fs.writeFileSync(path.join(home, '.bashrc'), '# rc\n');
  }
  return {
    root,
    ws,
    home,
    out,
    cleanup: () => {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(homeRoot, { recursive: true, force: true });
    },
  };
}

export function run(p: Place, mode: 'warn' | 'enforce', command: string[], env: Record<string, string>): Promise<CliResult> {
  return runCli(['run', '--workspace', p.ws, '--mode', mode, '--profile', 'moderate', '--', ...command], { cwd: p.ws, home: p.home, env: { ...env }, timeoutMs: 90_000 });
}

/** The attempts of a run: name -> ALLOWED | denied (...). */
export function attempts(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of stdout.split('\n')) {
    const x = /^([\w-]+): (ALLOWED|denied.*)$/.exec(l);
    if (x) m.set(x[1]!, x[2]!);
  }
  return m;
}

export function notBlocked(r: CliResult): void {
  const v = r.events.filter((e) => e.type === 'violation');
  assert.deepEqual(v.filter((x) => x.action !== 'warned'), [], `warn mode reported a call as blocked: ${JSON.stringify(v)}`);
}

export function isLink(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

/** .git as git and VS Code would read it (its object store aside). */
export function gitSnapshot(ws: string): string[] {
  return treeSnapshot(path.join(ws, '.git'), ['objects']);
}

