// Which git-scripts Run Git Script in Sandbox offers, and in which workspace folder each runs. A folder's
// own definitions (its resource-scoped settings, its .vscode/sandbox.json) run in that folder: its policy,
// its audit log. A definition every folder sees (user or .code-workspace settings) and a name several
// folders define are one entry; picking it asks which folder, unless only one is open. Pure (no vscode,
// generic over the folder type), so a unit test checks the choice.
import type { GitScriptSpec } from '../policy/git-script-spec';

export interface Offer<F> {
  /** The folder it runs in; undefined when no folder is open. */
  folder: F | undefined;
  spec: GitScriptSpec;
  /** Where it is defined, for the pick's detail: "user settings", "a/.vscode/sandbox.json", … */
  source: string;
}

/** One entry of the pick: a name and the folders it can run in (each at most once). */
export interface OfferGroup<F> {
  name: string;
  offers: Array<Offer<F>>;
}

export function scriptName(spec: GitScriptSpec): string {
  return spec.name ?? spec.script.split('/').pop()!;
}

/**
 * Groups offers by name, keeping their order. A folder appears once per entry: the same name defined twice
 * for one folder (settings and policy file) stays two entries, as before multi-root.
 */
export function groupOffers<F>(offers: ReadonlyArray<Offer<F>>): Array<OfferGroup<F>> {
  const groups: Array<OfferGroup<F>> = [];
  for (const o of offers) {
    const name = scriptName(o.spec);
    const g = groups.find((x) => x.name === name && !x.offers.some((y) => y.folder === o.folder));
    if (g) g.offers.push(o);
    else groups.push({ name, offers: [o] });
  }
  return groups;
}

export type FolderChoice<F> =
  /** Run this definition in its folder. */
  | { kind: 'run'; offer: Offer<F> }
  /** Ask: `all` means every open folder is a candidate (showWorkspaceFolderPick), else pick among `offers`. */
  | { kind: 'ask'; all: boolean; offers: Array<Offer<F>> };

export function folderChoice<F>(group: OfferGroup<F>, openFolders: readonly F[]): FolderChoice<F> {
  if (group.offers.length === 1) return { kind: 'run', offer: group.offers[0]! };
  const all = openFolders.length > 0 && openFolders.every((f) => group.offers.some((o) => o.folder === f));
  return { kind: 'ask', all, offers: group.offers };
}

/**
 * A definition handed to the command (Run Again, a test, another extension): the folder it names if open,
 * else the only folder, else ask among all (undefined folder list: no folder is open, run without one).
 */
export function folderForSpec<F>(named: F | undefined, openFolders: readonly F[]): { kind: 'run'; folder: F | undefined } | { kind: 'ask' } {
  if (named !== undefined && openFolders.includes(named)) return { kind: 'run', folder: named };
  if (openFolders.length <= 1) return { kind: 'run', folder: openFolders[0] };
  return { kind: 'ask' };
}

/** The pick's description: the repository and ref when every definition agrees, else how many folders. */
export function groupDescription<F>(g: OfferGroup<F>): string {
  const at = new Set(g.offers.map((o) => `${o.spec.repo} @ ${o.spec.ref}`));
  return at.size === 1 ? [...at][0]! : `defined in ${g.offers.length} folders`;
}

/** Offers of one folder: shared definitions (user, .code-workspace) and the folder's own, without repeats. */
export function folderOffers<F>(folder: F | undefined, lists: ReadonlyArray<{ source: string; specs: readonly GitScriptSpec[] }>): Array<Offer<F>> {
  const out: Array<Offer<F>> = [];
  const seen = new Set<string>();
  for (const l of lists) {
    for (const spec of l.specs) {
      const key = JSON.stringify(spec);
      if (seen.has(key)) continue; // the same definition at user and workspace level is one
      seen.add(key);
      out.push({ folder, spec, source: l.source });
    }
  }
  return out;
}
