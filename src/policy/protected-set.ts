// The protected paths of a run: the policy's list matched back to ALWAYS_PROTECTED, what git metadata adds,
// the audit folder; minus what the user unprotected.
import type { ResolvedPolicy } from './schema';
import { ALWAYS_PROTECTED } from './presets';
import { NO_FS, type FsModelFs, type ProtectedPath } from './fs-model-types';
import { gitDiscovered, xdgGitDir } from './git-discovery';
import { expandEntry, isUnder, normalizeAbs, normalizePolicyPath } from './paths';

/** The policy's protected paths with their rights, matched back to ALWAYS_PROTECTED (an unknown entry is a
 *  secret: neither readable nor writable). From the policy alone: no git discovery. */
export function protectedPaths(policy: ResolvedPolicy): ProtectedPath[] {
  const known = new Map(ALWAYS_PROTECTED.map((e) => [expandEntry(e.path, policy.home, policy.workspace), e]));
  return policy.filesystem.protected.map((raw) => {
    // Resolved paths: a UNC workspace's `//server/share/…` keeps its two slashes (the known entries are spelled so).
    const abs = normalizePolicyPath(raw);
    const e = known.get(abs);
    if (!e) return { abs, display: abs, read: false, write: false, reason: 'protected path', writableInside: [] };
    const own = OWN_RECORDS.includes(e.path) ? { ownRecord: true } : {};
    return { abs, display: e.path, read: e.read, write: e.write, reason: e.reason, writableInside: (e.writableInside ?? []).map((w) => `${abs}/${w}`), ...own };
  });
}

/** ALWAYS_PROTECTED entries that are the sandbox's own records (see ProtectedPath.ownRecord). */
export const OWN_RECORDS: readonly string[] = ['.sandbox', '~/.local/state/script-sandbox'];

/** Every protected path of a run: the policy's, what git metadata adds, the audit folder; minus unprotect. */
export function protectedSet(policy: ResolvedPolicy, fs: FsModelFs = NO_FS, opts: { auditDir?: string; xdgConfigHome?: string } = {}): ProtectedPath[] {
  const out = protectedPaths(policy);
  const add = (e: ProtectedPath) => {
    if (!out.some((x) => x.abs === e.abs)) out.push(e);
  };
  // ~/.config/git stands for the user's git configuration folder, which $XDG_CONFIG_HOME moves.
  const cfg = out.find((e) => e.display === '~/.config/git');
  const xdg = xdgGitDir(policy.home, opts.xdgConfigHome);
  if (cfg && xdg !== cfg.abs) add({ ...cfg, abs: xdg, display: '$XDG_CONFIG_HOME/git' });
  for (const e of gitDiscovered(policy, fs, opts.xdgConfigHome)) add(e);
  if (opts.auditDir) add({ abs: normalizeAbs(opts.auditDir), display: normalizeAbs(opts.auditDir), read: false, write: false, reason: 'the sandbox audit log (hidden from the script)', writableInside: [], ownRecord: true });
  const un = policy.filesystem.unprotect ?? [];
  return out.filter((e) => !un.some((u) => isUnder(e.abs, normalizePolicyPath(u))));
}
