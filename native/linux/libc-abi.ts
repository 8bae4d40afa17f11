// The C ABI the libc bindings speak: structs declared field for field (sizes and offsets asserted in
// test/unit/native/structs.test.ts), the constants callers pass, and the capability-set encoding.
import koffi from 'koffi';

// ---- structs (field for field; sizes/offsets asserted in test/unit/native/structs.test.ts) ----

/** struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; } — rlim_t is unsigned long (64-bit on x86_64/aarch64). */
export const RlimitStruct = koffi.struct({ rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });

/**
 * glibc's struct sigaction (not the kernel's; we call the glibc wrapper): the handler union, a 1024-bit
 * sigset_t, int flags (padded), restorer. Same layout on x86_64 and aarch64 (sysdeps/unix/sysv/linux/bits).
 */
export const SigactionStruct = koffi.struct({
  sa_handler: 'uintptr_t',
  sa_mask: koffi.array('uint64_t', 16),
  sa_flags: 'int',
  sa_restorer: 'uintptr_t',
});

/** glibc sigset_t: 1024 bits. */
export const SIGSET_BYTES = 128;

/** struct utsname: six char[65] (_UTSNAME_LENGTH on Linux). */
const UTS_LEN = 65;
export const UtsnameStruct = koffi.struct({
  sysname: koffi.array('char', UTS_LEN, 'String'),
  nodename: koffi.array('char', UTS_LEN, 'String'),
  release: koffi.array('char', UTS_LEN, 'String'),
  version: koffi.array('char', UTS_LEN, 'String'),
  machine: koffi.array('char', UTS_LEN, 'String'),
  domainname: koffi.array('char', UTS_LEN, 'String'),
});

/** struct __user_cap_header_struct { __u32 version; int pid; } (linux/capability.h). */
export const CapHeaderStruct = koffi.struct({ version: 'uint32_t', pid: 'int' });
/** struct __user_cap_data_struct { __u32 effective, permitted, inheritable; }: version 3 takes two (caps 0-31, 32-63). */
export const CapDataStruct = koffi.struct({ effective: 'uint32_t', permitted: 'uint32_t', inheritable: 'uint32_t' });
export const _LINUX_CAPABILITY_VERSION_3 = 0x20080522;
export const CAP_DATA_COUNT = 2;

// ---- constants used by callers ----

export const SIG_DFL = 0n;
export const SIG_IGN = 1n;
export const SIG_SETMASK = 2;
/** Signals are 1..64 on Linux (_NSIG = 65). */
export const NSIG = 65;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_NOFOLLOW = 0o400000;
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
export const CLOSE_RANGE_CLOEXEC = 1 << 2;
export const PR_SET_PDEATHSIG = 1;
export const PR_GET_SECCOMP = 21;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;
export const SIGKILL = 9;
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
}

/** The three capability sets of the calling thread, one bit per capability number. */
export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

export interface Rlimit {
  soft: bigint;
  hard: bigint;
}

/** Header for capget/capset on the calling thread (pid 0), version 3. */
export function capHeader(): Buffer {
  const b = Buffer.alloc(koffi.sizeof(CapHeaderStruct));
  b.writeUInt32LE(_LINUX_CAPABILITY_VERSION_3, koffi.offsetof(CapHeaderStruct, 'version'));
  b.writeInt32LE(0, koffi.offsetof(CapHeaderStruct, 'pid'));
  return b;
}

type CapSetName = keyof CapSets;
const CAP_SET_NAMES: readonly CapSetName[] = ['effective', 'permitted', 'inheritable'];

/** Two __user_cap_data_struct: element 0 holds capabilities 0-31, element 1 holds 32-63. Native byte order (LE on x86_64/aarch64). */
export function encodeCapData(sets: CapSets): Buffer {
  const size = koffi.sizeof(CapDataStruct);
  const b = Buffer.alloc(CAP_DATA_COUNT * size);
  for (let i = 0; i < CAP_DATA_COUNT; i++) {
    for (const k of CAP_SET_NAMES) b.writeUInt32LE(Number((sets[k] >> BigInt(32 * i)) & 0xffff_ffffn), i * size + koffi.offsetof(CapDataStruct, k));
  }
  return b;
}

export function decodeCapData(b: Buffer): CapSets {
  const size = koffi.sizeof(CapDataStruct);
  const out: CapSets = { effective: 0n, permitted: 0n, inheritable: 0n };
  for (let i = 0; i < CAP_DATA_COUNT; i++) {
    for (const k of CAP_SET_NAMES) out[k] |= BigInt(b.readUInt32LE(i * size + koffi.offsetof(CapDataStruct, k))) << BigInt(32 * i);
  }
  return out;
}
