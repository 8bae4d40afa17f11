// Keeps the context key `scriptSandbox.runnableFiles` (see runnable-rules.ts) in step with the workspace:
// files with a `#!` line or the executable bit, found by a bounded scan at activation and kept current on
// open, save and the file watcher. The Run in Sandbox menus read it in their `when` clauses.
import * as vscode from 'vscode';
import { MAX_RUNNABLE_FILES, RUNNABLE_CONTEXT_KEY, runnableByContent, worthProbing } from './runnable-rules';

/** Files looked at by the activation scan; a larger workspace gets the rest from open/save/watcher events. */
const SCAN_LIMIT = 5000;
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.sandbox/**}';
const PUBLISH_DELAY_MS = 150;

export class RunnableFiles implements vscode.Disposable {
  private readonly paths = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private published = '';
  /** Resolves when the activation scan has been published (tests wait for it). */
  readonly ready: Promise<void>;

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*', false, false, false);
    this.disposables.push(
      watcher,
      watcher.onDidCreate((u) => void this.probe(u)),
      watcher.onDidChange((u) => void this.probe(u)),
      watcher.onDidDelete((u) => this.forget(u)),
      vscode.workspace.onDidOpenTextDocument((d) => void this.probe(d.uri)),
      vscode.workspace.onDidSaveTextDocument((d) => void this.probe(d.uri)),
      vscode.workspace.onDidRenameFiles((e) => e.files.forEach((f) => (this.forget(f.oldUri), void this.probe(f.newUri)))),
    );
    this.ready = this.scan();
  }

  /** The paths in the context key now (for tests and the API). */
  list(): string[] {
    return [...this.paths].sort();
  }

  has(uri: vscode.Uri): boolean {
    return this.paths.has(uri.fsPath);
  }

  private async scan(): Promise<void> {
    const uris = await vscode.workspace.findFiles('**/*', EXCLUDE, SCAN_LIMIT);
    for (const u of uris) if (u.scheme === 'file' && worthProbing(u.fsPath) && (await runnableByContent(u.fsPath))) this.add(u.fsPath);
    for (const d of vscode.workspace.textDocuments) await this.probe(d.uri);
    this.publishNow();
  }

  private async probe(uri: vscode.Uri): Promise<void> {
    if (uri.scheme !== 'file' || !worthProbing(uri.fsPath)) return;
    if (await runnableByContent(uri.fsPath)) this.add(uri.fsPath);
    else if (this.paths.delete(uri.fsPath)) this.schedule();
  }

  private add(p: string): void {
    if (this.paths.has(p)) return;
    // Bounded: past the limit, the oldest entry makes room (a Set iterates in insertion order).
    if (this.paths.size >= MAX_RUNNABLE_FILES) this.paths.delete(this.paths.values().next().value!);
    this.paths.add(p);
    this.schedule();
  }

  private forget(uri: vscode.Uri): void {
    let changed = this.paths.delete(uri.fsPath);
    // A deleted folder: everything below it.
    const prefix = uri.fsPath.endsWith('/') ? uri.fsPath : `${uri.fsPath}/`;
    for (const p of this.paths) if (p.startsWith(prefix)) changed = this.paths.delete(p) || changed;
    if (changed) this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.publishNow(), PUBLISH_DELAY_MS);
  }

  private publishNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const list = this.list();
    const key = list.join('\0');
    if (key === this.published) return;
    this.published = key;
    // An object: the `in` operator of a when clause tests its keys.
    void vscode.commands.executeCommand('setContext', RUNNABLE_CONTEXT_KEY, Object.fromEntries(list.map((p) => [p, true])));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
