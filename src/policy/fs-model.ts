// The one filesystem model of a run: from the resolved policy (and a few reads of the workspace's git
// metadata) to what the kernel grants (Landlock grants with carve-outs), what is protected inside writable
// roots (read-only mounts in the namespace tier) and what is hidden there. The Linux compile step turns the
// grants into Landlock rules, the namespace stage turns protectedInWritable/hidden into mounts, and the
// evaluator (decidePath, explain, the supervisor's diagnostics) reads the same protected set, so an
// explanation names the rule the kernel applies.
//
// Globs become kernel paths through their literal prefix (`/ws/secrets/**` → `/ws/secrets`), computed on
// the escaped pattern: a workspace named `proj (copy)` or `{a,b}` was escaped by resolve, so its characters
// are literal here. Landlock knows no wildcards: a deny glob blocks all of its prefix, an allow glob grants
// all of its prefix, and the evaluator says so.
//
// The model is split by job: fs-model-types (shapes, rights), glob-kernel-paths, protected-set (with
// git-discovery, git-config, git-config-commands), protection-rules (shared with decidePath), terminal-grants,
// integrity-model (warn mode), grants-allow (the kernel's answers). This file builds the enforce model.
import * as path from 'node:path';
import type { ResolvedPolicy } from './schema';
import type { LandlockAccess } from './fs-access';
import { SHARED_TEMP_PATHS, SYSTEM_PATHS, sharedTempWritable } from './presets';
import {
  DEV_READ_ONLY,
  DEV_READ_WRITE,
  KERNEL_READ,
  NO_FS,
  READ_RIGHTS,
  RW_RIGHTS,
  WRITE_RIGHTS,
  type FsModel,
  type FsModelFs,
  type FsModelRequest,
  type Grant,
  type HiddenPath,
  type ProtectedInWritable,
  type ProtectedPath,
} from './fs-model-types';
import { globKernelPaths, globNewNameCuts, kernelPrefix } from './glob-kernel-paths';
import { protectedSet } from './protected-set';
import { denyingGlob, protectionBlocks, systemPathOf } from './protection-rules';
import { terminalGrants } from './terminal-grants';
import { below, uniq } from './path-lists';
import { globNames, isUnder, normalizeAbs } from './paths';

/** The filesystem model of one run. Pure apart from `fs` (reads of the workspace's git metadata). */
export function buildFsModel(policy: ResolvedPolicy, req: FsModelRequest, fs: FsModelFs = NO_FS): FsModel {
  const fsp = policy.filesystem;
  const ws = normalizeAbs(policy.workspace);
  const prot = protectedSet(policy, fs, { auditDir: req.auditDir, xdgConfigHome: req.xdgConfigHome });
  const notes: string[] = [];
  // Each glob as kernel paths; a glob too wide to list is widened (deny: its prefix) or dropped (allow).
  const kernelPaths = (field: string, g: string, deny: boolean): string[] => {
    const paths = globKernelPaths(g, fs);
    if (paths) return paths;
    notes.push(`${field} ${g}: too many entries below ${kernelPrefix(g)} to follow the pattern; the kernel ${deny ? 'blocks all of it' : 'grants none of it'}`);
    return deny ? [kernelPrefix(g)] : [];
  };
  const denyReadOf = fsp.denyRead.map((g) => ({ glob: g, paths: kernelPaths('denyRead', g, true) }));
  const denyWriteOf = fsp.denyWrite.map((g) => ({ glob: g, paths: kernelPaths('denyWrite', g, true) }));
  const allowReadOf = fsp.allowRead.map((g) => ({ glob: g, paths: kernelPaths('allowRead', g, false) }));
  const allowWriteOf = fsp.allowWrite.map((g) => ({ glob: g, paths: kernelPaths('allowWrite', g, false) }));
  const denyRead = uniq(denyReadOf.flatMap((x) => x.paths));
  const denyWrite = uniq(denyWriteOf.flatMap((x) => x.paths));
  const allowReadP = uniq(allowReadOf.flatMap((x) => x.paths));
  const allowWriteP = uniq(allowWriteOf.flatMap((x) => x.paths));
  // Where a deny glob could gain a match during the run: carved (globNewNameCuts), in both tiers, so new
  // names there meet the supervisor's emulation instead of a check followed by "continue".
  const newNameCuts = (globs: string[]) => uniq(globs.flatMap((g) => globNewNameCuts(g, fs) ?? []));
  const denyReadNew = newNameCuts(fsp.denyRead);
  const denyWriteNew = newNameCuts(fsp.denyWrite);
  const globCuts = { read: new Set(denyReadNew), write: new Set(denyWriteNew) };

  // Writable roots. A root inside a system path (a workspace below /opt, allowWrite /usr/local/x) gets its
  // own grant: the system-path carve-outs of the main grant would remove it.
  const writeRoots: string[] = [];
  const sysRoots: string[] = [];
  const tempRoots: string[] = [];
  if (!fsp.readOnly) {
    if (fsp.writeOutsideSystem) writeRoots.push('/');
    const wsSys = systemPathOf(ws);
    (wsSys && wsSys !== ws ? sysRoots : writeRoots).push(ws);
    // An allowWrite path inside a system path is writable only when its glob names that system path.
    for (const { glob, paths } of allowWriteOf) {
      for (const a of paths) {
        const sys = systemPathOf(a);
        (sys && globNames(glob, sys) ? sysRoots : writeRoots).push(a);
      }
    }
    if (sharedTempWritable(policy.profile)) tempRoots.push(...SHARED_TEMP_PATHS);
  }
  const writableAt = (p: string) =>
    sysRoots.some((r) => isUnder(p, r)) ||
    tempRoots.some((r) => isUnder(p, r)) ||
    (writeRoots.some((r) => isUnder(p, r)) && !systemPathOf(p) && !isUnder(p, '/dev'));

  // What the evaluator would say at p about deny lists and protection (the validity of grant-backs).
  const evaluatorAllows = (p: string, access: 'read' | 'write') =>
    !denyingGlob(policy, p, access) && protectionBlocks(policy, prot, p, access).every((b) => b.unlockedBy !== null);
  // What allow entries naming a protected path unlock inside it.
  const unlocks = (of: typeof allowReadOf, e: ProtectedPath, access: 'read' | 'write') =>
    uniq(of.filter((x) => globNames(x.glob, e.abs)).flatMap((x) => x.paths.filter((u) => isUnder(u, e.abs) && evaluatorAllows(u, access))));
  const readUnlocks = (e: ProtectedPath) => unlocks(allowReadOf, e, 'read');
  const writeUnlocks = (e: ProtectedPath) => (fsp.readOnly ? [] : unlocks(allowWriteOf, e, 'write'));

  const readSecrets = prot.filter((e) => !e.read && !readUnlocks(e).includes(e.abs));
  const writeProtected = prot.filter((e) => !e.write && !writeUnlocks(e).includes(e.abs));

  const hidden: HiddenPath[] = [];
  for (const e of readSecrets) {
    if (writableAt(e.abs) && readUnlocks(e).length === 0 && writeUnlocks(e).length === 0) hidden.push({ path: e.abs, reason: e.reason });
  }
  for (const { glob, paths } of denyReadOf) {
    for (const d of paths) if (writableAt(d) && !hidden.some((h) => h.path === d)) hidden.push({ path: d, reason: `denyRead ${glob}` });
  }
  const isHidden = (p: string) => hidden.some((h) => h.path === p);

  const protectedInWritable: ProtectedInWritable[] = [];
  for (const e of writeProtected) {
    if (!e.read || !writableAt(e.abs) || isHidden(e.abs)) continue;
    const inside = uniq([...e.writableInside.filter((w) => evaluatorAllows(w, 'write')), ...writeUnlocks(e)]);
    protectedInWritable.push({ path: e.abs, reason: e.reason, writableInside: inside });
  }
  for (const { glob, paths } of denyWriteOf) {
    for (const d of paths) {
      if (writableAt(d) && !isHidden(d) && !protectedInWritable.some((x) => x.path === d)) protectedInWritable.push({ path: d, reason: `denyWrite ${glob}`, writableInside: [] });
    }
  }
  hidden.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  protectedInWritable.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // Carve-outs. Reads: secrets, denyRead, /dev. Writes: those, write-protected paths and denyWrite; in the
  // namespace tier minus what the mounts keep.
  const readExcept = uniq([...readSecrets.map((e) => e.abs), ...denyRead, ...denyReadNew, '/dev']);
  const mounted = new Set(req.tier === 'namespaces' ? [...hidden.map((h) => h.path), ...protectedInWritable.map((x) => x.path)] : []);
  const writeExcept = uniq([...readExcept, ...writeProtected.map((e) => e.abs), ...denyWrite, ...denyWriteNew]).filter((c) => !mounted.has(c));

  const readRoots = fsp.readEverywhere ? ['/'] : [...SYSTEM_PATHS, ws, ...req.toolRoots, path.posix.dirname(req.file), ...allowReadP, ...allowWriteP];
  const grants: Grant[] = [
    { access: READ_RIGHTS, paths: uniq(readRoots), except: readExcept },
    { access: RW_RIGHTS, paths: uniq(writeRoots), except: uniq([...SYSTEM_PATHS, ...writeExcept]) },
  ];
  if (sysRoots.length) grants.push({ access: RW_RIGHTS, paths: uniq(sysRoots), except: writeExcept });
  if (tempRoots.length) grants.push({ access: RW_RIGHTS, paths: [...tempRoots], except: writeExcept.filter((c) => c !== '/dev') });

  // What stays writable inside a protected path, and what an allow entry naming a protected path unlocks.
  for (const e of prot) {
    const inWritable = protectedInWritable.find((x) => x.path === e.abs);
    if (inWritable) {
      if (req.tier === 'fallback' && inWritable.writableInside.length) {
        grants.push({ access: RW_RIGHTS, paths: inWritable.writableInside, except: below(inWritable.writableInside, writeExcept) });
      }
    } else if (!e.write) {
      // A readable path unlocked as a whole is a writable root already; a secret is granted write rights
      // only: writing it does not make it readable.
      const wu = writeUnlocks(e).filter((u) => !e.read || u !== e.abs);
      if (wu.length) grants.push({ access: e.read ? RW_RIGHTS : WRITE_RIGHTS, paths: wu, except: below(wu, writeExcept) });
    }
    if (!e.read) {
      const ru = readUnlocks(e).filter((u) => u !== e.abs);
      if (ru.length) grants.push({ access: READ_RIGHTS, paths: ru, except: below(ru, readExcept) });
    }
  }

  // The private temp dir and device nodes are granted explicitly, under no exception.
  grants.push(
    { access: RW_RIGHTS, paths: [normalizeAbs(req.tmpDir)], except: [] },
    { access: ['read_file', 'write_file', 'read_dir', 'ioctl_dev', 'truncate'], paths: [...DEV_READ_WRITE], except: [] },
    { access: ['read_file', 'read_dir'], paths: [...DEV_READ_ONLY], except: [] },
    { access: READ_RIGHTS, paths: [...KERNEL_READ], except: readExcept },
    ...terminalGrants(req.ttyPath, req.tier),
  );

  return {
    tier: req.tier,
    protected: prot,
    writableRoots: uniq([...writeRoots, ...sysRoots, ...tempRoots]),
    protectedInWritable,
    hidden,
    notes,
    grants: grants.filter((g) => g.paths.length > 0).map((g) => withNoFileRules(g, globCuts)),
  };
}

/**
 * A grant whose carve-outs include deny globs' new-name cuts: their folders get no rule on files (Grant
 * noFileRules), because a rule on a file would follow it through a rename outside the run onto the glob.
 * Only these folders (every file there costs a supervised open): a protected subtree's parent (the fallback
 * tier's workspace root for `.git`) keeps its file rules, because renaming a file within it never makes the
 * file protected: a subtree is protected by where it is, not by what its entries are called. (A move from
 * there *into* the subtree, by a process outside the run, would carry the rule: README, "Still open".)
 * Subfolders there keep a rule, but without the rights the glob denies (Grant entryDirsWithout): the same
 * rename carries a folder's rule (`data/sub` to `data/x.key`). A denyRead glob denies every right (its
 * matches are carved from the write grants too); a denyWrite glob, the write rights.
 */
function withNoFileRules(g: Grant, globCuts: { read: Set<string>; write: Set<string> }): Grant {
  const cuts = g.except.filter((c) => globCuts.read.has(c) || globCuts.write.has(c));
  if (cuts.length === 0) return g;
  const without: Record<string, LandlockAccess[]> = {};
  for (const c of cuts) {
    const dir = path.posix.dirname(c);
    const denied = globCuts.read.has(c) ? g.access : g.access.filter((a) => WRITE_RIGHTS.includes(a));
    without[dir] = [...new Set([...(without[dir] ?? []), ...denied])];
  }
  return { ...g, noFileRules: Object.keys(without), entryDirsWithout: without };
}
