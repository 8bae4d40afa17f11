// Warn mode's filesystem model: the integrity set the kernel keeps although warn blocks nothing else.
import type { LandlockAccess } from './fs-access';
import type { ResolvedPolicy } from './schema';
import { DEV_READ_ONLY, DEV_READ_WRITE, NO_FS, READ_RIGHTS, RW_RIGHTS, type FsModel, type FsModelFs, type FsModelRequest, type Grant, type HiddenPath, type ProtectedInWritable, type ProtectedPath } from './fs-model-types';
import { globKernelPaths } from './glob-kernel-paths';
import { protectedSet } from './protected-set';
import { terminalGrants } from './terminal-grants';
import { below, uniq } from './path-lists';
import { globNames, isUnder, normalizeAbs } from './paths';

/** Device nodes a warn run keeps besides DEV_READ_WRITE/DEV_READ_ONLY: shared memory and message queues
 *  (tmpfs-like, no raw hardware). The rest of /dev stays out: a raw disk would bypass every path rule. */
export const WARN_DEV_READ_WRITE: readonly string[] = ['/dev/shm', '/dev/mqueue'];

/**
 * What the kernel keeps in warn mode: warn reports the policy and blocks none of it, but never relaxes the
 * integrity set, the things whose change would alter what git, VS Code, the shell or this extension do after
 * the run, or the run's own record. So every protected path (the policy's protected list with what the git
 * metadata adds, minus what the user unprotected) stays unwritable, wherever it is (a warn run has no write
 * roots: anything the user can write is writable), and the sandbox's own records (ownRecord) stay unreadable
 * too. Reading a secret, writing outside the grants, deny lists: reported by the supervisor, not blocked.
 *
 * The model's shape is FsModel's: writableRoots `/`, protectedInWritable/hidden the integrity set (the
 * namespace tier's mounts), and grants for Landlock: everything on `/` except /dev (granted node by node as in
 * enforce) and, in the fallback tier, the integrity set as carve-outs given back read-only.
 */
export function integrityModel(policy: ResolvedPolicy, req: FsModelRequest, fs: FsModelFs = NO_FS): FsModel {
  const fsp = policy.filesystem;
  const prot = protectedSet(policy, fs, { auditDir: req.auditDir, xdgConfigHome: req.xdgConfigHome });
  // An allow entry naming a protected path unlocks what it covers inside it, as in enforce.
  const inside = (globs: readonly string[], e: ProtectedPath) =>
    uniq(globs.filter((g) => globNames(g, e.abs)).flatMap((g) => (globKernelPaths(g, fs) ?? []).filter((u) => isUnder(u, e.abs))));
  const hidden: HiddenPath[] = [];
  const readOnly: ProtectedInWritable[] = [];
  for (const e of prot) {
    const wu = e.write ? [e.abs] : inside(fsp.allowWrite, e);
    const ru = e.read ? [e.abs] : inside(fsp.allowRead, e);
    if (wu.includes(e.abs)) continue; // unlocked as a whole by the user's allowWrite
    if (e.ownRecord && ru.length === 0 && wu.length === 0) hidden.push({ path: e.abs, reason: e.reason });
    else readOnly.push({ path: e.abs, reason: e.reason, writableInside: uniq([...e.writableInside, ...wu]) });
  }
  // What a hidden path covers needs no rule of its own.
  const isHiddenAt = (p: string) => hidden.some((h) => h.path !== p && isUnder(p, h.path));
  const hiddenOut = hidden.filter((h) => !isHiddenAt(h.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const roOut = readOnly.filter((x) => !hidden.some((h) => isUnder(x.path, h.path))).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hiddenPaths = hiddenOut.map((h) => h.path);
  const roPaths = roOut.map((x) => x.path);
  const backWritable = uniq(roOut.flatMap((x) => x.writableInside));

  const everything: LandlockAccess[] = [...RW_RIGHTS, 'make_char', 'make_block', 'ioctl_dev'];
  // Namespace tier: the mounts keep the integrity set (compile adds carve-outs for what they cannot cover);
  // a carve-out would also take the right to create entries next to a protected path.
  const cuts = req.tier === 'fallback' ? uniq([...hiddenPaths, ...roPaths, '/dev']) : ['/dev'];
  const grants: Grant[] = [{ access: everything, paths: ['/'], except: cuts }];
  if (req.tier === 'fallback') {
    grants.push({ access: READ_RIGHTS, paths: roPaths, except: below(roPaths, hiddenPaths) });
    grants.push({ access: RW_RIGHTS, paths: backWritable, except: below(backWritable, [...roPaths, ...hiddenPaths]) });
  }
  grants.push(
    { access: RW_RIGHTS, paths: [normalizeAbs(req.tmpDir)], except: [] },
    { access: ['read_file', 'write_file', 'read_dir', 'ioctl_dev', 'truncate'], paths: [...DEV_READ_WRITE], except: [] },
    { access: ['read_file', 'read_dir'], paths: [...DEV_READ_ONLY], except: [] },
    { access: RW_RIGHTS, paths: [...WARN_DEV_READ_WRITE], except: [] },
    ...terminalGrants(req.ttyPath, req.tier),
  );
  return {
    tier: req.tier,
    protected: prot,
    writableRoots: ['/'],
    protectedInWritable: roOut,
    hidden: hiddenOut,
    notes: [],
    grants: grants.filter((g) => g.paths.length > 0),
  };
}
