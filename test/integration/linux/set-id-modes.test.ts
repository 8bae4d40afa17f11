// No sandboxed script leaves a set-user-ID or set-group-ID file, in either tier, in enforce or warn mode: a
// root script holds no capabilities, but a set-user-ID root file it left in /tmp or the workspace would run
// as root for every user of the machine (red team rt22). chmod, open/openat/creat with such a mode, mknod,
// and openat2 (whose mode the filter cannot read: the supervisor does). Observed from outside.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIn, writeScript, PYTHON } from './helpers';
import { TIERS, useCompiledC, useSandbox, userNamespacesProblem } from './use-sandbox';

const OPENAT2_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
struct how { uint64_t flags, mode, resolve; };
int main(int argc, char **argv) {
  struct how h = { O_WRONLY | O_CREAT, 04755, 0 };
  long fd = syscall(SYS_openat2, AT_FDCWD, argv[1], &h, sizeof h);
  printf("openat2=%s\n", fd >= 0 ? "made" : "refused");
  return 0;
}
`;

const PY = String.raw`
import os, stat, sys
def t(name, f):
    try:
        f(); print(name + "=made")
    except OSError:
        print(name + "=refused")
open("plain", "w").close()
t("chmod", lambda: os.chmod("plain", 0o4755))
t("chmod-g", lambda: os.chmod("plain", 0o2755))
t("open", lambda: os.close(os.open("o", os.O_WRONLY | os.O_CREAT, 0o4755)))
t("mknod", lambda: os.mknod("m", stat.S_IFREG | 0o6755))
t("tmp", lambda: os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o4755)))
t("ok", lambda: os.chmod("plain", 0o755))
print("end")
`;

describe('no set-user-ID or set-group-ID file from a sandboxed script (real kernel)', function () {
  this.timeout(120000);
  const nsProblem = userNamespacesProblem();
  const sb = useSandbox();
  const openat2 = useCompiledC('setid-openat2', OPENAT2_C);

  for (const [tier, env] of TIERS) {
    for (const mode of ['enforce', 'warn'] as const) {
      it(`${mode}: chmod, open, mknod and openat2 with set-ID bits are refused; a plain chmod works (${tier})`, async function () {
        if (tier === 'namespace tier' && nsProblem) this.skip();
        const script = writeScript(sb.outside, 'setid.py', PY);
        const inTmp = path.join('/tmp', `ss-setid-${process.pid}-${tier[0]}-${mode}`);
        fs.rmSync(inTmp, { force: true });
        const r = await runIn(sb, ['--mode', mode, '--profile', 'moderate'], [PYTHON, script, inTmp], { ...env });
        assert.match(r.stdout, /^end$/m, r.stdout + r.stderr);
        for (const n of ['chmod', 'chmod-g', 'open', 'mknod', 'tmp']) assert.match(r.stdout, new RegExp(`^${n}=refused$`, 'm'), r.stdout + r.stderr);
        assert.match(r.stdout, /^ok=made$/m);
        if (openat2.bin) {
          const o = await runIn(sb, ['--mode', mode, '--profile', 'moderate'], [openat2.bin, 'o2file'], { ...env });
          assert.match(o.stdout, /^openat2=refused$/m, o.stdout + o.stderr);
        }
        // From outside: no file with a set-ID bit anywhere the script wrote.
        for (const dir of [sb.workspace, '/tmp']) {
          for (const n of fs.readdirSync(dir)) {
            let st: fs.Stats;
            try {
              st = fs.lstatSync(path.join(dir, n));
            } catch {
              continue;
            }
            if (st.isFile() && (st.mode & 0o6000) !== 0 && st.mtimeMs > Date.now() - 60_000) assert.fail(`${path.join(dir, n)} has mode ${(st.mode & 0o7777).toString(8)}`);
          }
        }
        assert.ok(!fs.existsSync(inTmp) || (fs.statSync(inTmp).mode & 0o6000) === 0, `${inTmp} is set-ID`);
        fs.rmSync(inTmp, { force: true });
      });
    }
  }
});
