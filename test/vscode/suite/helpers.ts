// Helpers for the in-VS Code suites: the extension's API, waiting for diagnostics, settings.
import * as vscode from 'vscode';

export const EXTENSION_ID = 'script-sandbox.script-sandbox';

export interface RunJson {
  runId: string;
  status: string;
  exitCode?: number;
  violations: Array<{ time: string; kind: string; action: string; path?: string; address?: string; rule: string; message: string; severity: string }>;
  policy?: { mode: string; profile: string; filesystem: { allowWrite: string[] } };
  notes: string[];
}

export interface Api {
  runs(): RunJson[];
  hostPid(): number | null;
  runnableFiles(): Promise<string[]>;
  restoredRuns(): Promise<number>;
  badge(): number;
  monitor: { getChildren: (n?: unknown) => unknown[]; getTreeItem: (n: unknown) => vscode.TreeItem };
}

export async function api(): Promise<Api> {
  const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed in this window`);
  return ext.activate();
}

export function workspaceUri(...parts: string[]): vscode.Uri {
  const ws = vscode.workspace.workspaceFolders?.[0];
  if (!ws) throw new Error('no workspace folder');
  return vscode.Uri.joinPath(ws.uri, ...parts);
}

export async function runScript(uri: vscode.Uri): Promise<RunJson> {
  const r = await vscode.commands.executeCommand<RunJson | undefined>('scriptSandbox.runInSandbox', uri);
  if (!r) throw new Error(`Run in Sandbox returned nothing for ${uri.fsPath} (the run did not start)`);
  return r;
}

/**
 * Records when each diagnostic of a source first appeared on a file (ms since the epoch): the earlier of the
 * change event and a 5 ms poll of getDiagnostics (the event is debounced by VS Code, the poll is not).
 */
export function watchDiagnostics(uri: vscode.Uri, source: string): { seen: Array<{ at: number; d: vscode.Diagnostic }>; dispose(): void } {
  const seen: Array<{ at: number; d: vscode.Diagnostic }> = [];
  const key = (d: vscode.Diagnostic) => `${d.range.start.line}:${d.message}`;
  const look = () => {
    const at = Date.now();
    for (const d of vscode.languages.getDiagnostics(uri)) {
      if (d.source === source && !seen.some((s) => key(s.d) === key(d))) seen.push({ at, d });
    }
  };
  const sub = vscode.languages.onDidChangeDiagnostics((e) => {
    if (e.uris.some((u) => u.toString() === uri.toString())) look();
  });
  const timer = setInterval(look, 5);
  return {
    seen,
    dispose: () => {
      clearInterval(timer);
      sub.dispose();
    },
  };
}

export async function waitFor<T>(what: string, f: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('scriptSandbox').update(key, value, vscode.ConfigurationTarget.Global);
}
