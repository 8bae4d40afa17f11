// The file emulation of carved directories. In the fallback tier a write grant on a directory that holds a
// protected entry (the workspace root holds `.git`, `.vscode`, `.sandbox`) is carved: Landlock gets rules on
// the directory's existing children only, because its rights are hierarchical and MAKE_REG on the root would
// also cover `.git/hooks`. So creating, removing or renaming a name in a carved directory (and anything inside what
// was created there later) has no Landlock rule. For those paths the supervisor performs the call itself,
// from its own copy of the arguments, deciding on the policy's meaning (the write grants as written, minus
// the protected and hidden paths), never answering "continue": parent directories are opened beneath the
// grant root with no symlinks allowed, the final name is used with O_NOFOLLOW, and an opened file reaches
// the target through SECCOMP_IOCTL_NOTIF_ADDFD. Everything Landlock covers goes on as before.
//
// Both tiers carve the directories where a non-subtree deny glob (`data/*.key`, `secrets/*.pem`) could gain a
// match during the run (src/policy/glob-kernel-paths.ts globNewNameCuts), so the emulation runs in the
// namespace tier too. The supervisor works in the host's view, the target in its mount namespace: the same
// paths for the write grants (moved back read-write), while read-only binds and hidden covers sit only on
// protected, hidden and deny-matched paths, which decide() refuses by the policy before anything is performed.
import * as path from 'node:path';
import type { Notification, NotifyCalls, TargetMemory } from '../../../native/linux/notify';
import type { FileOpCalls } from '../../../native/linux/notify-addfd';
import { GlobMatcher } from '../../policy/glob-match';
import type { SupervisedRun } from './supervisor-protocol';
import type { Refuse } from './supervisor-emulate-call';
import type { WarnSide } from './supervisor-emulate-verdicts';
import type { Verdict } from './supervisor-decide';
import type { FsModel } from '../../policy/fs-model-types';
import { isUnder } from '../../policy/paths';
import { MakeCall } from './supervisor-emulate-make';
import { MetadataCall, PERFORMED_METADATA } from './supervisor-metadata';
import { carvingGlobs, sameInHostView } from './supervisor-emulate-globs';
import { withPhysicalForms } from './physical-forms';
import { O_ACCMODE, O_CREAT, O_TRUNC } from './supervisor-abi';

export type { Refuse } from './supervisor-emulate-call';

/**
 * Warn mode's run as its kernel rules stand: the integrity model's grants (warn's Landlock keeps the integrity
 * set only, carving every folder above a protected path), and none of the policy's deny lists (warn's
 * Landlock carves none; what enforce would block is reported from the run itself, WarnSide). Reads reach the
 * worker in warn mode to be reported, so none passes here unseen (`reportReads`).
 */
function kernelView(r: SupervisedRun, kernel: FsModel): SupervisedRun {
  const fsp = r.policy.filesystem;
  return { ...r, grants: kernel.grants, protected: kernel.protected, policy: { ...r.policy, filesystem: { ...fsp, denyRead: [], denyWrite: [], reportReads: true } } };
}

/**
 * Directories of write grants that carve-outs left without a Landlock rule of their own: each ancestor of a
 * carve-out from the grant's root down to (not including) the carve-out.
 */
export function carvedDirs(r: Pick<SupervisedRun, 'grants'>): Set<string> {
  const out = new Set<string>();
  const allExcept = r.grants.flatMap((g) => g.except);
  for (const g of r.grants) {
    if (!g.access.includes('write_file')) continue;
    for (const e of g.except) {
      for (const root of g.paths) {
        if (e === root || !isUnder(e, root)) continue;
        for (let d = path.posix.dirname(e); ; d = path.posix.dirname(d)) {
          if (!allExcept.some((x) => isUnder(d, x))) out.add(d);
          if (d === root || d === '/') break;
        }
      }
    }
  }
  return out;
}

/** The calls the emulation performs (the fallback tier's metadata calls aside): anything else is the worker's. */
const EMULATED: ReadonlySet<string> = new Set(['open', 'creat', 'openat', 'openat2', 'mkdir', 'mkdirat', 'unlink', 'unlinkat', 'rmdir', 'rename', 'renameat', 'renameat2', 'link', 'linkat', 'truncate', 'symlink', 'symlinkat', 'mknod', 'mknodat']);

/** Per run: what the emulation derives from it once, and what the supervisor made since. */
interface RunEmulation {
  /** The run with its paths' physical forms too (physical-forms.ts). */
  given: SupervisedRun;
  /** What the calls are performed against: `given`, or in warn mode its kernel view (kernelView). */
  r: SupervisedRun;
  /** Warn mode: warn's kernel model (the integrity set), the only refusal. */
  kernel: FsModel | null;
  /** Its carved directories (the grants do not change during a run). */
  carved: Set<string>;
  /** Whether a deny-read glob carves directories for reading (the policy does not change during a run). */
  readCarving: boolean;
  /** What the supervisor created in carved directories (no Landlock rule covers it or its contents). */
  made: Set<string>;
}

export class FileEmulator {
  private readonly runs = new Map<string, RunEmulation>();

  constructor(
    private readonly n: NotifyCalls,
    private readonly ops: FileOpCalls,
    private readonly mem: TargetMemory,
  ) {}

  /** The policies' globs, compiled once for every call this worker performs. */
  private readonly globs = new GlobMatcher();

  forget(runId: string): void {
    this.runs.delete(runId);
  }

  private emulation(run: SupervisedRun): RunEmulation {
    let e = this.runs.get(run.runId);
    if (e === undefined) {
      const given = withPhysicalForms(run);
      const kernel = given.violation !== 'refuse' && given.kernel ? given.kernel : null;
      const r = kernel ? kernelView(given, kernel) : given;
      const carved = new Set([...carvedDirs(r)].filter((d) => sameInHostView(r, d)));
      e = { given, r, kernel, carved, readCarving: carvingGlobs(r.policy, 'read').length > 0, made: new Set() };
      this.runs.set(run.runId, e);
    }
    return e;
  }

  /**
   * Performs `name` for the target when it touches a carved directory (either mode, either tier); true when
   * the notification was answered here. false: the worker decides as before. Warn mode works on the folders
   * its integrity rules carve: what the kernel keeps there is refused (EACCES, in warn too), anything else is
   * performed and what enforce would block reported (`report`).
   */
  handle(run: SupervisedRun, note: Notification, name: string, refuse: Refuse, report: (v: Verdict) => void): boolean {
    if (run.fileTier === undefined || (run.violation !== 'refuse' && !run.kernel)) return false;
    const metadata = run.fileTier === 'fallback' && PERFORMED_METADATA.has(name);
    if (!metadata && !EMULATED.has(name)) return false; // a network call: nothing to derive for it
    const { given, r, kernel, carved, readCarving, made } = this.emulation(run);
    const warn: WarnSide | undefined = kernel ? { policyRun: given, kernel, report } : undefined;
    const answer: Refuse = warn ? (v, errno) => refuse(v, errno, true) : refuse;
    // The fallback tier's chmod/chown/utimes: performed or refused here, never continued (supervisor-metadata.ts).
    if (metadata) return new MetadataCall(this.n, this.ops, this.mem, r, note, carved, made, answer, this.globs, warn).metadata(name);
    // Without carved directories only read opens come here for nothing (the fallback tier notifies them).
    if (carved.size === 0 && name !== 'open' && name !== 'openat' && name !== 'openat2') return false;
    // The common open, decided without a call object: what OneCall.open does first when nothing was made and
    // nothing is carved for this access (the path is not even read there either).
    if (made.size === 0 && (name === 'open' || name === 'openat' || name === 'creat')) {
      const flags = name === 'creat' ? 0o1101 : Number(note.args[name === 'open' ? 1 : 2]! & 0xffffffffn);
      const write = (flags & O_ACCMODE) !== 0 || (flags & (O_CREAT | O_TRUNC)) !== 0;
      if (write ? carved.size === 0 : !readCarving) {
        // OneCall.open's pass(): a read the policy does not report reached us only for this emulation.
        if (write || r.policy.filesystem.reportReads) return false;
        this.n.respond(r.listener, note.id, { continue: true });
        return true;
      }
    }
    const ctx = new MakeCall(this.n, this.ops, this.mem, r, note, carved, made, answer, this.globs, warn);
    switch (name) {
      case 'open':
      case 'creat':
      case 'openat':
      case 'openat2':
        return ctx.open(name);
      case 'mkdir':
      case 'mkdirat':
        return ctx.mkdir(name);
      case 'unlink':
      case 'unlinkat':
      case 'rmdir':
        return ctx.unlink(name);
      case 'rename':
      case 'renameat':
      case 'renameat2':
        return ctx.rename(name);
      case 'link':
      case 'linkat':
        return ctx.link(name);
      case 'truncate':
        return ctx.truncate(name);
      case 'symlink':
      case 'symlinkat':
        return ctx.symlink(name);
      case 'mknod':
      case 'mknodat':
        return ctx.mknod(name);
      default:
        return false;
    }
  }
}
