// Run by Node for Windows under Wine (not by mocha): one case of the file confinement (restricted token, ACL
// grants, journal) through the backend's own modules, printed as one JSON line, so the Wine tier can say
// exactly what Wine implements and what it enforces. Usage: node.exe token-driver.js CASE [ARGS…]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAdvapi32 } from '../../native/win32/advapi32';
import { namesSid, parseAcl } from '../../native/win32/acl';
import { beginConfinement, replayAclJournal } from '../../native/win32/confine';
import { probeFileConfinement } from '../../native/win32/confine-probe';
import { readDacl } from '../../native/win32/file-grants';
import { INFINITE } from '../../native/win32/constants';
import { JobObject } from '../../native/win32/job-object';
import { handle, loadKernel32 } from '../../native/win32/kernel32';
import { createRestrictedToken, tokenSids } from '../../native/win32/restricted-token';
import { newRunSid, sidFromBytes } from '../../native/win32/sid';
import { createInJob, isInJob } from '../../native/win32/spawn';
import { TokenInfoClass } from '../../native/win32/token-structs';
import { readJournals } from '../../native/win32/acl-journal';
import koffi from 'koffi';

const k = loadKernel32();
const a = loadAdvapi32();
const systemRoot = process.env.SystemRoot ?? 'C:\\windows';
const sys32 = `${systemRoot}\\system32`;

/** How many privileges a process's token holds (TokenPrivileges: PrivilegeCount first). */
function privilegeCount(proc: bigint): number | string {
  const out = Buffer.alloc(8);
  if (!a.OpenProcessToken(proc, 0x8, out)) return `OpenProcessToken failed (${k.GetLastError()})`;
  const t = out.readBigUInt64LE(0);
  try {
    const buf = Buffer.alloc(4096);
    const len = Buffer.alloc(4);
    if (!a.GetTokenInformation(t, 3, buf, buf.length, len)) return `GetTokenInformation(TokenPrivileges) failed (${k.GetLastError()})`;
    return buf.readUInt32LE(0);
  } finally {
    k.CloseHandle(t);
  }
}

function tokenPrivilegeCount(t: bigint): number | string {
  const buf = Buffer.alloc(4096);
  const len = Buffer.alloc(4);
  return a.GetTokenInformation(t, 3, buf, buf.length, len) ? buf.readUInt32LE(0) : `failed (${k.GetLastError()})`;
}

/** Restricting SIDs of a process's token (TokenRestrictedSids), as seen from outside the process. */
function restrictedSidsOf(proc: bigint): string[] | string {
  const out = Buffer.alloc(8);
  if (!a.OpenProcessToken(proc, 0x8, out)) return `OpenProcessToken failed (${k.GetLastError()})`;
  const t = out.readBigUInt64LE(0);
  try {
    const len = Buffer.alloc(4);
    a.GetTokenInformation(t, TokenInfoClass.TokenRestrictedSids, null, 0, len);
    const n = len.readUInt32LE(0);
    if (!n) return `GetTokenInformation(TokenRestrictedSids) size query failed (${k.GetLastError()})`;
    const buf = Buffer.alloc(n);
    if (!a.GetTokenInformation(t, TokenInfoClass.TokenRestrictedSids, buf, n, len)) return `GetTokenInformation failed (${k.GetLastError()})`;
    const count = buf.readUInt32LE(0);
    const sids: string[] = [];
    for (let i = 0; i < count; i++) {
      const addr = buf.readBigUInt64LE(8 + 16 * i);
      const head = Buffer.from(koffi.decode(addr, koffi.array('uint8', 8)) as number[]);
      sids.push(sidFromBytes(Buffer.from(koffi.decode(addr, koffi.array('uint8', 8 + 4 * head[1])) as number[])));
    }
    return sids;
  } finally {
    k.CloseHandle(t);
  }
}

function plan(application: string, commandLine: string, cwd = 'C:\\') {
  return { platform: 'win32' as const, runId: 'probe', application, commandLine, env: { SystemRoot: systemRoot, PATH: sys32 }, cwd, job: null, requireJob: true, namespaces: null };
}

const cases: Record<string, (args: string[]) => unknown> = {
  probe: () => probeFileConfinement(k, a, systemRoot),
  // The token is created from the launcher's own, and a process starts inside it (and inside the job).
  token: () => {
    const sid = newRunSid();
    const own = Buffer.alloc(8);
    a.OpenProcessToken(handle(k.GetCurrentProcess()), 0x8, own);
    const ids = tokenSids(k, a, own.readBigUInt64LE(0));
    const t = createRestrictedToken(k, a, sid);
    const job = JobObject.create(k, { mode: 'enforce', activeProcesses: null, jobMemoryBytes: null, cpuSeconds: null });
    const c = createInJob(k, plan(`${sys32}\\cmd.exe`, 'cmd.exe /d /c exit 4'), job.handle, { token: { handle: t.token, advapi32: a }, noStdio: true });
    const inJob = isInJob(k, c.process, job.handle);
    const childRestricted = restrictedSidsOf(c.process);
    // DISABLE_MAX_PRIVILEGE leaves only SeChangeNotifyPrivilege: the child's privilege count shows whose token it runs with.
    const privileges = { launcher: privilegeCount(handle(k.GetCurrentProcess())), token: tokenPrivilegeCount(t.token), child: privilegeCount(c.process) };
    k.ResumeThread(c.thread);
    k.WaitForSingleObject(c.process, 30_000);
    const code = Buffer.alloc(4);
    k.GetExitCodeProcess(c.process, code);
    t.close();
    job.close();
    return { sid, restrictingSids: t.sids, flags: t.flags, user: ids.user, logon: ids.logon, how: c.how, inJob, exitCode: code.readUInt32LE(0), childRestricted, privileges };
  },
  // Grants written, read back, undone; the journal exists exactly while they are in place.
  acl: ([dir]) => {
    const ws = path.join(dir, 'ws');
    fs.mkdirSync(path.join(ws, '.git'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'f.txt'), 'x');
    const before = readDacl(k, a, ws);
    const journalDir = path.join(dir, 'journal');
    const c = beginConfinement(k, a, journalDir, 'run-acl', [
      { path: ws, kind: 'write' },
      { path: path.join(ws, '.git'), kind: 'deny' },
      { path: path.join(ws, 'missing'), kind: 'write' },
    ]);
    const during = readDacl(k, a, ws);
    const gitDuring = readDacl(k, a, path.join(ws, '.git'));
    const fileDuring = readDacl(k, a, path.join(ws, 'f.txt'));
    const journalDuring = readJournals(journalDir).map((j) => j.entry?.sid);
    c.undo();
    const after = readDacl(k, a, ws);
    const aces = (b: Buffer | null | undefined) => (b ? parseAcl(b).aces.map((x) => `${x.type}:${x.flags}:${x.sid}:${x.mask?.toString(16)}`) : String(b));
    return {
      sid: c.sid,
      applied: c.applied,
      before: aces(before),
      during: aces(during),
      gitDuring: aces(gitDuring),
      fileInheritsDuring: fileDuring ? namesSid(fileDuring, c.sid) : null,
      namedDuring: during ? namesSid(during, c.sid) : false,
      gitDenied: gitDuring ? parseAcl(gitDuring).aces.some((x) => x.type === 1 && x.sid === c.sid) : false,
      journalDuring,
      after: aces(after),
      namedAfter: after ? namesSid(after, c.sid) : false,
      journalAfter: readJournals(journalDir).length,
      restoredExactly: before && after ? before.equals(after) : before === after,
    };
  },
  // A host that dies with grants in place: they stay, and the journal names them.
  'crash-grant': ([dir]) => {
    const ws = path.join(dir, 'ws');
    fs.mkdirSync(ws, { recursive: true });
    const c = beginConfinement(k, a, path.join(dir, 'journal'), 'run-crash', [{ path: ws, kind: 'write' }]);
    const d = readDacl(k, a, ws);
    console.log(JSON.stringify({ ok: true, case: 'crash-grant', result: { sid: c.sid, named: d ? namesSid(d, c.sid) : false } }));
    process.exit(0); // no undo: the crash
  },
  // The next host start: replay undoes what the dead host left.
  replay: ([dir, sid]) => {
    const ws = path.join(dir, 'ws');
    const r = replayAclJournal(k, a, path.join(dir, 'journal'));
    const d = readDacl(k, a, ws);
    return { replay: r, namedAfter: d ? namesSid(d, sid) : false, journalsLeft: readJournals(path.join(dir, 'journal')).length };
  },
  // The script (node.exe under the restricted token, inside the job with a 1-process limit) tries to reach
  // the job through its host: OpenProcess(host, PROCESS_DUP_HANDLE), DuplicateHandle(job), lift the limit.
  'job-handle': ([attack]) => {
    const job = JobObject.create(k, { mode: 'enforce', activeProcesses: 1, jobMemoryBytes: null, cpuSeconds: null });
    const t = createRestrictedToken(k, a, newRunSid());
    const node = process.execPath;
    // The job handle made inheritable on purpose: only HANDLE_LIST (the three std handles) keeps it from the script.
    k.SetHandleInformation(job.handle, 1, 1);
    const c = createInJob(k, plan(node, `"${node}" "${attack}" ${process.pid} ${job.handle}`, path.dirname(attack)), job.handle, { token: { handle: t.token, advapi32: a } });
    k.ResumeThread(c.thread);
    if (k.WaitForSingleObject(c.process, 90_000) !== 0) job.terminate(9);
    k.WaitForSingleObject(c.process, INFINITE);
    t.close();
    const code = Buffer.alloc(4);
    k.GetExitCodeProcess(c.process, code);
    const x = code.readUInt32LE(0);
    job.close();
    const bits = x >= 100 && x < 116 ? x - 100 : null;
    const bit = (b: number) => bits !== null && (bits & b) !== 0;
    return { exitCode: x, inheritedJob: bit(8), openedHost: bit(1), duplicatedJob: bit(2), liftedLimits: bit(4) };
  },
};

const [which = '', ...args] = process.argv.slice(2);
try {
  const f = cases[which];
  if (!f) throw new Error(`unknown case ${which}`);
  console.log(JSON.stringify({ ok: true, case: which, result: f(args) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, case: which, error: (e as Error).stack ?? String(e) }));
}
