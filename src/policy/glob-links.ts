// Deny globs through symbolic links that exist before the run. A glob denies names, and the kernel follows a
// link on its way (its prefix, a folder it walks, or a match) to wherever the link points: what a process
// outside the run writes at `sec/x.pem` with `sec -> stage` lands at `stage/x.pem`, which the glob does not
// name, and where the script may have made the folder itself when it was missing at the start (red team
// rt12). So each such link adds the glob again at the link's target: `stage/*.pem`, which the kernel paths,
// the carving and the supervisor then keep like any glob. Pure: the disk is read through LinkFs.
import { GLOB_OPTIONS, globMatch } from './glob-match';
import { GLOB_LIST_BUDGET, globIsSubtree } from './glob-kernel-paths';
import { escapeGlob, hasMagic } from './paths';

/** The reads the walk needs: lstat's kind (links not followed), a link's text, a folder's names. */
export interface LinkFs {
  lstat(p: string): 'link' | 'dir' | 'other' | null;
  readlink(p: string): string | null;
  readdir(dir: string): string[] | null;
}

export interface GlobLinks {
  /** The globs again at each link's target (escaped), the given globs excluded. */
  aliases: string[];
  /** Per alias, the given glob it stands for and the link that led to it (the first, for a chain). */
  origins: Record<string, { glob: string; link: string }>;
  /** The links found on the globs' ways or at their matches: moving one elsewhere changes what it leads to. */
  links: string[];
  /** Where a glob's links cannot be known before the run (`..` after a missing folder, a loop, /proc, a link
   *  the script may replace, a walk over budget), each with the glob and why: no alias can keep it there. */
  unknown: Array<{ glob: string; why: string }>;
}

const MM = GLOB_OPTIONS;
/** Globs added through links, at most, before the rest count as unknown (links to links to links…). */
const MAX_ALIASES = 256;
/** Links followed while resolving one target (the kernel's own limit is 40). */
const MAX_HOPS = 40;

/** The glob's remaining segments once a walk stands at `p`: one per way the glob's head can match `p` (a `**`
 *  that matched may still go on). `''` when `p` is a match itself. */
function tailsAt(p: string, segs: string[]): string[] {
  const out = new Set<string>();
  for (let k = 2; k <= segs.length; k++) {
    if (!globMatch(p, segs.slice(0, k).join('/'), MM)) continue;
    out.add(segs.slice(k).join('/'));
    if (segs[k - 1] === '**') out.add(segs.slice(k - 1).join('/'));
  }
  return [...out];
}

type Target = { path: string; known: true } | { path: string; known: false; why: string };

const inProc = (p: string) => p === '/proc' || p.startsWith('/proc/');

/**
 * Where the link at `link` (in a folder with no link on its path) leads, followed as far as it exists. Not
 * known: a target through /proc (its links depend on the process that reads them: /proc/self/cwd is the
 * script's), or through another link or a '..' out of a folder the script may replace (`sec -> l2/stage` with
 * `l2 -> d1`, `sec -> stage/../real`: `l2` and `stage` are on no glob's way, so nothing keeps them; red teams
 * rt13, rt14).
 */
function resolveTarget(link: string, fs: LinkFs, replaceable: { link: (p: string) => boolean; folder: (p: string) => boolean }): Target {
  let hops = 0;
  // `cur` is a real path (no link on it) while `missing` is false; once a component is missing the rest is
  // only text, and a `..` there cannot be resolved before the run (the script may make the missing folder
  // a link).
  const walk = (base: string, text: string): Target => {
    let cur = text.startsWith('/') ? '/' : base;
    let missing = false;
    const through = (p: string): Target | null => (inProc(p) ? { path: text, known: false, why: 'it goes through /proc, whose links depend on the process reading them' } : null);
    for (const c of text.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (missing) return { path: text, known: false, why: "it goes up ('..') from a folder missing at the start" };
        // The folder left by '..' is on no glob's way (the alias is written without it): the script could put a
        // link in its place (red team rt14).
        if (replaceable.folder(cur)) return { path: text, known: false, why: `it goes up ('..') from ${cur}, which the script may replace` };
        cur = cur === '/' ? '/' : cur.slice(0, cur.lastIndexOf('/')) || '/';
        continue;
      }
      const next = cur === '/' ? `/${c}` : `${cur}/${c}`;
      const proc = through(next);
      if (proc) return proc;
      if (missing) {
        cur = next;
        continue;
      }
      const kind = fs.lstat(next);
      if (kind === 'link') {
        if (++hops > MAX_HOPS) return { path: text, known: false, why: 'too many links (a loop?)' };
        if (replaceable.link(next)) return { path: text, known: false, why: `it goes through the link ${next}, which the script may replace` };
        const inner = fs.readlink(next);
        if (inner === null) return { path: text, known: false, why: `its link ${next} cannot be read` };
        const t = walk(cur, inner);
        if (!t.known) return t;
        cur = t.path;
        missing = fs.lstat(cur) === null;
      } else {
        cur = next;
        missing = kind === null;
      }
    }
    return { path: cur, known: true };
  };
  const text = fs.readlink(link);
  if (text === null) return { path: '', known: false, why: 'it cannot be read' };
  return walk(link.slice(0, link.lastIndexOf('/')) || '/', text);
}

export interface GlobLinksOptions {
  /** Entries listed per glob before giving up (its links are then unknown). */
  budget?: number;
  /** Whether the script may remove or replace the entry at `p` (its folder is writable in the run). */
  replaceable?: (p: string) => boolean;
  /** Folders that stay where they are whatever the policy says (the workspace and its ancestors: a bind
   *  mount in the namespace tier, the grants' root in the fallback tier). */
  pinned?: (p: string) => boolean;
}

/**
 * The links on the ways of `globs` (absolute, POSIX) or at their matches, and the globs again at their
 * targets. Walks each glob from `/` through folders with no link on their path, at most GLOB_LIST_BUDGET
 * entries per glob (past that, what its links lead to is unknown). Links inside a match (a matched folder's own entries) are not followed: the glob covers
 * the match's names, as it covers a hard link's one name.
 */
export function globLinks(globs: string[], fs: LinkFs, opts: GlobLinksOptions = {}): GlobLinks {
  const budget = opts.budget ?? GLOB_LIST_BUDGET;
  const replaceable = opts.replaceable ?? (() => true);
  const pinned = opts.pinned ?? (() => false);
  const out: GlobLinks = { aliases: [], origins: {}, links: [], unknown: [] };
  const seen = new Set(globs);
  const queue = [...globs];
  while (queue.length) {
    const glob = queue.shift() as string;
    if (!glob.startsWith('/')) continue;
    const segs = glob.split('/');
    let left = budget;
    // A folder on a non-subtree glob's own way stays a folder there (the way rules: no link made there, no
    // folder moved on or off it): `sub/x/ln -> ../../stage` for sub/**/*.key goes up along its own way. Not a
    // link there: the rules keep its name, not its being a link, and `rm a/M; mkdir -p a/M/sub` turns
    // `a/L -> M/sub` into the script's folder (red team rt17).
    const carving = !globIsSubtree(glob);
    const onWay = (x: string) => globMatch(x, glob, { ...MM, partial: true }) && !globMatch(x, glob, MM);
    const replaceableHere = (x: string) => replaceable(x) && !(carving && onWay(x));
    // Inside a `**` of the glob a folder put in a passed link's place is the glob's too (venv/bin/python3 ->
    // python, node_modules/.bin/x -> ../x/cli.js under **/*.pem): only there may such a link change.
    const starred = (x: string) => carving && onWay(x) && tailsAt(x, segs).some((t) => t.startsWith('**'));
    const linkReplaceable = (x: string) => replaceable(x) && !starred(x);
    const onLink = (p: string) => {
      if (!out.links.includes(p)) out.links.push(p);
      // A literal or subtree deny whose way or name is a link: its namespace-tier mount lands at the target,
      // so nothing pins the folders on the way to the link, and the script could move one away and put its
      // own there (`mv d d.old; mv d2 d` with d/L a link, red team rt18). Followed only when none can move.
      if (!carving) {
        for (let a = p.slice(0, p.lastIndexOf('/')); a.lastIndexOf('/') > 0; a = a.slice(0, a.lastIndexOf('/'))) {
          if (!pinned(a) && replaceable(a) && replaceable(a.slice(0, a.lastIndexOf('/')))) {
            out.unknown.push({ glob, why: `the folder ${a} on the way to the link ${p} may be moved by the script (a literal or subtree deny carves no folder)` });
            break;
          }
        }
      }
      // On a subtree glob's way (L for L/stage) nothing carves the link's folder in the namespace tier, so the
      // script's `rm L; ln -s mine L` goes to the kernel alone (red team rt16): only a link it cannot replace
      // is followed. A match (the denied name itself) is kept by the deny.
      // Still followed as far as it goes: warn mode reports what lands there (enforce refuses the run anyway).
      if (!carving && !globMatch(p, glob, MM) && replaceable(p)) {
        out.unknown.push({ glob, why: `the link ${p} on its way may be replaced by the script (a literal or subtree deny carves no folder)` });
      }
      const t = resolveTarget(p, fs, { link: linkReplaceable, folder: replaceableHere });
      if (!t.known) {
        out.unknown.push({ glob, why: `the link ${p} -> ${fs.readlink(p) ?? '?'}: ${t.why}` });
        return;
      }
      for (const tail of tailsAt(p, segs)) {
        const alias = tail ? `${t.path === '/' ? '' : escapeGlob(t.path)}/${tail}` : escapeGlob(t.path);
        if (seen.has(alias)) continue;
        seen.add(alias);
        if (seen.size - globs.length > MAX_ALIASES) {
          out.unknown.push({ glob, why: `the link ${p}: more than ${MAX_ALIASES} links to follow` });
          return;
        }
        out.aliases.push(alias);
        out.origins[alias] = out.origins[glob] ?? { glob, link: p };
        queue.push(alias);
      }
    };
    // `dir` exists, is a folder and has no link on its path; `depth` is its number of segments.
    const visit = (dir: string, depth: number): void => {
      // Past a `**` any name may be on the way; before it, a literal segment names the one entry to look at.
      const seg = segs[depth];
      const starred = segs.slice(0, depth).includes('**');
      if (seg === undefined && !starred) return;
      const names = !starred && seg !== '**' && !hasMagic(seg) ? [seg.replace(/\\(.)/g, '$1')] : (fs.readdir(dir) ?? []);
      for (const name of names) {
        if (--left < 0) {
          // A link past the budget would lead the glob's names somewhere unknown: say so, never stop quietly.
          if (left === -1) out.unknown.push({ glob, why: `more than ${budget} entries to look through for links (below ${dir})` });
          return;
        }
        const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
        if (!globMatch(child, glob, { ...MM, partial: true })) continue;
        const kind = fs.lstat(child);
        if (kind === 'link') onLink(child);
        else if (kind === 'dir' && !globMatch(child, glob, MM)) visit(child, depth + 1);
      }
    };
    visit('/', 1);
  }
  return out;
}
