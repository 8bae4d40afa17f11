// compile: ResolvedPolicy + run request → LinuxPlan. Pure except for reading directories to turn
// "everything under X but not Y" into concrete Landlock rules (Landlock can only grant).
import * as path from 'node:path';
import type { ResolvedPolicy } from '../../src/policy/schema';
import { ALWAYS_PROTECTED, SYSTEM_PATHS } from '../../src/policy/presets';
import type { LandlockAccess, LandlockPlan, LandlockRule, LinuxPlan, NamespacePlan, RlimitSpec } from '../plan';
import { gitHooksPaths, namespacePlanFor, uncoveredProtected } from './namespace-plan';
import { buildProfileFilter, compileFilter, encodeFilter } from './seccomp';
import type { SeccompAction, SeccompArch } from './seccomp';

export const READ_RIGHTS: LandlockAccess[] = ['execute', 'read_file', 'read_dir'];
export const WRITE_RIGHTS: LandlockAccess[] = [
  'write_file',
  'remove_dir',
  'remove_file',
  'make_dir',
  'make_reg',
  'make_sock',
  'make_fifo',
  'make_sym',
  'refer',
  'truncate',
];
const ALL_RIGHTS: LandlockAccess[] = [...READ_RIGHTS, ...WRITE_RIGHTS, 'make_char', 'make_block', 'ioctl_dev'];

/** Device nodes a script needs; /dev as a whole is never granted (raw disks would bypass every path rule). */
const DEV_READ_WRITE = ['/dev/null', '/dev/zero', '/dev/full', '/dev/tty', '/dev/pts', '/dev/ptmx'];
// /dev/fd and /dev/std* are links into /proc/self/fd (covered by /proc); a rule on them would land on
// whatever the launcher's fds are (pipes), which Landlock rejects with EBADFD.
const DEV_READ_ONLY = ['/dev/random', '/dev/urandom'];
/** Always readable: kernel interfaces the runtime of nearly every language reads. Writes stay denied. */
const KERNEL_READ = ['/proc', '/sys'];

export interface CompileRequest {
  runId: string;
  file: string; // absolute program path
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Per-run private temp dir, always writable. */
  tmpDir: string;
  /** Extra read+execute roots for the interpreter (e.g. ~/.pyenv), computed by the host. */
  toolRoots: string[];
  arch: SeccompArch;
  /** Extra rlimit for the process count (RLIMIT_NPROC) when no cgroup holds it; null = none. */
  nprocLimit: number | null;
  /** A supervisor will take the seccomp listener: deny-list and monitored calls notify it. */
  listener: boolean;
  /** The launcher runs in its own user/mount/PID namespaces (namespace tier); false = fallback tier. */
  namespaces?: boolean;
}

export interface Grant {
  access: LandlockAccess[];
  paths: string[];
  except: string[];
}

/**
 * What the policy grants, as path sets with exceptions. Pure.
 *
 * Reads: Landlock carves secrets out of what is readable (the expansion replaces an ancestor's rule by rules
 * on its other children). Writes: carving a path out of a writable directory would also take away the
 * right to create files in that directory, so protected paths *inside* writable areas (.git/hooks, .vscode,
 * rc files when home is the workspace) are guarded by the seccomp supervisor instead, which denies on its
 * own copy of the path. Without a supervisor (no user notifications) they fall back to Landlock carve-outs.
 * The supervisor is never the only guard: in the fallback tier (no namespaces) they are carve-outs too; in the
 * namespace tier (`namespaces` given) read-only mounts hold them, and what the mounts do not cover (missing
 * entries without a placeholder) stays a carve-out. A user's denyWrite glob is carved out by its literal
 * prefix only without a supervisor (with one, `**\/*.env` would otherwise take the whole workspace away);
 * with a supervisor only literal denyWrite paths are carve-outs.
 */
export function landlockGrants(
  p: ResolvedPolicy,
  req: Pick<CompileRequest, 'tmpDir' | 'toolRoots' | 'file'> & { listener?: boolean; namespaces?: NamespacePlan | null },
): Grant[] {
  const fs = p.filesystem;
  const secretCarveOuts = protectedPaths(p, 'read');
  const readCarveOuts = [...secretCarveOuts, ...staticPaths(fs.denyRead), '/dev'];
  const writeCarveOuts = [
    ...SYSTEM_PATHS,
    ...readCarveOuts,
    ...(req.listener && req.namespaces
      ? uncoveredProtected(req.namespaces, protectedPaths(p, 'write'))
      : [...protectedPaths(p, 'write'), ...hooksPathsIfGitProtected(p), ...(req.listener ? literalPaths(fs.denyWrite) : staticPaths(fs.denyWrite))]),
  ];

  const readRoots = fs.readEverywhere
    ? ['/']
    : [...SYSTEM_PATHS, p.workspace, ...req.toolRoots, path.dirname(req.file), ...staticPaths(fs.allowRead)];
  const writeRoots = fs.readOnly
    ? []
    : fs.writeOutsideSystem
      ? ['/']
      : [p.workspace, ...staticPaths(fs.allowWrite), ...(p.profile === 'strict' ? [] : ['/tmp', '/dev/shm'])];

  return [
    { access: READ_RIGHTS, paths: dedupe(readRoots), except: dedupe(readCarveOuts) },
    { access: [...READ_RIGHTS, ...WRITE_RIGHTS], paths: dedupe(writeRoots), except: dedupe(writeCarveOuts) },
    // The private temp dir and device nodes are granted explicitly, under no exception.
    { access: [...READ_RIGHTS, ...WRITE_RIGHTS], paths: [req.tmpDir], except: [] },
    { access: ['read_file', 'write_file', 'read_dir', 'ioctl_dev', 'truncate'], paths: DEV_READ_WRITE, except: [] },
    { access: ['read_file', 'read_dir'], paths: DEV_READ_ONLY, except: [] },
    { access: READ_RIGHTS, paths: KERNEL_READ, except: secretCarveOuts },
  ];
}

/** Protected paths that the policy does not unlock by naming them in an allow list. */
function protectedPaths(p: ResolvedPolicy, access: 'read' | 'write'): string[] {
  const named = access === 'read' ? p.filesystem.allowRead : p.filesystem.allowWrite;
  return ALWAYS_PROTECTED.filter((e) => (access === 'read' ? !e.read : !e.write))
    .map((e) => expandEntry(e.path, p))
    .filter((abs) => !named.some((g) => g === abs || g.startsWith(abs + '/')));
}

/** core.hooksPath dirs, protected like .git/hooks unless .git/hooks is unlocked. */
function hooksPathsIfGitProtected(p: ResolvedPolicy): string[] {
  return protectedPaths(p, 'write').includes(path.join(p.workspace, '.git/hooks')) ? gitHooksPaths(p.workspace, p.home) : [];
}

function expandEntry(entry: string, p: ResolvedPolicy): string {
  if (entry.startsWith('~/')) return path.join(p.home, entry.slice(2));
  if (entry.startsWith('/')) return entry;
  return path.join(p.workspace, entry);
}

/** The path part of a glob before its first wildcard, for Landlock (which knows no globs). */
export function staticPaths(globs: string[]): string[] {
  const out: string[] = [];
  for (const g of globs) {
    const parts = g.split('/');
    const idx = parts.findIndex((s) => /[*?[\]{}!]/.test(s));
    const prefix = idx === -1 ? g : parts.slice(0, idx).join('/') || '/';
    out.push(prefix);
  }
  return out;
}

/** Globs without any wildcard: plain paths. */
function literalPaths(globs: string[]): string[] {
  return globs.filter((g) => !/[*?[\]{}!]/.test(g));
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs.map((x) => (x.length > 1 ? x.replace(/\/+$/, '') : x)))];
}

export type ExpandFn = (rules: LandlockRule[], carveOuts: string[]) => LandlockRule[];

export function landlockPlan(grants: Grant[], expand: ExpandFn, scopes: LandlockPlan['scopes']): LandlockPlan {
  const rules: LandlockRule[] = [];
  for (const g of grants) {
    const base = g.paths.map((p) => ({ path: p, access: g.access }));
    rules.push(...(g.except.length ? expand(base, g.except) : base));
    // The expansion leaves the carve-outs' ancestors unlistable (`ls ~`, `ls /etc` would fail). Listing them
    // again reveals names, never contents: READ_FILE stays off for the carve-outs.
    if (g.except.length && g.access.includes('read_dir')) {
      for (const c of g.except) {
        for (let a = path.dirname(c); ; a = path.dirname(a)) {
          if (g.paths.some((root) => a === root || a.startsWith(root === '/' ? '/' : root + '/'))) rules.push({ path: a, access: ['read_dir'] });
          if (a === '/') break;
        }
      }
    }
  }
  return { handled: ALL_RIGHTS, rules, carveOuts: [], scopes };
}

export function rlimitsFor(p: ResolvedPolicy, nprocLimit: number | null): RlimitSpec[] {
  const l = p.limits;
  const out: RlimitSpec[] = [{ resource: 'core', soft: 0, hard: 0 }];
  // CPU: the soft limit sends SIGXCPU (reported), the hard limit one second later SIGKILL.
  if (l.cpuSeconds != null) out.push({ resource: 'cpu', soft: l.cpuSeconds, hard: l.cpuSeconds + 1 });
  if (l.fileSizeMiB != null) out.push({ resource: 'fsize', soft: l.fileSizeMiB * 1024 * 1024, hard: l.fileSizeMiB * 1024 * 1024 });
  if (l.openFiles != null) out.push({ resource: 'nofile', soft: l.openFiles, hard: l.openFiles });
  if (nprocLimit != null) out.push({ resource: 'nproc', soft: nprocLimit, hard: nprocLimit });
  return out;
}

export interface CompileDeps {
  expand: ExpandFn;
}

export function compileLinuxPlan(p: ResolvedPolicy, req: CompileRequest, deps: CompileDeps): LinuxPlan {
  const sandboxed = p.mode !== 'disabled';
  const enforce = p.mode === 'enforce';
  const listener = sandboxed && req.listener;
  // enforce: the kernel blocks (Landlock, BPF); with a listener the deny list goes through the supervisor,
  // which answers EPERM and reports the syscall by name. warn: nothing is blocked; the filter only notifies
  // (or logs, without a listener) and the supervisor lets every call continue, reporting would-be blocks.
  // The foreign-architecture kill stays in every mode: it is not a policy, it is the filter's integrity.
  const denyAction: SeccompAction = listener ? { kind: 'notify' } : enforce ? { kind: 'errno', errno: 1 } : { kind: 'log' };
  const seccomp = sandboxed
    ? {
        program: encodeFilter(
          compileFilter(
            buildProfileFilter({
              arch: req.arch,
              network: p.network.preset === 'none' && enforce ? 'none' : 'inet',
              allowPtrace: p.syscalls.allowPtrace,
              extraDeny: p.syscalls.extraDeny,
              denyAction,
              monitor: listener
                ? { network: p.network.preset !== 'none' || !enforce, fileWrites: true, fileReads: !enforce || p.filesystem.reportReads }
                : null,
            }),
          ),
        ).toString('base64'),
        listener,
      }
    : null;
  // Namespace tier: mounts in enforce only (warn blocks nothing); the grants mirror the tier in every mode.
  const tierPlan = sandboxed ? namespacePlanForTier(p, { ...req, listener }) : null;
  const namespaces = enforce ? tierPlan : null;
  return {
    platform: 'linux',
    runId: req.runId,
    file: req.file,
    argv: req.argv,
    env: req.env,
    cwd: req.cwd,
    // warn: limits are reported by the watchdog and never stop the run; core dumps stay off.
    rlimits: enforce ? rlimitsFor(p, req.nprocLimit) : [{ resource: 'core', soft: 0, hard: 0 }],
    noNewPrivs: sandboxed,
    landlock: enforce ? landlockPlan(landlockGrants(p, { ...req, listener, namespaces: tierPlan }), deps.expand, ['abstract_unix_socket', 'signal']) : null,
    seccomp,
    requireLandlock: enforce,
    namespaces,
  };
}

/** The namespace plan when the request is for the namespace tier, else null. The plan needs the write roots. */
export function namespacePlanForTier(p: ResolvedPolicy, req: Pick<CompileRequest, 'tmpDir' | 'toolRoots' | 'file' | 'namespaces'> & { listener?: boolean }): NamespacePlan | null {
  return req.namespaces ? namespacePlanFor(p, req, landlockGrants(p, { ...req, namespaces: null })) : null;
}

/**
 * Whether the grants let `access` happen at `p`: the same answer Landlock gives, for diagnostics. Pure.
 * A directory on the way to an exception is expanded into rules on its existing children, so a new entry
 * there (`exists` false) cannot be created.
 */
export function grantsAllow(grants: Grant[], p: string, access: 'read' | 'write', exists = true): boolean {
  const need: LandlockAccess = access === 'read' ? 'read_file' : 'write_file';
  const under = (x: string, root: string) => root === '/' || x === root || x.startsWith(root + '/');
  const parent = path.dirname(p);
  return grants.some(
    (g) =>
      g.access.includes(need) &&
      g.paths.some((root) => under(p, root)) &&
      !g.except.some((e) => under(p, e)) &&
      (exists || !g.except.some((e) => e !== parent && under(e, parent) && g.paths.some((root) => under(parent, root)))),
  );
}
