// Installing a compiled seccomp-bpf program (the compiler lives in ./seccomp). Requires no_new_privs on the
// calling thread unless it has CAP_SYS_ADMIN.
import * as os from 'node:os';
import koffi from 'koffi';
import { SandboxError } from '../../src/errors';
import type { Libc } from './libc';

const { EINVAL } = os.constants.errno;

export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_GET_ACTION_AVAIL = 2;
export const SECCOMP_GET_NOTIF_SIZES = 3;

export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** BPF_MAXINSNS: the kernel rejects longer programs. */
export const BPF_MAXINSNS = 4096;

/** struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } */
export const SockFilterStruct = koffi.struct({ code: 'uint16_t', jt: 'uint8_t', jf: 'uint8_t', k: 'uint32_t' });

/** struct sock_fprog { unsigned short len; struct sock_filter *filter; } (6 bytes of padding after len). */
export const SockFprogStruct = koffi.struct({ len: 'uint16_t', filter: 'void *' });

/** struct seccomp_notif_sizes { __u16 seccomp_notif; __u16 seccomp_notif_resp; __u16 seccomp_data; } */
export const NotifSizesStruct = koffi.struct({ seccomp_notif: 'uint16_t', seccomp_notif_resp: 'uint16_t', seccomp_data: 'uint16_t' });

export interface NotifSizes {
  notif: number;
  notifResp: number;
  data: number;
}

export interface InstallOptions {
  /** Ask for a user-notification listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER). */
  listener: boolean;
}

/**
 * Installs `program` (struct sock_filter[]) on the calling thread. Returns the listener fd when one was asked
 * for, else null.
 *
 * No SECCOMP_FILTER_FLAG_TSYNC: Node's helper threads (libuv pool, V8 platform) stay unfiltered for the few
 * microseconds until execve, which ends them; they run our code, not the script's, and the exec'd image
 * inherits the calling thread's filter. TSYNC would also need TSYNC_ESRCH next to NEW_LISTENER and would fail
 * whenever another thread had a diverging filter, for no gain. Landlock and no_new_privs are per thread too,
 * and are set on this same thread.
 */
export function installFilter(libc: Libc, program: Buffer, opts: InstallOptions): number | null {
  const insns = program.length / 8;
  if (!Number.isInteger(insns) || insns < 1 || insns > BPF_MAXINSNS) {
    throw new SandboxError('SETUP_FAILED', `seccomp program of ${program.length} bytes is not 1..${BPF_MAXINSNS} sock_filter entries`, {
      call: 'seccomp',
    });
  }
  const fprog = Buffer.alloc(koffi.sizeof(SockFprogStruct));
  // koffi stores the address of `program`'s memory; `program` stays referenced until the call returns, and
  // the kernel copies the instructions during the call.
  koffi.encode(fprog, 0, SockFprogStruct, { len: insns, filter: program });
  if (!opts.listener) {
    libc.seccomp(SECCOMP_SET_MODE_FILTER, 0, fprog);
    return null;
  }
  // A notification the supervisor has received then waits for its answer through every signal but a kill
  // (Linux 5.19+). Without it a stop or a handled signal of the script withdraws the notification and the
  // kernel restarts the call, which the supervisor may already have performed: performed twice (red team
  // rt8: O_EXCL creates answered EEXIST, renames undone). Older kernels refuse the flag (EINVAL): without.
  try {
    return libc.seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, fprog);
  } catch (e) {
    if (!(e instanceof SandboxError && e.errno === EINVAL)) throw e;
    return libc.seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, fprog);
  }
}

/** Decodes a base64 program as carried in LinuxPlan.seccomp.program. */
export function decodeProgram(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

/** SECCOMP_GET_NOTIF_SIZES: succeeds only where user notifications exist (Linux 5.0+). */
export function notifSizes(libc: Libc): NotifSizes {
  const out = Buffer.alloc(koffi.sizeof(NotifSizesStruct));
  libc.seccomp(SECCOMP_GET_NOTIF_SIZES, 0, out);
  const s = koffi.decode(out, NotifSizesStruct) as { seccomp_notif: number; seccomp_notif_resp: number; seccomp_data: number };
  return { notif: s.seccomp_notif, notifResp: s.seccomp_notif_resp, data: s.seccomp_data };
}

/** SECCOMP_GET_ACTION_AVAIL: whether the kernel knows a filter return action. */
export function actionAvailable(libc: Libc, action: number): boolean {
  const arg = Buffer.from(new Uint32Array([action >>> 0]).buffer); // native byte order
  try {
    libc.seccomp(SECCOMP_GET_ACTION_AVAIL, 0, arg);
    return true;
  } catch (e) {
    if (e instanceof SandboxError && (e.errno === os.constants.errno.EOPNOTSUPP || e.errno === os.constants.errno.EINVAL || e.errno === os.constants.errno.ENOSYS)) {
      return false;
    }
    throw e;
  }
}
