// The sandbox's syscall policy: a deny list over a default of ALLOW. Landlock and resource limits confine what
// allowed calls can reach; this list removes calls that escape or weaken those (namespaces, mounts, other
// processes' memory, kernel code and state) and that must hold for uid 0 too.
import { isKnownSyscall, type SeccompArch } from './arch';
import { setIdModeRules } from './set-id-rules';
import { ALLOW, NOTIFY, arg32, arg64, errno, rule, type ArgCondition, type FilterSpec, type SeccompAction, type SeccompRule } from './dsl';

/** Calls the supervisor decides through user notifications (it handles exactly these syscall names). */
export interface MonitorOptions {
  /** connect, bind, sendto with an address, sendmsg, sendmmsg. */
  network: boolean;
  /** Opens for writing or creating, creat, openat2, and unlink/rmdir/mkdir/rename and their *at forms. */
  fileWrites: boolean;
  /** Every open (implies the opens of fileWrites). */
  fileReads: boolean;
}

export interface SyscallFilterOptions {
  arch: SeccompArch;
  /** 'none': AF_INET and AF_INET6 sockets cannot be created at all. */
  network: 'none' | 'inet';
  /** Keep ptrace, process_vm_readv and process_vm_writev (debuggers). */
  allowPtrace: boolean;
  /** More syscalls to deny outright, by name. A name unknown on every arch is an error. */
  extraDeny: string[];
  /** What a denied call gets: normally errno EPERM; 'notify' sends it to the supervisor, 'log' only records it. */
  denyAction: SeccompAction;
  /** Calls to hand to the supervisor for a decision; null or absent: none. */
  monitor?: MonitorOptions | null;
  /**
   * Deny the metadata calls Landlock does not cover (chmod, chown, xattrs, timestamps; path and fd forms).
   * For the tier without a private mount namespace, where read-only mounts cannot keep them off protected
   * files the script owns. Absent: false.
   */
  metadataLocked?: boolean;
  /** With metadataLocked: refuse those calls (EPERM; xattrs EOPNOTSUPP) whatever the deny action: warn never relaxes
   *  the integrity set, and in this tier nothing else keeps chmod +x off a dormant hook. Absent: false. */
  metadataAlwaysRefused?: boolean;
  /** With metadataLocked and the notify deny action: chmod, chown and utimes (PERFORMED_METADATA_CALLS) notify in
   *  warn mode too; the supervisor performs or refuses each (metadataAlwaysRefused: xattrs only). Absent: false. */
  metadataPerformed?: boolean;
  /**
   * Deny SysV IPC (shared memory, message queues, semaphores) with the deny action. For the tier without an
   * IPC namespace, where these calls would reach the host's segments of the same uid ('no-namespace'), and for
   * a memory limit no cgroup keeps, since detached segments are memory no process holds ('uncounted-memory').
   * Absent: false.
   */
  ipcLocked?: false | 'no-namespace' | 'uncounted-memory';
}

export const EPERM = 1;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95; // an xattr refused as on a filesystem without them: cp -p then uses chmod, not an ACL
const CLONE_NEWTIME = 0x00000080;
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
/** Namespace bits of clone(). CLONE_NEWTIME (0x80) is not among them: clone's low byte is the exit signal. */
export const CLONE_NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
/** Namespace bits of unshare(), which does accept CLONE_NEWTIME. */
export const UNSHARE_NAMESPACE_FLAGS = CLONE_NAMESPACE_FLAGS | CLONE_NEWTIME;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
const SOCK_TYPE_MASK = 0xf;
const SOCK_RAW = 3;
const SOCK_PACKET = 10;

const PRIO_PROCESS = 0;
const IOPRIO_WHO_PROCESS = 1;

const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

const PER_LINUX = 0;
const PER_LINUX32 = 0x0008;
const PERSONALITY_QUERY = 0xffffffff;

/** O_ACCMODE | O_CREAT | O_TRUNC: the open flags that make an open a write (same on x86_64 and aarch64). */
const OPEN_WRITE_FLAGS = 0x3 | 0x40 | 0x200;

/**
 * Calls that act on another process named by a pid argument (arg 0, a pid_t): allowed only on the caller
 * itself (pid 0). A script once set the host's open-file limit to 20 with prlimit64. The kernel lets any
 * process of the same uid do this, so only the filter can keep the host and the user's other processes out.
 * `readOnly`: the call with a NULL pointer at that argument changes nothing and stays allowed.
 */
const FOREIGN_PID_CALLS: readonly Readonly<{ syscall: string; reason: string; readOnly?: 1 | 2 | 3 }>[] = Object.freeze([
  { syscall: 'prlimit64', reason: "prlimit64: change another process's resource limits", readOnly: 2 },
  { syscall: 'sched_setaffinity', reason: "sched_setaffinity: change another process's CPU affinity" },
  { syscall: 'sched_setscheduler', reason: "sched_setscheduler: change another process's scheduling" },
  { syscall: 'sched_setparam', reason: "sched_setparam: change another process's scheduling" },
  { syscall: 'sched_setattr', reason: "sched_setattr: change another process's scheduling" },
  { syscall: 'migrate_pages', reason: "migrate_pages: move another process's memory" },
  { syscall: 'move_pages', reason: "move_pages: move another process's memory" },
  // which/who pairs: only (PRIO_PROCESS | IOPRIO_WHO_PROCESS, 0), the caller itself, passes.
  { syscall: 'setpriority', reason: 'setpriority: change the priority of other processes, a process group or a user' },
  { syscall: 'ioprio_set', reason: 'ioprio_set: change the I/O priority of other processes, a process group or a user' },
]);

/** Metadata calls the fallback tier's supervisor performs itself (metadataPerformed; supervisor-metadata.ts). */
export const PERFORMED_METADATA_CALLS: readonly string[] = Object.freeze(['chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'fchown', 'lchown', 'fchownat', 'utime', 'utimes', 'futimesat', 'utimensat']);
/** Metadata calls Landlock does not mediate (denied with metadataLocked). */
export const METADATA_CALLS: readonly string[] = Object.freeze([
  'chmod', 'fchmod', 'fchmodat', 'fchmodat2',
  'chown', 'fchown', 'lchown', 'fchownat',
  'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat',
  'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
  'utime', 'utimes', 'futimesat', 'utimensat',
  'file_setattr',
]);

/** SysV IPC calls (denied with ipcLocked); i386's ipc() multiplexer is already killed with the foreign arches. */
const SYSV_IPC_CALLS: readonly string[] = Object.freeze([
  'shmget', 'shmat', 'shmctl', 'shmdt',
  'msgget', 'msgsnd', 'msgrcv', 'msgctl',
  'semget', 'semop', 'semtimedop', 'semctl',
]);

/** One entry per syscall the profile can deny; reasons read "name: what it would let a script do". */
const CATALOG: readonly Readonly<{ syscall: string; reason: string }>[] = Object.freeze(
  [
  { syscall: 'ptrace', reason: 'ptrace: inspect or control other processes' },
  { syscall: 'process_vm_readv', reason: "process_vm_readv: read another process's memory" },
  { syscall: 'process_vm_writev', reason: "process_vm_writev: write another process's memory" },
  { syscall: 'mount', reason: 'mount: change the filesystem layout' },
  { syscall: 'umount2', reason: 'umount2: remove mounts' },
  { syscall: 'pivot_root', reason: 'pivot_root: replace the root filesystem' },
  { syscall: 'move_mount', reason: 'move_mount: change the filesystem layout' },
  { syscall: 'open_tree', reason: 'open_tree: clone mounts' },
  { syscall: 'open_tree_attr', reason: 'open_tree_attr: clone mounts with new attributes' },
  { syscall: 'fsopen', reason: 'fsopen: create a filesystem for mounting' },
  { syscall: 'fsconfig', reason: 'fsconfig: configure a filesystem for mounting' },
  { syscall: 'fsmount', reason: 'fsmount: create a mount' },
  { syscall: 'fspick', reason: 'fspick: reconfigure a mounted filesystem' },
  { syscall: 'mount_setattr', reason: 'mount_setattr: change mount attributes (e.g. make read-only mounts writable)' },
  { syscall: 'chroot', reason: 'chroot: change the root directory' },
  { syscall: 'setns', reason: 'setns: enter other namespaces' },
  { syscall: 'unshare', reason: 'unshare: create namespaces' },
  { syscall: 'clone', reason: 'clone: create namespaces' },
  { syscall: 'clone3', reason: 'clone3: its flags are out of the filter\'s reach; answered ENOSYS so libc falls back to clone' },
  { syscall: 'kexec_load', reason: 'kexec_load: load a new kernel' },
  { syscall: 'kexec_file_load', reason: 'kexec_file_load: load a new kernel' },
  { syscall: 'init_module', reason: 'init_module: load kernel modules' },
  { syscall: 'finit_module', reason: 'finit_module: load kernel modules' },
  { syscall: 'delete_module', reason: 'delete_module: unload kernel modules' },
  { syscall: 'bpf', reason: 'bpf: load eBPF programs into the kernel' },
  { syscall: 'perf_event_open', reason: 'perf_event_open: observe other processes and the kernel' },
  { syscall: 'userfaultfd', reason: 'userfaultfd: stall the kernel on page faults (exploit primitive)' },
  { syscall: 'io_uring_setup', reason: 'io_uring_setup: io_uring performs I/O the syscall filter cannot see' },
  { syscall: 'io_uring_enter', reason: 'io_uring_enter: io_uring performs I/O the syscall filter cannot see' },
  { syscall: 'io_uring_register', reason: 'io_uring_register: io_uring performs I/O the syscall filter cannot see' },
  { syscall: 'keyctl', reason: 'keyctl: use the kernel keyrings (shared beyond the sandbox)' },
  { syscall: 'add_key', reason: 'add_key: use the kernel keyrings (shared beyond the sandbox)' },
  { syscall: 'request_key', reason: 'request_key: use the kernel keyrings (shared beyond the sandbox)' },
  { syscall: 'reboot', reason: 'reboot: reboot or halt the machine' },
  { syscall: 'swapon', reason: 'swapon: change swap devices' },
  { syscall: 'swapoff', reason: 'swapoff: change swap devices' },
  { syscall: 'acct', reason: 'acct: switch process accounting' },
  { syscall: 'settimeofday', reason: 'settimeofday: set the system clock' },
  { syscall: 'clock_settime', reason: 'clock_settime: set the system clock' },
  { syscall: 'clock_adjtime', reason: 'clock_adjtime: adjust the system clock' },
  { syscall: 'adjtimex', reason: 'adjtimex: adjust the system clock' },
  { syscall: 'iopl', reason: 'iopl: access hardware I/O ports' },
  { syscall: 'ioperm', reason: 'ioperm: access hardware I/O ports' },
  { syscall: 'syslog', reason: 'syslog: read or clear the kernel log' },
  { syscall: 'quotactl', reason: 'quotactl: change disk quotas' },
  { syscall: 'quotactl_fd', reason: 'quotactl_fd: change disk quotas' },
  { syscall: 'open_by_handle_at', reason: 'open_by_handle_at: open files by handle, bypassing path checks' },
  { syscall: 'name_to_handle_at', reason: 'name_to_handle_at: obtain file handles for open_by_handle_at' },
  { syscall: 'personality', reason: 'personality: change the execution domain (e.g. disable address randomisation)' },
  { syscall: 'ioctl', reason: 'ioctl: TIOCSTI/TIOCLINUX inject input into the terminal' },
  { syscall: 'socket', reason: 'socket: address family or socket type not allowed (raw, packet, netlink other than route, or inet/inet6/netlink with the network off)' },
  { syscall: 'socketpair', reason: 'socketpair: only unix socket pairs are allowed' },
  { syscall: 'sethostname', reason: 'sethostname: rename the machine' },
  { syscall: 'setdomainname', reason: 'setdomainname: rename the machine\'s NIS domain' },
  { syscall: 'vhangup', reason: 'vhangup: hang up the terminal' },
  { syscall: 'uselib', reason: 'uselib: obsolete library loader' },
  { syscall: 'lookup_dcookie', reason: 'lookup_dcookie: obsolete profiling interface' },
  { syscall: 'vm86', reason: 'vm86: obsolete virtual 8086 mode' },
  { syscall: 'vm86old', reason: 'vm86old: obsolete virtual 8086 mode' },
  { syscall: 'nfsservctl', reason: 'nfsservctl: obsolete NFS server control' },
  { syscall: 'kcmp', reason: 'kcmp: compare kernel objects of other processes' },
  { syscall: 'pidfd_getfd', reason: "pidfd_getfd: take file descriptors from another process" },
  { syscall: 'fanotify_init', reason: 'fanotify_init: watch filesystem activity system-wide' },
  { syscall: 'process_madvise', reason: "process_madvise: change another process's memory" },
  { syscall: 'memfd_secret', reason: 'memfd_secret: memory hidden from the kernel and every inspection' },
  ...FOREIGN_PID_CALLS.map((c) => ({ syscall: c.syscall, reason: c.reason })),
  ...METADATA_CALLS.map((syscall) => ({ syscall, reason: `${syscall}: change file permissions, owners, extended attributes or times (Landlock does not cover these)` })),
  ].map((e) => Object.freeze(e)),
);

const PTRACE_FAMILY: readonly string[] = Object.freeze(['ptrace', 'process_vm_readv', 'process_vm_writev']);

/** Denied whatever their arguments (besides the ptrace family, which allowPtrace lifts). */
const ALWAYS_DENIED: readonly string[] = Object.freeze([
  'mount',
  'umount2',
  'pivot_root',
  'move_mount',
  'open_tree',
  'open_tree_attr',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  'chroot',
  'setns',
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'keyctl',
  'add_key',
  'request_key',
  'reboot',
  'swapon',
  'swapoff',
  'acct',
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'iopl',
  'ioperm',
  'syslog',
  'quotactl',
  'quotactl_fd',
  'open_by_handle_at',
  'name_to_handle_at',
  'sethostname',
  'setdomainname',
  'vhangup',
  'uselib',
  'lookup_dcookie',
  'vm86',
  'vm86old',
  'nfsservctl',
  'kcmp',
  'pidfd_getfd',
  'fanotify_init',
  'process_madvise',
  'memfd_secret',
]);

/** Every syscall the profile may deny, with why: for violation explanations and documentation. */
export function deniedSyscallCatalog(): { syscall: string; reason: string }[] {
  return CATALOG.map((e) => ({ ...e }));
}

function reasonOf(syscall: string): string {
  return CATALOG.find((e) => e.syscall === syscall)?.reason ?? `${syscall}: denied by the sandbox policy`;
}

function socketRules(network: 'none' | 'inet', deny: SeccompAction): SeccompRule[] {
  const family = arg32(0);
  const type = arg32(1);
  const rules: SeccompRule[] = [
    rule('socket', deny, 'socket: address family other than unix, inet, inet6 and netlink', [
      family.ne(AF_UNIX),
      family.ne(AF_INET),
      family.ne(AF_INET6),
      family.ne(AF_NETLINK),
    ]),
  ];
  // Netlink route sockets show the host's interfaces, addresses and routes: off with the network.
  if (network === 'none') rules.push(rule('socket', deny, 'socket: netlink sockets (the network is off)', [family.eq(AF_NETLINK)]));
  for (const af of [AF_INET, AF_INET6]) {
    const name = af === AF_INET ? 'inet' : 'inet6';
    if (network === 'none') {
      rules.push(rule('socket', deny, `socket: ${name} sockets (the network is off)`, [family.eq(af)]));
      continue;
    }
    // SOCK_PACKET on AF_INET is turned into AF_PACKET by the kernel: a packet socket under another name.
    rules.push(rule('socket', deny, `socket: raw ${name} sockets (craft or sniff packets)`, [family.eq(af), type.maskedEq(SOCK_TYPE_MASK, SOCK_RAW)]));
    rules.push(rule('socket', deny, `socket: ${name} SOCK_PACKET sockets (sniff packets)`, [family.eq(af), type.maskedEq(SOCK_TYPE_MASK, SOCK_PACKET)]));
  }
  rules.push(rule('socket', deny, 'socket: netlink protocols other than NETLINK_ROUTE', [family.eq(AF_NETLINK), arg32(2).ne(NETLINK_ROUTE)]));
  return rules;
}

/**
 * EPERM in every mode, whatever the deny action: like the foreign-architecture kill these protect the host
 * (its limits and scheduling), not a policy, so warn mode's "notify and continue" or "log" must not apply. In
 * the tier without a PID namespace the host is a pid the script can name.
 */
function foreignPidRules(): SeccompRule[] {
  const deny = errno(EPERM);
  const rules: SeccompRule[] = [];
  for (const c of FOREIGN_PID_CALLS) {
    if (c.syscall === 'setpriority' || c.syscall === 'ioprio_set') {
      // which and who are ints; `who` 0 means the caller only together with the per-process `which`.
      const self = c.syscall === 'setpriority' ? PRIO_PROCESS : IOPRIO_WHO_PROCESS;
      rules.push(rule(c.syscall, deny, c.reason, [arg32(0).ne(self)]));
      rules.push(rule(c.syscall, deny, c.reason, [arg32(1).ne(0)]));
      continue;
    }
    // pid_t is an int: the low word is what the kernel reads.
    const when = [arg32(0).ne(0)];
    if (c.readOnly !== undefined) when.push(arg64(c.readOnly).ne(0));
    rules.push(rule(c.syscall, deny, c.reason, when));
  }
  return rules;
}

function monitorRules(m: MonitorOptions): SeccompRule[] {
  const out: SeccompRule[] = [];
  const watch = (syscall: string, reason: string, when?: ArgCondition[]): void => void out.push(rule(syscall, NOTIFY, reason, when));
  if (m.network) {
    watch('connect', 'connect: destination checked by the supervisor');
    watch('bind', 'bind: address checked by the supervisor');
    // sendto with a NULL dest_addr sends on a connected socket, whose address connect already had checked.
    watch('sendto', 'sendto: destination checked by the supervisor', [arg64(4).ne(0)]);
    watch('sendmsg', 'sendmsg: destination checked by the supervisor');
    watch('sendmmsg', 'sendmmsg: destinations checked by the supervisor');
  }
  if (m.fileReads) {
    for (const s of ['open', 'openat', 'openat2', 'creat']) watch(s, `${s}: path checked by the supervisor`);
  } else if (m.fileWrites) {
    // open/openat flags are int: the low word is what the kernel uses. openat2 keeps its flags in memory.
    watch('open', 'open: path checked by the supervisor (write)', [arg32(1).maskedAny(OPEN_WRITE_FLAGS)]);
    watch('openat', 'openat: path checked by the supervisor (write)', [arg32(2).maskedAny(OPEN_WRITE_FLAGS)]);
    watch('openat2', 'openat2: path checked by the supervisor');
    watch('creat', 'creat: path checked by the supervisor');
  }
  if (m.fileWrites) {
    // link/linkat too: a hard link to a protected file would be a second, unprotected name for it. symlink
    // and mknod: in a carved directory the supervisor makes links and FIFOs itself (supervisor-emulate-make).
    for (const s of ['unlink', 'unlinkat', 'rmdir', 'mkdir', 'mkdirat', 'rename', 'renameat', 'renameat2', 'link', 'linkat', 'truncate', 'symlink', 'symlinkat', 'mknod', 'mknodat']) {
      watch(s, `${s}: path checked by the supervisor`);
    }
  }
  return out;
}

/** The profile's FilterSpec for one arch. Throws on an unknown name in extraDeny. */
export function buildProfileFilter(o: SyscallFilterOptions): FilterSpec {
  const unknown = o.extraDeny.filter((n) => !isKnownSyscall(n));
  if (unknown.length) throw new Error(`extraDeny: unknown syscall${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}`);
  const deny = o.denyAction;
  const rules: SeccompRule[] = [];
  const denyAll = (syscall: string): void => void rules.push(rule(syscall, deny, reasonOf(syscall)));

  if (!o.allowPtrace) PTRACE_FAMILY.forEach(denyAll);
  ALWAYS_DENIED.forEach(denyAll);

  // unshare flags are checked on the low word: ksys_unshare() refuses any other bit with EINVAL anyway.
  rules.push(rule('unshare', deny, 'unshare: create namespaces', [arg32(0).maskedAny(UNSHARE_NAMESPACE_FLAGS)]));
  // clone flags are an unsigned long; the namespace bits all sit in the low word (the kernel uses only it).
  rules.push(rule('clone', deny, 'clone: create namespaces', [arg64(0).maskedAny(CLONE_NAMESPACE_FLAGS)]));
  // clone3 passes its flags in a struct in memory, which BPF cannot read, so it cannot be filtered by flags.
  // ENOSYS (not EPERM) makes glibc and other runtimes fall back to clone, whose flags the rule above checks.
  rules.push(rule('clone3', errno(ENOSYS), 'clone3: flags unreadable by the filter; ENOSYS makes libc use clone'));

  // personality takes an unsigned int. Allowed: PER_LINUX, PER_LINUX32 and the 0xffffffff query.
  const persona = arg32(0);
  rules.push(rule('personality', deny, reasonOf('personality'), [persona.ne(PER_LINUX), persona.ne(PER_LINUX32), persona.ne(PERSONALITY_QUERY)]));

  // ioctl's cmd is an unsigned int: only the low word counts, or high bits would slip TIOCSTI past the check.
  rules.push(rule('ioctl', deny, 'ioctl: TIOCSTI injects input into the terminal', [arg32(1).eq(TIOCSTI)]));
  rules.push(rule('ioctl', deny, 'ioctl: TIOCLINUX can inject input into the console', [arg32(1).eq(TIOCLINUX)]));

  rules.push(...socketRules(o.network, deny));
  rules.push(...foreignPidRules(), ...setIdModeRules(errno(EPERM)));
  if (o.metadataLocked) {
    const metaDeny = (c: string) => (o.metadataAlwaysRefused ? errno(c.includes('xattr') ? EOPNOTSUPP : EPERM) : deny);
    const performed = (c: string) => o.metadataPerformed === true && deny.kind === 'notify' && PERFORMED_METADATA_CALLS.includes(c);
    METADATA_CALLS.forEach((c) => void rules.push(rule(c, performed(c) ? deny : metaDeny(c), reasonOf(c))));
  }
  if (o.ipcLocked) {
    const why = o.ipcLocked === 'no-namespace' ? "SysV IPC reaches the host's segments without an IPC namespace" : 'SysV IPC holds memory the memory limit cannot count without a cgroup';
    SYSV_IPC_CALLS.forEach((c) => void rules.push(rule(c, deny, `${c}: ${why}`)));
  }
  rules.push(rule('socketpair', deny, reasonOf('socketpair'), [arg32(0).ne(AF_UNIX)]));

  // After the built-in rules, so a listed clone3 keeps its ENOSYS (an EPERM would break thread creation).
  for (const name of [...new Set(o.extraDeny)]) {
    const known = CATALOG.some((e) => e.syscall === name);
    rules.push(rule(name, deny, known ? reasonOf(name) : `${name}: denied by the policy's extraDeny list`));
  }

  if (o.monitor) rules.push(...monitorRules(o.monitor));

  return { arch: o.arch, defaultAction: ALLOW, rules };
}
