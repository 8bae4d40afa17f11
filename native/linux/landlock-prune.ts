// Landlock grants a rule's rights on its path and everything beneath it, and the rights of every rule on a
// path's ancestors add up. A rule whose rights the rules on its ancestors (and other rules on the same path)
// already grant changes nothing and is dropped here: the carve-out expansion of a read grant on `/` gives a
// rule to every entry of a folder on the way to a carve-out, and inside a write grant (the workspace, /tmp)
// each of those is covered by the write grant's own rule. Every rule dropped is one open, fstat, add_rule
// and close fewer in the launcher before exec (a workspace under a busy /tmp had 500 of them).
// Paths are compared as strings, which says "beneath" only for paths without symlinks: a rule is dropped
// only when it and the covering rules' paths are canonical (`canonical`, from the expansion or realpath). A
// dropped rule can only grant less than before, never more.
import type { LandlockAccess, LandlockRule } from '../../src/protocol/plan';

export function pruneCoveredRules(rules: LandlockRule[], canonical: (p: string) => boolean): LandlockRule[] {
  // Rules on the same path are one rule to the kernel (their rights are OR-ed on the inode).
  const byPath = new Map<string, Set<LandlockAccess>>();
  // A path the expansion saw canonical stays opened without following links (carve-outs.ts ExpandedRule).
  const exact = new Set(rules.filter((r) => r.exact).map((r) => r.path));
  for (const r of rules) {
    const s = byPath.get(r.path);
    if (s) for (const a of r.access) s.add(a);
    else byPath.set(r.path, new Set(r.access));
  }
  // What the canonical rules on a path and all its ancestors grant together, memoised per path: the rules
  // of a busy folder's expansion share their ancestors, so each ancestor is looked at once, not once per rule.
  const above = new Map<string, ReadonlySet<LandlockAccess>>();
  const none: ReadonlySet<LandlockAccess> = new Set();
  const grantedAt = (a: string | null): ReadonlySet<LandlockAccess> => {
    if (a === null) return none;
    let have = above.get(a);
    if (have === undefined) {
      const s = byPath.get(a);
      const up = grantedAt(parentOf(a));
      have = s && canonical(a) ? new Set([...up, ...s]) : up;
      above.set(a, have);
    }
    return have;
  };
  const covered = (p: string, access: Set<LandlockAccess>): boolean => {
    const have = grantedAt(parentOf(p));
    for (const x of access) if (!have.has(x)) return false;
    return canonical(p);
  };
  const out: LandlockRule[] = [];
  for (const [p, access] of byPath) if (!covered(p, access)) out.push({ path: p, access: [...access], ...(exact.has(p) ? { exact: true as const } : {}) });
  return out;
}

function parentOf(p: string): string | null {
  if (p === '/' || !p.startsWith('/')) return null;
  const i = p.lastIndexOf('/');
  return i === 0 ? '/' : p.slice(0, i);
}
