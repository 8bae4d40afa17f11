// The supervisor decides on physical paths (every link resolved, as the kernel walks them), while a run's
// models spell protected paths as the policy names them. The kernel keeps a protected path reached through
// a link (~/.bashrc -> dotfiles/bashrc, ~/.local -> dotfiles/local) at its physical place: the Landlock
// expansion resolves its carve-outs. So the emulation, which performs calls in the host's view, must know
// each protected, hidden or carved path in its physical form too (red team rt21: a made file renamed over
// dotfiles/bashrc, the audit key hard-linked through ~/.local's target). Only ever stricter: the forms as
// written stay, the physical ones are added.
import * as fs from 'node:fs';
import { canonicalOrMissing } from '../../../native/linux/carve-outs';
import type { FsModel, Grant, ProtectedPath } from '../../policy/fs-model-types';
import type { SupervisedRun } from './supervisor-protocol';

type Resolve = (p: string) => string | null;

/** The run with every protected, hidden and carved path of its models also in its physical form. */
export function withPhysicalForms(r: SupervisedRun, realpath: Resolve = diskRealpath): SupervisedRun {
  const phys = physicalOf(realpath);
  return {
    ...r,
    grants: grantsWith(r.grants, phys),
    ...(r.protected ? { protected: protectedWith(r.protected, phys) } : {}),
    ...(r.kernel ? { kernel: modelWith(r.kernel, phys) } : {}),
  };
}

function modelWith(m: FsModel, phys: Resolve): FsModel {
  return {
    ...m,
    protected: protectedWith(m.protected, phys),
    protectedInWritable: m.protectedInWritable.flatMap((e) => {
      const p = phys(e.path);
      return p === null ? [e] : [e, { ...e, path: p, writableInside: e.writableInside.map((w) => phys(w) ?? w) }];
    }),
    hidden: m.hidden.flatMap((h) => {
      const p = phys(h.path);
      return p === null ? [h] : [h, { ...h, path: p }];
    }),
    grants: grantsWith(m.grants, phys),
  };
}

function grantsWith(grants: Grant[], phys: Resolve): Grant[] {
  return grants.map((g) => {
    const more = g.except.map(phys).filter((p): p is string => p !== null && !g.except.includes(p));
    return more.length ? { ...g, except: [...g.except, ...new Set(more)] } : g;
  });
}

function protectedWith(prot: ProtectedPath[], phys: Resolve): ProtectedPath[] {
  return prot.flatMap((e) => {
    const p = phys(e.abs);
    return p === null ? [e] : [e, { ...e, abs: p, writableInside: e.writableInside.map((w) => phys(w) ?? w) }];
  });
}

/** A path's physical form when it differs from the path (a missing tail kept as named), else null. */
function physicalOf(realpath: Resolve): Resolve {
  const seen = new Map<string, string | null>();
  return (p) => {
    let v = seen.get(p);
    if (v === undefined) {
      const c = canonicalOrMissing(p, realpath);
      seen.set(p, (v = c !== null && c !== p ? c : null));
    }
    return v;
  };
}

function diskRealpath(p: string): string | null {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return null;
  }
}
