// koffi bindings to the C library for the launcher and the mechanism modules. loadLibc()
// returns an object of bound functions; callers hold it (no module-level mutable state). Every binding that
// can fail throws a SandboxError carrying the call name and errno, read right after the call, so that callers
// only branch on `errno` where it matters (ENOENT skips a Landlock rule, ENOSYS selects a fallback, ...).
import * as os from 'node:os';
import koffi from 'koffi';
import type { TypeObject } from 'koffi';
import type { SandboxErrorCode } from '../../src/errors';
import { sysError } from './errno';
import { NSIG, SIG_SETMASK, CAP_DATA_COUNT, CapDataStruct, RlimitStruct, SIGSET_BYTES, SigactionStruct, UtsnameStruct, capHeader, decodeCapData, encodeCapData, type CapSets, type Rlimit, type Utsname } from './libc-abi';
import { openLibc } from './libc-open';
import { syscallNumbers, type SyscallNumbers } from './syscall-numbers';

// Re-exported: callers import the C interface (errno, structs, constants, syscall numbers) from this one module.
export * from './errno';
export * from './libc-abi';
export * from './syscall-numbers';

/** Bound C functions. Methods throw SandboxError (code SETUP_FAILED unless said otherwise) on failure. */
export interface Libc {
  readonly arch: string;
  readonly nr: Readonly<SyscallNumbers>;

  // Raw syscalls. Pointer arguments are Buffers holding the encoded struct (see the mechanism modules).
  /** Returns the new fd, or the ABI version with flags = LANDLOCK_CREATE_RULESET_VERSION. */
  landlockCreateRuleset(attr: Buffer | null, size: number, flags: number): number;
  landlockAddRule(rulesetFd: number, ruleType: number, attr: Buffer, flags: number): void;
  /** landlock_add_rule returning 0 or the errno instead of throwing: for a refusal the caller answers itself. */
  landlockAddRuleErrno(rulesetFd: number, ruleType: number, attr: Buffer, flags: number): number;
  landlockRestrictSelf(rulesetFd: number, flags: number): void;
  /** seccomp(op, flags, args): args is a Buffer (in or out) or null. Returns the syscall's value. */
  seccomp(op: number, flags: number, args: Buffer | null): number;
  pidfdOpen(pid: number, flags: number): number;
  pidfdGetfd(pidfd: number, targetFd: number, flags: number): number;
  pidfdSendSignal(pidfd: number, sig: number, flags: number): void;
  closeRange(first: number, last: number, flags: number): void;
  /** Mount API (Linux 5.2 / 5.12 for mount_setattr); glibc < 2.36 has no wrappers. */
  openTree(dfd: number, path: string, flags: number): number;
  moveMount(fromDfd: number, fromPath: string, toDfd: number, toPath: string, flags: number): void;
  /** attr: struct mount_attr (32 bytes: attr_set u64, attr_clr u64, propagation u64, userns_fd u64). */
  mountSetattr(dfd: number, path: string, flags: number, attr: Buffer): void;
  unshare(flags: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  socket(domain: number, type: number, protocol: number): number;
  /** ioctl with a pointer argument (the buffer is read and written by the kernel). */
  ioctlPtr(fd: number, request: number, arg: Buffer): number;

  prctl(option: number, arg2?: number, arg3?: number, arg4?: number, arg5?: number): number;
  /** capget(2) of the calling thread, version 3 (64 capability bits). */
  capget(): CapSets;
  /** capset(2) of the calling thread, version 3. */
  capset(sets: CapSets): void;
  getrlimit(resource: number): Rlimit;
  setrlimit(resource: number, limit: Rlimit): void;
  open(path: string, flags: number, mode?: number): number;
  /** openat2(dfd, path, how): how is struct open_how (24 bytes: flags u64, mode u64, resolve u64). */
  openat2(dfd: number, path: string, how: Buffer): number;
  close(fd: number): void;
  fcntl(fd: number, cmd: number, arg?: number): number;
  /** Only returns by throwing: code EXEC_FAILED, SCRIPT_NOT_FOUND or SCRIPT_NOT_EXECUTABLE by errno. */
  execve(file: string, argv: string[], envp: string[]): never;
  setsid(): number;
  getsid(pid: number): number;
  setpgid(pid: number, pgid: number): void;
  getpid(): number;
  getppid(): number;
  /** Returns the previous handler (SIG_DFL, SIG_IGN or a handler address); sets a new one when given. */
  sigaction(sig: number, handler: bigint | null): bigint;
  /** sigprocmask(SIG_SETMASK, set) with `set` a list of signal numbers; returns the previous mask's signals. */
  setSignalMask(signals: number[]): number[];
  waitpid(pid: number, options: number): { pid: number; status: number };
  kill(pid: number, sig: number): void;
  uname(): Utsname;
}

/** Throws a SandboxError when a C call reported failure (-1). errno is read before anything else runs. */
function check(call: string, ret: number | bigint): number {
  const r = Number(ret);
  if (r < 0) throw sysError(call, koffi.errno());
  return r;
}

function toBig(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

type TypeSpec = string | TypeObject | ReturnType<typeof koffi.out>;

export function loadLibc(arch: string = process.arch): Libc {
  const nr = syscallNumbers(arch);
  const lib = openLibc();
  const fn = (name: string, ret: TypeSpec, args: TypeSpec[]) => lib.func(name, ret, args);

  // syscall(2) is variadic in C; fixed-signature declarations are call-compatible on x86_64 and aarch64
  // Linux (variadic integer/pointer arguments travel in the same registers), and glibc's syscall() is an
  // assembly stub that just moves registers.
  const sys_p_sz_u32 = fn('syscall', 'long', ['long', 'void *', 'size_t', 'uint32_t']);
  const sys_i_i_p_u32 = fn('syscall', 'long', ['long', 'int', 'int', 'void *', 'uint32_t']);
  const sys_i_u32 = fn('syscall', 'long', ['long', 'int', 'uint32_t']);
  const sys_u32_u32_p = fn('syscall', 'long', ['long', 'uint32_t', 'uint32_t', 'void *']);
  const sys_i_i_u32 = fn('syscall', 'long', ['long', 'int', 'int', 'uint32_t']);
  const sys_u32_u32_u32 = fn('syscall', 'long', ['long', 'uint32_t', 'uint32_t', 'uint32_t']);
  const sys_i_s_u32 = fn('syscall', 'long', ['long', 'int', 'str', 'uint32_t']);
  const sys_i_s_i_s_u32 = fn('syscall', 'long', ['long', 'int', 'str', 'int', 'str', 'uint32_t']);
  const sys_i_s_u32_p_sz = fn('syscall', 'long', ['long', 'int', 'str', 'uint32_t', 'void *', 'size_t']);
  const sys_i_s_p_sz = fn('syscall', 'long', ['long', 'int', 'str', 'void *', 'size_t']);
  const c_unshare = fn('unshare', 'int', ['int']);
  const c_mount = fn('mount', 'int', ['str', 'str', 'str', 'ulong', 'str']);
  const c_socket = fn('socket', 'int', ['int', 'int', 'int']);
  const c_ioctl_p = fn('ioctl', 'int', ['int', 'ulong', 'void *']);

  const c_prctl = fn('prctl', 'int', ['int', 'ulong', 'ulong', 'ulong', 'ulong']);
  const c_capget = fn('capget', 'int', ['void *', 'void *']);
  const c_capset = fn('capset', 'int', ['void *', 'void *']);
  const c_getrlimit = fn('getrlimit', 'int', ['int', koffi.out(koffi.pointer(RlimitStruct))]);
  const c_setrlimit = fn('setrlimit', 'int', ['int', koffi.pointer(RlimitStruct)]);
  const c_open = fn('open', 'int', ['str', 'int', 'uint32_t']);
  const c_close = fn('close', 'int', ['int']);
  const c_fcntl = fn('fcntl', 'int', ['int', 'int', 'int']);
  const c_execve = fn('execve', 'int', ['str', koffi.pointer('str'), koffi.pointer('str')]);
  const c_setsid = fn('setsid', 'int', []);
  const c_getsid = fn('getsid', 'int', ['int']);
  const c_setpgid = fn('setpgid', 'int', ['int', 'int']);
  const c_getpid = fn('getpid', 'int', []);
  const c_getppid = fn('getppid', 'int', []);
  // Buffers, not koffi's struct conversion: the launcher reads all 64 dispositions just before exec, and
  // converting the struct (a 16-element u64 array each way) was most of each call's cost.
  const c_sigaction = fn('sigaction', 'int', ['int', 'void *', 'void *']);
  const SIGACTION_SIZE = koffi.sizeof(SigactionStruct);
  const SA_HANDLER_AT = koffi.offsetof(SigactionStruct, 'sa_handler');
  const sigOld = Buffer.alloc(SIGACTION_SIZE);
  const c_sigprocmask = fn('sigprocmask', 'int', ['int', 'void *', 'void *']);
  const c_waitpid = fn('waitpid', 'int', ['int', koffi.out(koffi.pointer('int')), 'int']);
  const c_kill = fn('kill', 'int', ['int', 'int']);
  const c_uname = fn('uname', 'int', [koffi.out(koffi.pointer(UtsnameStruct))]);

  return {
    arch,
    nr,
    landlockCreateRuleset: (attr, size, flags) =>
      check('landlock_create_ruleset', sys_p_sz_u32(nr.landlock_create_ruleset, attr, size, flags)),
    landlockAddRule(rulesetFd, ruleType, attr, flags) {
      check('landlock_add_rule', sys_i_i_p_u32(nr.landlock_add_rule, rulesetFd, ruleType, attr, flags));
    },
    landlockAddRuleErrno: (rulesetFd, ruleType, attr, flags) => (Number(sys_i_i_p_u32(nr.landlock_add_rule, rulesetFd, ruleType, attr, flags)) < 0 ? koffi.errno() : 0),
    landlockRestrictSelf(rulesetFd, flags) {
      check('landlock_restrict_self', sys_i_u32(nr.landlock_restrict_self, rulesetFd, flags));
    },
    seccomp: (op, flags, args) => check('seccomp', sys_u32_u32_p(nr.seccomp, op, flags, args)),
    pidfdOpen: (pid, flags) => check('pidfd_open', sys_i_u32(nr.pidfd_open, pid, flags)),
    pidfdGetfd: (pidfd, targetFd, flags) => check('pidfd_getfd', sys_i_i_u32(nr.pidfd_getfd, pidfd, targetFd, flags)),
    pidfdSendSignal(pidfd, sig, flags) {
      check('pidfd_send_signal', sys_i_i_p_u32(nr.pidfd_send_signal, pidfd, sig, null, flags));
    },
    closeRange(first, last, flags) {
      check('close_range', sys_u32_u32_u32(nr.close_range, first >>> 0, last >>> 0, flags >>> 0));
    },
    openTree: (dfd, p, flags) => check('open_tree', sys_i_s_u32(nr.open_tree, dfd, p, flags >>> 0)),
    moveMount(fromDfd, fromPath, toDfd, toPath, flags) {
      check('move_mount', sys_i_s_i_s_u32(nr.move_mount, fromDfd, fromPath, toDfd, toPath, flags >>> 0));
    },
    mountSetattr(dfd, p, flags, attr) {
      check('mount_setattr', sys_i_s_u32_p_sz(nr.mount_setattr, dfd, p, flags >>> 0, attr, attr.length));
    },
    unshare(flags) {
      check('unshare', c_unshare(flags));
    },
    mount(source, target, fstype, flags, data) {
      check('mount', c_mount(source, target, fstype, flags, data));
    },
    socket: (domain, type, protocol) => check('socket', c_socket(domain, type, protocol)),
    ioctlPtr: (fd, request, arg) => check('ioctl', c_ioctl_p(fd, request, arg)),

    prctl: (option, a2 = 0, a3 = 0, a4 = 0, a5 = 0) => check('prctl', c_prctl(option, a2, a3, a4, a5)),
    capget() {
      const data = Buffer.alloc(CAP_DATA_COUNT * koffi.sizeof(CapDataStruct));
      check('capget', c_capget(capHeader(), data));
      return decodeCapData(data);
    },
    capset(sets) {
      check('capset', c_capset(capHeader(), encodeCapData(sets)));
    },
    getrlimit(resource) {
      const out: { rlim_cur?: number | bigint; rlim_max?: number | bigint } = {};
      check('getrlimit', c_getrlimit(resource, out));
      return { soft: toBig(out.rlim_cur ?? 0), hard: toBig(out.rlim_max ?? 0) };
    },
    setrlimit(resource, limit) {
      check('setrlimit', c_setrlimit(resource, { rlim_cur: limit.soft, rlim_max: limit.hard }));
    },
    open: (path, flags, mode = 0) => check('open', c_open(path, flags, mode)),
    openat2: (dfd, p, how) => check('openat2', sys_i_s_p_sz(nr.openat2, dfd, p, how, how.length)),
    close(fd) {
      check('close', c_close(fd));
    },
    fcntl: (fd, cmd, arg = 0) => check('fcntl', c_fcntl(fd, cmd, arg)),
    execve(file, argv, envp) {
      c_execve(file, [...argv, null], [...envp, null]);
      // execve only returns on failure.
      const errno = koffi.errno();
      const code: SandboxErrorCode =
        errno === os.constants.errno.ENOENT || errno === os.constants.errno.ENOTDIR
          ? 'SCRIPT_NOT_FOUND'
          : errno === os.constants.errno.EACCES || errno === os.constants.errno.ENOEXEC
            ? 'SCRIPT_NOT_EXECUTABLE'
            : 'EXEC_FAILED';
      throw sysError('execve', errno, code, `execve ${file}`);
    },
    setsid: () => check('setsid', c_setsid()),
    getsid: (pid) => check('getsid', c_getsid(pid)),
    setpgid(pid, pgid) {
      check('setpgid', c_setpgid(pid, pgid));
    },
    // getpid/getppid cannot fail.
    getpid: () => c_getpid() as number,
    getppid: () => c_getppid() as number,
    sigaction(sig, handler) {
      // The new action: this handler, an empty mask, no flags, no restorer (the buffer is zeroed). The handler
      // is written little-endian, as on every architecture with a syscall table here.
      let act: Buffer | null = null;
      if (handler !== null) {
        act = Buffer.alloc(SIGACTION_SIZE);
        act.writeBigUInt64LE(BigInt.asUintN(64, handler), SA_HANDLER_AT);
      }
      sigOld.fill(0);
      check('sigaction', c_sigaction(sig, act, sigOld));
      return sigOld.readBigUInt64LE(SA_HANDLER_AT);
    },
    setSignalMask(signals) {
      const set = Buffer.alloc(SIGSET_BYTES);
      for (const s of signals) set[(s - 1) >> 3] |= 1 << ((s - 1) & 7);
      const old = Buffer.alloc(SIGSET_BYTES);
      check('sigprocmask', c_sigprocmask(SIG_SETMASK, set, old));
      const out: number[] = [];
      for (let s = 1; s < NSIG; s++) if (old[(s - 1) >> 3] & (1 << ((s - 1) & 7))) out.push(s);
      return out;
    },
    waitpid(pid, options) {
      const status = [0];
      const r = check('waitpid', c_waitpid(pid, status, options));
      return { pid: r, status: status[0] };
    },
    kill(pid, sig) {
      check('kill', c_kill(pid, sig));
    },
    uname() {
      const u: Partial<Utsname> = {};
      check('uname', c_uname(u));
      return { sysname: u.sysname ?? '', nodename: u.nodename ?? '', release: u.release ?? '', version: u.version ?? '', machine: u.machine ?? '' };
    },
  };
}
