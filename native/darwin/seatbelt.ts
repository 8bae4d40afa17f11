// The Seatbelt profile of a run, generated from the one filesystem model (src/policy/fs-model.ts) that also
// feeds Landlock and the evaluator's diagnostics. Every grant of the model becomes allow rules whose
// carve-outs are `require-not` filters inside the same rule, so the result does not depend on rule order
// (as Landlock grants, allows only add up); the few denies (move blocking) come last, where "the last
// matching rule wins" (PLATFORMS.md §2.2) cannot be undone by an allow.
//
// macOS has no mount namespaces, so the model is built in the fallback tier: protected paths inside writable
// roots are carve-outs of the write grants. Seatbelt matches path strings, not directory handles, so a new
// entry next to a carve-out can be created (unlike Landlock's expansion), and renaming a folder above a
// protected path would move the protection away: those folders get `(deny file-write-unlink …)`.
import * as path from 'node:path';
import type { ResolvedPolicy } from '../../src/policy/schema';
import { NO_FS, type FsModel, type FsModelFs, type Grant } from '../../src/policy/fs-model-types';
import { grantsAllow } from '../../src/policy/grants-allow';
import { buildFsModel } from '../../src/policy/fs-model';
import { escapeGlob, isUnder, normalizeAbs } from '../../src/policy/paths';
import { privateCanonical, renderFilter, sbplString, subtreeDenyFilters } from './sbpl';

/** Read roots of a strict profile on macOS (SYSTEM_PATHS are Linux's): the OS, the dyld cache, toolchains. */
export const DARWIN_SYSTEM_READ: readonly string[] = Object.freeze([
  '/System',
  '/usr',
  '/bin',
  '/sbin',
  '/private/etc',
  '/private/var/db/dyld',
  '/private/var/db/timezone',
  '/private/var/select',
  '/Library/Apple',
  '/Library/Developer',
  '/Library/Frameworks',
  '/Library/Preferences',
  '/Library/Java',
  '/Applications/Xcode.app',
  '/opt/homebrew',
  '/opt/local',
]);

/** macOS homes keep secrets and start-up code in places the Linux list does not name. */
export const DARWIN_SECRETS: readonly string[] = Object.freeze([
  '~/Library/Keychains',
  '~/Library/Cookies',
  '~/Library/Application Support/com.apple.TCC',
  '~/Library/Application Support/Google/Chrome',
  '~/Library/Application Support/Firefox/Profiles',
]);
export const DARWIN_NO_WRITE: readonly string[] = Object.freeze([
  '~/Library/LaunchAgents', // programs started at login
  '~/Library/Application Support/Code/User', // VS Code settings (could switch the sandbox off)
  '~/Applications', // apps run outside the sandbox
]);
/** macOS system folders the Linux SYSTEM_PATHS do not name; /Applications is writable by admin users. */
export const DARWIN_SYSTEM_NO_WRITE: readonly string[] = Object.freeze(['/System', '/Library', '/Applications', '/private/var/db']);

/** The policy with macOS's own secrets (protected: unreadable, unwritable) and start-up paths (denyWrite). */
export function withDarwinPaths(p: ResolvedPolicy): ResolvedPolicy {
  const home = (e: string) => normalizeAbs(p.home + e.slice(1));
  const un = (p.filesystem.unprotect ?? []).map(normalizeAbs);
  const keep = (abs: string) => !un.some((u) => isUnder(abs, u));
  return {
    ...p,
    filesystem: {
      ...p.filesystem,
      protected: [...new Set([...p.filesystem.protected, ...DARWIN_SECRETS.map(home).filter(keep)])],
      denyWrite: [...p.filesystem.denyWrite, ...DARWIN_NO_WRITE.map(home).filter(keep).map(escapeGlob), ...DARWIN_SYSTEM_NO_WRITE.map(escapeGlob)],
    },
  };
}

export interface SeatbeltRequest {
  runId: string;
  /** The run's private temp dir, always writable. */
  tmpDir: string;
  toolRoots: string[];
  file: string;
  auditDir?: string;
  /** Loopback port of the run's egress proxy (allowed hosts); null: no network at all. */
  proxyPort: number | null;
}

export interface SeatbeltProfile {
  text: string;
  /** The model the profile was generated from (for the evaluator and diagnostics). */
  model: FsModel;
  /** What the profile cannot express and what was done instead (shown in the capability report). */
  notes: string[];
}

/** Canonical path of a rule: by default the /private mapping; the host passes realpathCanonical. */
export type Canonical = (p: string) => string;

const RULE_OPS = {
  read: 'file-read*',
  exec: 'process-exec',
  // dyld maps libraries with PROT_EXEC: a separate operation from reading them on recent macOS.
  map: 'file-map-executable',
  write: 'file-write*',
  ioctl: 'file-ioctl',
} as const;

/** The Seatbelt operations a model grant stands for (its Landlock rights, translated). */
export function grantOps(g: Grant): string[] {
  const ops: string[] = [];
  if (g.access.includes('read_file') || g.access.includes('read_dir')) ops.push(RULE_OPS.read);
  if (g.access.includes('execute')) ops.push(RULE_OPS.exec, RULE_OPS.map);
  if (g.access.includes('write_file') || g.access.includes('make_reg') || g.access.includes('remove_file')) ops.push(RULE_OPS.write);
  if (g.access.includes('ioctl_dev')) ops.push(RULE_OPS.ioctl);
  return ops;
}

function indent(lines: string[], n = 2): string[] {
  return lines.map((l) => ' '.repeat(n) + l);
}

/**
 * The filters of one grant: per granted root, `(subpath root)` minus every carve-out inside it (exact and
 * case-folded). A root inside a carve-out grants nothing (a grant never overrides a carve-out of its own).
 * /dev roots are literals (device nodes), other roots subpaths. Each filter is a list of lines.
 */
export function grantFilters(g: Grant, canonical: Canonical): string[][] {
  const out: string[][] = [];
  const roots = [...new Set(g.paths.map(canonical))].sort();
  const cuts = [...new Set(g.except.map(canonical))].sort();
  for (const root of roots) {
    if (cuts.some((c) => isUnder(root, c))) continue;
    const inside = cuts.filter((c) => isUnder(c, root));
    const rootFilter = renderFilter({ kind: root.startsWith('/dev/') && root !== '/dev/pts' ? 'literal' : 'subpath', value: root });
    if (inside.length === 0) {
      out.push([rootFilter]);
      continue;
    }
    const lines = ['(require-all', `  ${rootFilter}`];
    for (const c of inside) for (const f of subtreeDenyFilters(c)) lines.push(`  (require-not ${renderFilter(f)})`);
    lines.push(')');
    out.push(lines);
  }
  return out;
}

/** One allow rule per granted root, its carve-outs inside it. */
export function grantRules(g: Grant, canonical: Canonical): string[] {
  const ops = grantOps(g);
  if (ops.length === 0) return [];
  const out: string[] = [];
  for (const f of grantFilters(g, canonical)) {
    if (f.length === 1) out.push(`(allow ${ops.join(' ')} ${f[0]})`);
    else out.push(`(allow ${ops.join(' ')}`, ...indent(f), ')');
  }
  return out;
}

/**
 * Hard links only of files the script may write anyway: a link to a read-only file (a start-up file, a hook,
 * anything outside the write grants) placed in the workspace would make it writable through the new name,
 * since Seatbelt decides by path. `file-link` is allowed inside the write grants and denied everywhere else,
 * last; both rules name the same filter, so whichever path the kernel checks, only writable files link.
 */
export function linkRules(model: FsModel, canonical: Canonical, tag: string): string[] {
  const writable = model.grants.filter((g) => grantOps(g).includes(RULE_OPS.write)).flatMap((g) => grantFilters(g, canonical));
  if (writable.length === 0) return [`(deny file-link (with message ${sbplString(tag)}))`];
  const any = ['(require-any', ...indent(writable.flat()), ')'];
  return ['(allow file-link', ...indent(any), ')', `(deny file-link (with message ${sbplString(tag)})`, '  (require-not', ...indent(any, 4), '  ))'];
}

/** Folders above a write-protected or hidden path that the grants let the script rename or delete. */
export function moveBlockTargets(model: FsModel, canonical: Canonical): string[] {
  const targets = new Set<string>();
  const guarded = [...model.protectedInWritable.map((x) => x.path), ...model.hidden.map((h) => h.path), ...model.protected.map((e) => e.abs)];
  for (const g of guarded) {
    for (let a = path.posix.dirname(g); ; a = path.posix.dirname(a)) {
      if (grantsAllow(model.grants, a, 'write')) targets.add(canonical(a));
      if (a === '/') break;
    }
  }
  return [...targets].sort();
}

/** The fixed part: what any program needs to start (after Codex's base policy, itself after Chromium's). */
export const BASE_RULES: readonly string[] = Object.freeze([
  '(allow process-fork)',
  '(allow signal (target same-sandbox))',
  '(allow process-info* (target same-sandbox))',
  // stat() anywhere, as on Linux (Landlock does not mediate metadata): path walks, getcwd, realpath.
  '(allow file-read-metadata)',
  // Without reading "/" itself every program aborts before main (PLATFORMS.md §2.1).
  '(allow file-read-data (literal "/"))',
  '(allow sysctl-read)',
  '(allow user-preference-read)',
  '(allow mach-host*)',
  '(allow mach-lookup (global-name "com.apple.system.opendirectoryd.libinfo"))',
  '(allow ipc-posix-sem)',
  '(allow pseudo-tty)',
  '(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))',
  // The terminal the run was started from (inherited fds are checked on use): write and ioctl on character
  // devices only; reading another terminal needs the pty extension of one opened inside the sandbox.
  '(allow file-write-data file-ioctl (require-all (regex #"^/dev/ttys[0-9]+$") (vnode-type CHARACTER-DEVICE)))',
  '(allow file-read* file-write* (require-all (regex #"^/dev/ttys[0-9]+$") (extension "com.apple.sandbox.pty")))',
]);

/**
 * The profile of a run in enforce mode. The model comes from buildFsModel (fallback tier) on the policy with
 * macOS's own protected paths added; every path in the text is canonical.
 */
export function seatbeltProfile(policy: ResolvedPolicy, req: SeatbeltRequest, fs: FsModelFs = NO_FS, canonical: Canonical = privateCanonical): SeatbeltProfile {
  const p = withDarwinPaths(policy);
  const model = buildFsModel(p, { tmpDir: req.tmpDir, toolRoots: [...DARWIN_SYSTEM_READ, ...req.toolRoots], file: req.file, tier: 'fallback', auditDir: req.auditDir }, fs);
  const notes = [...model.notes];
  const lines: string[] = [
    '(version 1)',
    `; Script Sandbox run ${req.runId}: generated from the filesystem model, do not edit`,
    `(deny default (with message ${sbplString(`script-sandbox:${req.runId}`)}))`,
    ...BASE_RULES,
    '; file grants (each carve-out inside the rule it cuts)',
  ];
  for (const g of model.grants) lines.push(...grantRules(g, canonical));

  lines.push('; network');
  const net = networkRules(p, req.proxyPort, notes);
  lines.push(...net);

  lines.push('; hard links: only of what the script may write anyway');
  lines.push(...linkRules(model, canonical, `script-sandbox:${req.runId}`));

  const moves = moveBlockTargets(model, canonical);
  if (moves.length) {
    lines.push('; no rename or delete of a folder that holds a protected path (it would carry the path out of its rule)');
    lines.push(`(deny file-write-unlink (with message ${sbplString(`script-sandbox:${req.runId}`)})`);
    lines.push(...indent(moves.map((m) => renderFilter({ kind: 'literal', value: m }))));
    lines.push(')');
  }
  return { text: lines.join('\n') + '\n', model, notes };
}

/**
 * Seatbelt's network filters take only `*` or `localhost` as host (PLATFORMS.md §2.2): no CIDR, no names.
 * So none = no rule; every other preset = only the run's proxy on loopback, which decides by name and
 * address. Loopback entries of allowAddresses with a port become `localhost:PORT` (covering 127.0.0.1 and
 * ::1); anything else cannot be expressed and stays refused.
 */
export function networkRules(p: ResolvedPolicy, proxyPort: number | null, notes: string[]): string[] {
  const out: string[] = [];
  for (const sock of p.network.allowUnixSockets) out.push(`(allow network-outbound (literal ${sbplString(privateCanonical(sock))}))`);
  if (p.network.preset === 'none') return out;
  const ports = new Set<number>();
  if (proxyPort !== null) ports.add(proxyPort);
  else notes.push(`network preset ${p.network.preset}: no egress proxy for this run, so every connection is refused (Seatbelt cannot name hosts or address ranges)`);
  for (const a of p.network.allowAddresses) {
    const m = /^(127\.0\.0\.1\/32|::1\/128|\[::1\]\/128):(\d{1,5})$/.exec(a);
    if (m && Number(m[2]) >= 1 && Number(m[2]) <= 65535) ports.add(Number(m[2]));
    else notes.push(`allowAddresses ${a}: Seatbelt only names loopback ports; connections there go through the proxy or are refused`);
  }
  for (const port of [...ports].sort((a, b) => a - b)) out.push(`(allow network-outbound (remote ip ${sbplString(`localhost:${port}`)}))`);
  return out;
}
