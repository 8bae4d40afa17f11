// How a fetched git-script runs: from its checkout, which it may read but never write; writes only where
// the user's policy allows in the workspace; the repository's own policy request may only tighten.
import * as path from 'node:path';
import type { PolicyInput, ResolvedPolicy } from '../policy/schema';
import type { FetchedGitScript } from './fetch';
import { escapeGlob, normalizeAbs } from '../policy/paths';
import { SandboxError } from '../errors';

const MODE_ORDER = ['disabled', 'warn', 'enforce'] as const;
const NET_ORDER = ['default', 'api-only', 'strict', 'none'] as const;

/** `base` tightened by `req`: stricter mode and network preset, smaller limits, more denied paths. */
export function tighten(base: ResolvedPolicy, req: PolicyInput | null, root: string): ResolvedPolicy {
  if (!req) return base;
  if (req.filesystem?.unprotect?.length) {
    throw new SandboxError('POLICY_LOOSENING', `a git-script policy may only tighten: filesystem.unprotect (${req.filesystem.unprotect.join(', ')}) is allowed only in your own settings, --policy FILE or run flags`);
  }
  const p: ResolvedPolicy = structuredClone(base);
  if (req.mode && MODE_ORDER.indexOf(req.mode) > MODE_ORDER.indexOf(p.mode)) p.mode = req.mode;
  if (req.network?.preset && NET_ORDER.indexOf(req.network.preset) > NET_ORDER.indexOf(p.network.preset)) p.network.preset = req.network.preset;
  for (const [k, v] of Object.entries(req.limits ?? {}) as [keyof ResolvedPolicy['limits'], number | undefined][]) {
    if (typeof v === 'number') p.limits[k] = p.limits[k] == null ? v : Math.min(p.limits[k]!, v);
  }
  // The root is a literal path: its brackets, braces or parentheses must not become glob syntax.
  const abs = (g: string) => (path.isAbsolute(g) ? g : normalizeAbs(`${escapeGlob(root)}/${g}`));
  p.filesystem.denyWrite.push(...(req.filesystem?.denyWrite ?? []).map(abs));
  p.filesystem.denyRead.push(...(req.filesystem?.denyRead ?? []).map(abs));
  if (req.filesystem?.readOnly) p.filesystem.readOnly = true;
  return p;
}

export function gitScriptRun(f: FetchedGitScript, base: ResolvedPolicy, workspace: string): { command: string[]; cwd: string; policy: ResolvedPolicy; gitScript: { repo: string; ref: string; commit: string } } {
  // The definition's own policy, then the repository's request: each may only tighten.
  const policy = tighten(tighten(base, f.spec.policy ?? null, workspace), f.requestedPolicy, workspace);
  const dir = escapeGlob(f.checkoutDir);
  policy.filesystem.allowRead = [...policy.filesystem.allowRead, dir, `${dir}/**`];
  policy.filesystem.denyWrite = [...policy.filesystem.denyWrite, dir, `${dir}/**`];
  const args = (f.spec.args ?? []).map((a) => a.replace(/\$\{workspaceFolder\}/g, workspace));
  return { command: [f.scriptPath, ...args], cwd: f.checkoutDir, policy, gitScript: { repo: f.repo, ref: f.ref, commit: f.commit } };
}
