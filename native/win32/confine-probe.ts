// Does this machine enforce the restricted token's file confinement? Measured, never assumed: a cmd.exe under
// a fresh restricted token writes one file into a folder granted to its SID and one into a folder that is not.
// Enforced only when the first write lands and the second fails. Wine creates the token and stores the ACL
// but lets both writes through (it maps file access to Unix permissions), so there the report says so.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import koffi from 'koffi';
import type { Win32Plan } from '../../src/protocol/plan';
import type { Advapi32 } from './advapi32';
import { INFINITE } from './constants';
import { beginConfinement } from './confine';
import { namesSid } from './acl';
import { readDacl } from './file-grants';
import type { Kernel32 } from './kernel32';
import { createRestrictedToken } from './restricted-token';
import { createInJob } from './spawn';

export interface FileConfinementProbe {
  /** CreateRestrictedToken + SetTokenInformation(TokenDefaultDacl) succeeded. */
  token: boolean;
  /** The grant's ACE reads back from the folder's DACL (Wine accepts SetNamedSecurityInfoW but keeps nothing). */
  grantStored: boolean;
  /** A process started under it (CreateProcessAsUserW). */
  started: boolean;
  /** The write into the granted folder landed. */
  grantedWrite: boolean;
  /** The write outside every grant failed. */
  deniedWriteBlocked: boolean;
  enforced: boolean;
  detail: string;
}

/** Wine's version (ntdll exports wine_get_version there, never on Windows), or null: named in the detail only. */
export function wineVersion(): string | null {
  try {
    return String(koffi.load('ntdll.dll').func('const char *wine_get_version()')());
  } catch {
    return null;
  }
}

export function probeFileConfinement(k: Kernel32, a: Advapi32, systemRoot: string): FileConfinementProbe {
  const wine = wineVersion();
  const res: FileConfinementProbe = { token: false, grantStored: false, started: false, grantedWrite: false, deniedWriteBlocked: false, enforced: false, detail: '' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-confine-probe-'));
  const ok = path.join(dir, 'granted');
  fs.mkdirSync(ok);
  const journalDir = path.join(dir, 'journal');
  try {
    const c = beginConfinement(k, a, journalDir, 'probe', [{ path: ok, kind: 'write' }]);
    const stored = readDacl(k, a, ok);
    res.grantStored = !!stored && namesSid(stored, c.sid);
    try {
      const t = createRestrictedToken(k, a, c.sid);
      res.token = true;
      try {
        const cmd = path.win32.join(systemRoot, 'System32', 'cmd.exe');
        const plan: Win32Plan = {
          platform: 'win32',
          runId: 'probe',
          application: cmd,
          commandLine: `"${cmd}" /d /c (echo x>"${path.join(ok, 'a.txt')}") & (echo x>"${path.join(dir, 'denied.txt')}")`,
          env: { SystemRoot: systemRoot },
          cwd: dir,
          job: null,
          requireJob: false,
          namespaces: null,
        };
        const p = createInJob(k, plan, null, { token: { handle: t.token, advapi32: a }, noStdio: true });
        res.started = true;
        k.ResumeThread(p.thread);
        k.CloseHandle(p.thread);
        if (k.WaitForSingleObject(p.process, 30_000) !== 0) k.TerminateProcess(p.process, 1);
        k.WaitForSingleObject(p.process, INFINITE);
        k.CloseHandle(p.process);
      } finally {
        t.close();
      }
    } finally {
      c.undo();
    }
    res.grantedWrite = fs.existsSync(path.join(ok, 'a.txt'));
    res.deniedWriteBlocked = !fs.existsSync(path.join(dir, 'denied.txt'));
    res.enforced = res.grantedWrite && res.deniedWriteBlocked;
    res.detail = res.enforced
      ? 'a probe under the restricted token wrote into a granted folder and was refused outside it'
      : !res.grantedWrite
        ? 'a probe under the restricted token could not write even where its SID was granted: confinement would break runs, so it is not used'
        : `the restricted token is created and a process starts under it, but it wrote outside every grant: this system does not enforce restricting SIDs${res.grantStored ? '' : ', and the ACL grant did not read back (SetNamedSecurityInfoW accepted, no DACL kept)'}${wine ? ` (Wine ${wine} maps file access to Unix permissions)` : ''}`;
  } catch (e) {
    res.detail = `${res.token ? 'the probe process' : 'the restricted token'} failed: ${(e as Error).message}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return res;
}
