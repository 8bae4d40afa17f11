// The attack a same-user script can try on Windows: open its host, duplicate the host's job handle out of
// it and lift the job's limits. Run as the script (under the restricted token) by token-driver.ts's
// job-handle case. Usage: node.exe attack-job.js HOSTPID JOBHANDLE. The exit code says how far it got
// (100 + 1 host opened + 2 job duplicated + 4 limits lifted + 8 the host's job handle value already valid here,
// i.e. inherited): a restricted script may not write a result file.
import { JobInfoClass } from '../../native/win32/constants';
import { handle, loadKernel32 } from '../../native/win32/kernel32';
import { extendedLimitInfo } from '../../native/win32/job-limits';

const [hostPid, jobHandle] = process.argv.slice(2);
const k = loadKernel32();
const PROCESS_DUP_HANDLE = 0x40;
const DUPLICATE_SAME_ACCESS = 0x2;
let bits = 0;
// An inherited job handle would have the same value in this process (HANDLE_LIST must have kept it out).
if (k.QueryInformationJobObject(BigInt(jobHandle), JobInfoClass.BasicAccountingInformation, Buffer.alloc(48), 48, null)) bits |= 8;
const host = handle(k.OpenProcess(PROCESS_DUP_HANDLE, 0, Number(hostPid)));
if (host !== 0n) bits |= 1;
if (host !== 0n) {
  const dup = Buffer.alloc(8);
  const ok = k.DuplicateHandle(host, BigInt(jobHandle), handle(k.GetCurrentProcess()), dup, 0, 0, DUPLICATE_SAME_ACCESS);
  if (ok) bits |= 2;
  if (ok) {
    // Lift the limits: kill-on-close only, no process limit.
    const ext = extendedLimitInfo({ mode: 'enforce', activeProcesses: null, jobMemoryBytes: null, cpuSeconds: null });
    if (k.SetInformationJobObject(dup.readBigUInt64LE(0), JobInfoClass.ExtendedLimitInformation, ext.buf, ext.buf.length)) bits |= 4;
  }
}
process.exit(100 + bits);
