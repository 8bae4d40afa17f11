// The policy-specific part of the namespace stage, run by the launcher after the plan arrives. The launcher
// was started by util-linux `unshare` in its own user, mount and PID namespaces and holds CAP_SYS_ADMIN over
// them (never over the host): here it takes private IPC (and network, when isolated) namespaces and turns the
// mount tree into the policy: everything read-only, the write grants given back, control files inside them
// read-only again, hidden paths covered. Only the kernel then answers chmod/write/rename on those paths.
import * as fs from 'node:fs';
import type { NamespacePlan } from '../../src/protocol/plan';
import { SandboxError } from '../../src/errors';
import { O_CLOEXEC, type Libc } from './libc';

export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWNET = 0x40000000;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOUNT_ATTR_RDONLY = 0x1;
const MOUNT_ATTR_NOSUID = 0x2;
const MOUNT_ATTR_NODEV = 0x4;
const MOUNT_ATTR_NOEXEC = 0x8;
const MS_RDONLY = 1;
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
/** struct ifreq: char ifr_name[16], then a union whose first member here is short ifr_flags; 40 bytes. */
const IFREQ_SIZE = 40;

export function applyNamespaces(libc: Libc, ns: NamespacePlan): void {
  libc.unshare(CLONE_NEWIPC | (ns.isolateNetwork ? CLONE_NEWNET : 0));
  if (ns.isolateNetwork) loopbackUp(libc);
  applyMounts(libc, ns);
}

/** A new network namespace has `lo` down: bring it up so 127.0.0.1 works inside. */
export function loopbackUp(libc: Libc): void {
  const fd = libc.socket(AF_INET, SOCK_DGRAM | O_CLOEXEC, 0);
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write('lo\0', 0, 'latin1');
    libc.ioctlPtr(fd, SIOCGIFFLAGS, ifr);
    ifr.writeInt16LE(ifr.readInt16LE(16) | IFF_UP, 16);
    libc.ioctlPtr(fd, SIOCSIFFLAGS, ifr);
  } finally {
    libc.close(fd);
  }
}

type MountOp = { kind: 'writable' | 'pinned' | 'readOnly' | 'hidden'; path: string };
const KIND_ORDER = { writable: 0, pinned: 1, readOnly: 2, hidden: 3 } as const;

/** Shallow before deep (a pin, a recursive clone, then never shadows a deeper entry); at one path, writable first so read-only or hidden wins. */
export function mountOrder(ns: NamespacePlan): MountOp[] {
  const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
  const ops: MountOp[] = [
    ...ns.writable.map((p) => ({ kind: 'writable' as const, path: p })),
    ...ns.pinned.map((p) => ({ kind: 'pinned' as const, path: p })),
    ...ns.readOnly.map((p) => ({ kind: 'readOnly' as const, path: p })),
    ...ns.hidden.map((p) => ({ kind: 'hidden' as const, path: p })),
  ];
  return ops.sort((a, b) => depth(a.path) - depth(b.path) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
}

function mountAttr(set: number): Buffer {
  // struct mount_attr { u64 attr_set; u64 attr_clr; u64 propagation; u64 userns_fd; } (MOUNT_ATTR_SIZE_VER0)
  const b = Buffer.alloc(32);
  b.writeBigUInt64LE(BigInt(set), 0);
  return b;
}

/** Names the path in a failed mount call, fail closed: a run whose mounts are not all made does not start. */
function step<T>(what: string, p: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SandboxError) throw new SandboxError('SETUP_FAILED', `namespace stage: ${what} ${p}: ${e.message}`, { call: e.call, errno: e.errno });
    throw e;
  }
}

/**
 * Write grants are cloned (recursively, each sub-mount keeping its own flags) BEFORE the whole tree is made
 * read-only, then moved back over their paths. The alternative, a bind plus clearing RDONLY, would have to
 * clear it recursively and so also on mounts the host had read-only (refused as locked in a user namespace,
 * or worse, a read-only mount made writable); a clone of the state before is exactly what the host had.
 */
export function applyMounts(libc: Libc, ns: NamespacePlan): void {
  const cloneFlags = OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE;
  const everythingWritable = ns.writable.includes('/');
  const clones = new Map<string, number>();
  try {
    // Cloned even when `/` stays writable (permissive, warn): an entry inside a read-only bind (`.git/objects`)
    // must be a clone taken before that bind, or it would come back read-only.
    for (const w of ns.writable) {
      if (w === '/' || clones.has(w)) continue;
      // A write root that does not exist stays absent (and read-only if made later).
      if (!fs.existsSync(w)) continue;
      clones.set(w, step('clone', w, () => libc.openTree(AT_FDCWD, w, cloneFlags)));
    }
    if (!everythingWritable) step('make read-only', '/', () => libc.mountSetattr(AT_FDCWD, '/', AT_RECURSIVE, mountAttr(MOUNT_ATTR_RDONLY)));
    for (const op of mountOrder(ns)) {
      if (op.kind === 'writable') {
        const fd = clones.get(op.path);
        if (fd === undefined) continue;
        clones.delete(op.path);
        step('give back read-write', op.path, () => libc.moveMount(fd, '', AT_FDCWD, op.path, MOVE_MOUNT_F_EMPTY_PATH));
        libc.close(fd);
      } else if (op.kind === 'pinned') {
        pin(libc, op.path);
      } else if (op.kind === 'readOnly') {
        bindReadOnly(libc, op.path, op.path);
      } else {
        hide(libc, op.path);
      }
    }
    if (ns.privateShm) mountPrivateShm(libc, ns.privateShm.sizeBytes);
  } finally {
    for (const fd of clones.values()) libc.close(fd);
  }
}

/** Inodes of the private /dev/shm: each costs kernel memory no limit counts, so a fixed, generous bound. */
export const PRIVATE_SHM_INODES = 16384;

/**
 * A fresh tmpfs over /dev/shm, last (over the write grant given back above): files the script leaves there
 * are held by this mount, at most `sizeBytes` (ENOSPC beyond), and the watchdog can count them with one
 * statfs through /proc/<pid>/root. Not the host's /dev/shm, so nothing of the run outlives it there.
 */
function mountPrivateShm(libc: Libc, sizeBytes: number | null): void {
  const size = sizeBytes != null ? `size=${Math.max(4096, sizeBytes)},` : '';
  step('mount private tmpfs on', '/dev/shm', () => libc.mount('tmpfs', '/dev/shm', 'tmpfs', MS_NOSUID | MS_NODEV, `${size}nr_inodes=${PRIVATE_SHM_INODES},mode=1777`));
}

/** A recursive clone of `p` moved onto itself: same files and flags, but now a mount point, which the kernel
 *  refuses to rename or remove (EBUSY). */
function pin(libc: Libc, p: string): void {
  const fd = step('clone', p, () => libc.openTree(AT_FDCWD, p, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE));
  try {
    step('pin', p, () => libc.moveMount(fd, '', AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH));
  } finally {
    libc.close(fd);
  }
}

function bindReadOnly(libc: Libc, source: string, target: string): void {
  const fd = step('clone', source, () => libc.openTree(AT_FDCWD, source, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE));
  try {
    step('make read-only', target, () => libc.mountSetattr(fd, '', AT_EMPTY_PATH | AT_RECURSIVE, mountAttr(MOUNT_ATTR_RDONLY)));
    step('bind read-only over', target, () => libc.moveMount(fd, '', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
  } finally {
    libc.close(fd);
  }
}

/** An empty read-only tmpfs over a directory; /dev/null (read-only, no exec) over a file. */
function hide(libc: Libc, p: string): void {
  const st = step('stat', p, () => {
    try {
      return fs.statSync(p);
    } catch (e) {
      throw new SandboxError('SETUP_FAILED', `${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { call: 'stat' });
    }
  });
  if (st.isDirectory()) {
    step('hide', p, () => libc.mount('tmpfs', p, 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=4k,nr_inodes=1,mode=0555'));
    return;
  }
  const fd = step('clone', '/dev/null', () => libc.openTree(AT_FDCWD, '/dev/null', OPEN_TREE_CLONE | O_CLOEXEC));
  try {
    const attr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV;
    step('make read-only', p, () => libc.mountSetattr(fd, '', AT_EMPTY_PATH, mountAttr(attr)));
    step('hide', p, () => libc.moveMount(fd, '', AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH));
  } finally {
    libc.close(fd);
  }
}

/**
 * A private devpts instance over /dev/pts and its ptmx bound over /dev/ptmx: the ptys the script makes live
 * there, and the host's (every other session's terminal) are no longer reachable by any path. Run after the
 * run's own terminal is attached (it is a slave of the host's instance, opened by that path). devpts may be
 * mounted in a user namespace (FS_USERNS_MOUNT); `gid=` is left out, the tty group is not mapped here.
 * Throws the first failure; the caller falls back to the exact-path grants.
 */
export function mountPrivateDevpts(libc: Libc): void {
  step('mount devpts on', '/dev/pts', () => libc.mount('devpts', '/dev/pts', 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620'));
  const fd = step('clone', '/dev/pts/ptmx', () => libc.openTree(AT_FDCWD, '/dev/pts/ptmx', OPEN_TREE_CLONE | O_CLOEXEC));
  try {
    step('bind /dev/pts/ptmx over', '/dev/ptmx', () => libc.moveMount(fd, '', AT_FDCWD, '/dev/ptmx', MOVE_MOUNT_F_EMPTY_PATH));
  } finally {
    libc.close(fd);
  }
}
