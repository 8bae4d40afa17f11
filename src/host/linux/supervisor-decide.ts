// The supervisor's decisions, pure: a notification's parsed arguments in, a verdict out (null = allowed).
// Network rules come from the policy's evaluate functions; file rules mirror the Landlock grants so an
// event never claims a block the kernel would not make (and vice versa).
import * as fs from 'node:fs';
import { decideAddress, decidePath, protectedPaths } from '../../policy';
import { grantsAllow } from '../../policy/grants-allow';
import type { SupervisedRun } from './supervisor-protocol';
import type { SockAddr } from '../../../native/linux/sockaddr';
import { deniedSyscallCatalog } from '../../../native/linux/seccomp';
import { SET_ID_REASON } from '../../../native/linux/seccomp/set-id-rules';
import type { Violation } from '../../policy/violation';

export interface Verdict {
  kind: Violation['kind'];
  severity: Violation['severity'];
  rule: string;
  /** "connect to 169.254.169.254:80", "write to ~/.bashrc" */
  what: string;
  why: string;
  path?: string;
  resolvedPath?: string;
  address?: string;
  port?: number;
  host?: string;
}

/** Name-service sockets every libc may try at start-up; read-only lookups, never a violation. */
const NAME_SERVICE_SOCKETS = ['/var/run/nscd/socket', '/run/nscd/socket', '/run/systemd/resolve/io.systemd.Resolve', '/run/systemd/userdb/io.systemd.Multiplexer', '/run/systemd/userdb/io.systemd.DynamicUser'];
const CRITICAL_SOCKETS = [/docker\.sock$/, /containerd\.sock$/, /podman\.sock$/, /ssh-agent|\/agent\.\d+$|S\.gpg-agent/];

function under(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith('/') ? root : root + '/');
}

/** The path with its links resolved, or itself when it does not exist. */
function physical(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

export function decideConnect(r: SupervisedRun, a: SockAddr): Verdict | null {
  if (a.family === 'inet' || a.family === 'inet6') {
    if (a.port === 53 && r.resolvers.includes(a.ip)) return null;
    // The name the address was looked up by (the policy's host lists overwrite /etc/hosts, deny names last),
    // then the one address decision every preset and the proxy share: an allowed name never skips the
    // blocked ports, metadata or local categories.
    const host = r.hostNames[a.ip];
    const d = decideAddress(r.policy, a.ip, a.port, host, { localAddresses: r.localAddresses });
    if (d.allowed) return null;
    const shown = a.family === 'inet6' ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
    return {
      kind: 'network',
      severity: /metadata/.test(d.rule) ? 'critical' : 'error',
      rule: d.rule,
      what: `connect to ${shown}${host ? ` (${host})` : ''}`,
      why: `${d.reason} (network preset ${r.policy.network.preset})`,
      address: a.ip,
      port: a.port,
      ...(host ? { host } : {}),
    };
  }
  if (a.family === 'unix' && !a.abstract && !a.unnamed) {
    const p = a.path;
    if (NAME_SERVICE_SOCKETS.includes(p)) return null;
    // p is the resolved socket file (links followed as the kernel follows them for the target), so each
    // allowed place counts as written and as resolved (a workspace under a linked /home).
    const inside = (root: string) => under(p, root) || under(p, physical(root));
    if (inside(r.policy.workspace) || inside(r.tmpDir)) return null;
    if (r.policy.network.allowUnixSockets.some(inside)) return null;
    return {
      kind: 'network',
      severity: CRITICAL_SOCKETS.some((re) => re.test(p)) ? 'critical' : 'error',
      rule: 'unix-socket-outside-workspace',
      what: `connect to unix socket ${p}`,
      why: "unix sockets outside the workspace and the run's TMPDIR (docker, ssh-agent, dbus, X11) need network.allowUnixSockets",
      address: p,
    };
  }
  return null;
}

export function decideBind(r: SupervisedRun, a: SockAddr): Verdict | null {
  if (a.family !== 'inet' && a.family !== 'inet6') return null;
  // Port 0 is a client picking a local port, not a server.
  if (a.port === 0) return null;
  const loopback = a.family === 'inet' ? a.ip.startsWith('127.') : a.ip === '::1';
  if (loopback || r.policy.profile === 'permissive') return null;
  return {
    kind: 'network',
    severity: 'error',
    rule: `serving:profile-${r.policy.profile}`,
    what: `bind to ${a.family === 'inet6' ? `[${a.ip}]` : a.ip}:${a.port}`,
    why: `profile ${r.policy.profile} allows servers on loopback only`,
    address: a.ip,
    port: a.port,
  };
}

/**
 * A run's allowed file decisions, by access, moves and resolved path: the policy's evaluation of a canonical
 * path string, which is pure for the run (its policy, grants and protected set do not change). Only what did
 * not depend on the path's existence is kept; the path walk that produced `resolved` is never cached.
 */
export class AllowedFiles {
  private readonly keys = new Set<string>();
  /** Bounded: a run touching more distinct paths than this starts over (the next misses recompute). */
  static readonly MAX = 16384;

  static key(resolved: string, access: 'read' | 'write', moves: boolean): string {
    return `${access === 'read' ? 'r' : 'w'}${moves ? 'm' : '-'}${resolved}`;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.size >= AllowedFiles.MAX) this.keys.clear();
    this.keys.add(key);
  }
}

export function decideFile(r: SupervisedRun, written: string, abs: string, resolved: string, access: 'read' | 'write', moves = false, memo?: AllowedFiles): Verdict | null {
  const key = memo ? AllowedFiles.key(resolved, access, moves) : '';
  if (memo?.has(key)) return null;
  // Existence only ever narrows the grants (a new name in a carved directory), so when they allow the path
  // as missing they allow it as present too, and the disk is not asked.
  const regardless = grantsAllow(r.grants, resolved, access, false) || under(resolved, r.tmpDir);
  // Warn mode reports what enforce would do: there a new name in a carved directory is created by the
  // emulation (supervisor-emulate.ts) when the policy allows it, as if it existed.
  const emulatedInEnforce = r.violation !== 'refuse' && r.fileTier !== undefined;
  const kernel = regardless || grantsAllow(r.grants, resolved, access, emulatedInEnforce || fs.existsSync(resolved));
  const prot = r.protected ?? protectedPaths(r.policy);
  const d = decidePath(r.policy, resolved, access, { tmpDir: r.tmpDir, protected: prot });
  if (moves) {
    // Renaming or removing an ancestor of a protected path (mv .git g; edit g/hooks; mv g .git) is
    // writing to the protected path.
    const inside = prot.find((pp) => !pp.write && pp.abs !== resolved && under(pp.abs, resolved));
    if (inside) {
      return {
        kind: 'file',
        severity: 'critical',
        rule: `protected:${inside.display}`,
        what: `move or removal of ${written}`,
        why: `it contains ${inside.display} (${inside.reason})`,
        path: written,
        resolvedPath: resolved,
      };
    }
  }
  if (kernel && d.allowed) {
    if (memo && regardless) memo.add(key);
    return null;
  }
  const protectedRule = /^protected/.test(d.rule);
  return {
    kind: 'file',
    severity: protectedRule ? 'critical' : access === 'write' ? 'error' : 'warning',
    rule: d.allowed ? 'outside-granted-paths' : d.rule,
    what: `${access} of ${written}`,
    why: d.allowed ? `${resolved} is outside what profile ${r.policy.profile} grants for ${access}` : d.reason,
    path: written,
    resolvedPath: resolved !== abs ? resolved : abs,
  };
}

export function decideDenied(r: SupervisedRun, name: string): Verdict {
  const entry = deniedSyscallCatalog().find((e) => e.syscall === name);
  const critical = /^(ptrace|process_vm_|mount|umount|kexec|init_module|finit_module|bpf|pivot_root|setns|unshare|clone)/.test(name);
  return {
    kind: 'syscall',
    severity: critical ? 'critical' : 'error',
    rule: `seccomp:deny ${name}`,
    what: name,
    why: `${entry?.reason ?? 'denied by the syscall filter'} (profile ${r.policy.profile})`,
  };
}

/** A set-user-ID or set-group-ID mode refused (native/linux/seccomp/set-id-rules.ts; openat2's is read here). */
export function setIdVerdict(call: string): Verdict {
  return { kind: 'syscall', severity: 'critical', rule: 'set-id-mode', what: call, why: SET_ID_REASON };
}
