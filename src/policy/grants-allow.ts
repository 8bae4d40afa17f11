// The kernel's answers, for diagnostics: whether a model's grants (and, in the namespace tier, its mounts)
// let an access happen at a path. Pure.
import * as path from 'node:path';
import type { LandlockAccess } from './fs-access';
import type { FsModel, Grant } from './fs-model-types';
import { isUnder } from './paths';

/**
 * Whether the grants let `access` happen at `p`: the same answer Landlock gives. Pure. A directory on the
 * way to an exception is expanded into rules on its existing children, so a new entry there (`exists`
 * false) cannot be created.
 */
export function grantsAllow(grants: readonly Grant[], p: string, access: 'read' | 'write', exists = true): boolean {
  const need: LandlockAccess = access === 'read' ? 'read_file' : 'write_file';
  const under = (x: string, root: string) => root === '/' || x === root || x.startsWith(root + '/');
  const parent = path.posix.dirname(p);
  return grants.some(
    (g) =>
      g.access.includes(need) &&
      g.paths.some((root) => under(p, root)) &&
      !g.except.some((e) => under(p, e)) &&
      (exists || !g.except.some((e) => e !== parent && under(e, parent) && g.paths.some((root) => under(parent, root)))),
  );
}

/**
 * Whether the kernel lets `access` happen at `p` under the whole model: the grants, and in the namespace
 * tier the mounts made from protectedInWritable (read-only, writableInside read-write again, applied in
 * order) and hidden (nothing).
 */
export function modelAllows(model: FsModel, p: string, access: 'read' | 'write', exists = true): boolean {
  if (!grantsAllow(model.grants, p, access, exists)) return false;
  if (model.tier === 'fallback') return true;
  if (model.hidden.some((h) => isUnder(p, h.path))) return false;
  if (access === 'read') return true;
  let writable = true;
  for (const e of model.protectedInWritable) {
    if (isUnder(p, e.path)) writable = e.writableInside.some((w) => isUnder(p, w));
  }
  return writable;
}
