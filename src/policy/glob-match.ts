// Globs compiled once, for whoever matches many paths against the same few globs (the supervisor decides
// every supervised call against the policy's lists). minimatch() compiles its pattern to a RegExp on every
// call, which was most of a supervised call's cost below a deny glob's folder. The owner holds the cache.
import { minimatch, Minimatch, type MinimatchOptions } from 'minimatch';

/** How every glob of a policy is matched: dotfiles match `*`, no comments, no negation. */
export const GLOB_OPTIONS = { dot: true, nocomment: true, nonegate: true } as const;

/** Compiled patterns kept per owner before the cache starts again (a policy has a few dozen globs). */
const MAX_COMPILED = 512;

export class GlobMatcher {
  private readonly compiled = new Map<string, Minimatch>();

  match(p: string, glob: string, opts: MinimatchOptions): boolean {
    const key = `${opts.partial ? 'p' : 'x'}${opts.nocase ? 'i' : 'c'}${opts.dot ? 'd' : ''}${opts.nocomment ? 'm' : ''}${opts.nonegate ? 'n' : ''}${opts.windowsPathsNoEscape ? 'w' : ''}\0${glob}`;
    let m = this.compiled.get(key);
    if (!m) {
      if (this.compiled.size >= MAX_COMPILED) this.compiled.clear();
      m = new Minimatch(glob, opts);
      this.compiled.set(key, m);
    }
    return m.match(p, opts.partial);
  }
}

/** minimatch(p, glob, opts), through `m`'s compiled patterns when there is one. */
export function globMatch(p: string, glob: string, opts: MinimatchOptions, m?: GlobMatcher): boolean {
  return m ? m.match(p, glob, opts) : minimatch(p, glob, opts);
}
