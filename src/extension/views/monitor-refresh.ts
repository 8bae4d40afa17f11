// Which Monitor elements to refresh after a change in the run store. A refresh re-renders the rows it
// covers; a row re-rendered under an open context menu loses the element the menu was opened on (Run Again
// on a finished run while another run was still printing). So the tree refreshes the root only when the
// list itself changed (a run added, restored or dropped), a run only when something its row or children show
// changed, and nothing otherwise. Pure: no vscode, so it is unit-tested.

/** What the tree shows of one run: its stable key and a digest of everything its row and children render. */
export interface RunShown {
  readonly key: string;
  readonly shown: string;
}

/** `root`: refresh the whole list; otherwise the keys of the runs to refresh (possibly none). */
export type RefreshPlan = { readonly root: true } | { readonly root: false; readonly runs: readonly string[] };

export class MonitorRefreshPlanner {
  private order: readonly string[] = [];
  private readonly last = new Map<string, string>();

  /** Called with the list as it is now, newest first; remembers it for the next call. */
  plan(now: readonly RunShown[]): RefreshPlan {
    const order = now.map((r) => r.key);
    const listChanged = order.length !== this.order.length || order.some((k, i) => k !== this.order[i]);
    const runs = now.filter((r) => this.last.get(r.key) !== r.shown).map((r) => r.key);
    this.order = order;
    this.last.clear();
    for (const r of now) this.last.set(r.key, r.shown);
    return listChanged ? { root: true } : { root: false, runs };
  }
}

/** The fields of a run the Monitor renders (monitor-tree.ts): a change in any of them re-renders its row. */
export interface RunFields {
  readonly key: string;
  readonly id: string;
  readonly label: string;
  readonly status: string;
  readonly violations: readonly unknown[];
  readonly alerts: readonly unknown[];
  readonly limits: readonly unknown[];
  readonly notes: readonly unknown[];
  readonly policy?: unknown;
  readonly result?: unknown;
  readonly error?: unknown;
}

export function runShown(r: RunFields): RunShown {
  // Counts, not contents: violations, alerts, limits and notes are only ever appended to.
  const shown = JSON.stringify([r.id, r.label, r.status, r.violations.length, r.alerts.length, r.limits.length, r.notes.length, r.policy !== undefined, r.result ?? null, r.error ?? null]);
  return { key: r.key, shown };
}
