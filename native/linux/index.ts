// What the launcher, the host and native/index.ts use from the Linux backend.
export { loadLibc, syscallNumbers, SYSCALL_NUMBERS, errnoName, sysError, RLIM_INFINITY, type Libc, type Rlimit, type Utsname, type SyscallNumbers } from './libc';
export {
  applyLandlock,
  landlockAbi,
  accessBits,
  fsRightsForAbi,
  LANDLOCK_ACCESS_FS,
  LANDLOCK_FILE_ACCESS,
  type LandlockApplyResult,
} from './landlock';
export { expandCarveOuts, expandCarveOutsOnDisk, diskFs, type CarveOutFs } from './carve-outs';
export { applyRlimits, clampRlimit, RLIMIT_RESOURCE, type AppliedRlimit } from './rlimit';
export {
  installFilter,
  decodeProgram,
  notifSizes,
  actionAvailable,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_USER_NOTIF,
  type NotifSizes,
} from './seccomp-load';
export { applyAndExec, type LinuxApplyHooks } from './apply';
export { probeLinux, probeUserNamespaces, type LinuxProbe } from './capabilities';
