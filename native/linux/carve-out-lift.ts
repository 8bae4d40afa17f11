// Before the carve-out expansion: a carve-out that lies inside another grant's whole, unsplit rule with at
// least the same rights changes nothing for the kernel (Landlock rights add up over a path's rules), yet its
// expansion lists every directory on the way and emits a rule for each of their entries, which the pruning
// then drops as covered (a workspace under a busy /tmp: ~1000 rules made and dropped, 3-5 ms of each warm
// compile). Such a carve-out is replaced by the covering rule's path itself: the grant's expansion outside
// that path is unchanged (the same split down to it), and inside it the grant now gives nothing where the
// covering rule gives everything the grant gave and more; the union is the same, new entries included.
// Conditions (else the carve-out is kept as it is):
// - the covering grant carves nothing at, above or below the covering path (its rule there stays whole);
// - the covering path is its own realpath, and the carve-out resolves inside it the way the expansion
//   resolves it (carve-outs.ts canonicalOrMissing): a carve-out reached through a symlink is elsewhere;
// - its rights include every right of the grant.
// Whatever the disk does, a lift only takes rules away from the lifted grant (nothing inside the covering
// path, the same outside it), so it never grants more; the conditions are what make it grant no less. (A
// covering grant's carve-out that reaches inside the covering path only through a symlink splits that rule
// at expansion without being seen here: the run then gets less there, never more.)
// The launcher opens the covering rule exactly (no symlink followed): swapped for a link by then, it is
// skipped, and the lifted carve-out gives nothing there either (fail closed).
import type { Grant } from '../../src/policy/fs-model-types';
import { canonicalOrMissing } from './carve-outs';

function within(a: string, b: string): boolean {
  return a === b || b.startsWith(a === '/' ? '/' : a + '/');
}

export function liftCoveredCarveOuts(grants: Grant[], realpath: (p: string) => string | null): Grant[] {
  const resolved = new Map<string, string | null>();
  const real = (p: string): string | null => {
    if (!resolved.has(p)) resolved.set(p, realpath(p));
    return resolved.get(p)!;
  };
  // The highest covering path: the fewer folders on the way to it, the fewer the expansion lists.
  const coverFor = (g: Grant, c: string): string | null => {
    let best: string | null = null;
    for (const h of grants) {
      if (h === g || !g.access.every((a) => h.access.includes(a))) continue;
      for (const r of h.paths) {
        if (!within(r, c) || h.except.some((e) => within(e, r) || within(r, e))) continue;
        if (real(r) !== r) continue;
        const at = canonicalOrMissing(c, real);
        if (at !== null && within(r, at) && (best === null || r.length < best.length)) best = r;
      }
    }
    return best;
  };
  return grants.map((g) => {
    if (!g.except.length) return g;
    const except = [...new Set(g.except.map((c) => coverFor(g, c) ?? c))];
    return except.length === g.except.length && except.every((c, i) => c === g.except[i]) ? g : { ...g, except };
  });
}
