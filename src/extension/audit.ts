// The audit log from the editor: open it, or reveal a run's first record in it.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { auditPathFor } from './config';
import type { RunRecord } from './runs';

export async function openAuditLog(folder: vscode.WorkspaceFolder | undefined): Promise<void> {
  const ws = folder ?? (vscode.workspace.workspaceFolders?.length === 1 ? vscode.workspace.workspaceFolders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Audit log of which folder?' }));
  if (!ws) return;
  const file = auditPathFor(ws.uri.fsPath, ws.uri);
  if (!fs.existsSync(file)) {
    void vscode.window.showInformationMessage(`Script Sandbox: no audit log yet at ${file}; it is written by the first sandboxed run.`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const last = new vscode.Position(Math.max(0, doc.lineCount - 1), 0);
  editor.revealRange(new vscode.Range(last, last), vscode.TextEditorRevealType.InCenter);
}

export async function revealRunInAuditLog(run: RunRecord): Promise<void> {
  if (!fs.existsSync(run.auditPath)) {
    void vscode.window.showWarningMessage(`Script Sandbox: the audit log ${run.auditPath} does not exist (yet).`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(run.auditPath));
  const needle = `"runId":"${run.id}"`;
  const lines = doc.getText().split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  if (i < 0) {
    void vscode.window.showWarningMessage(`Script Sandbox: run ${run.id} is not in ${run.auditPath} (was the log rotated or moved?).`);
    return;
  }
  const last = lines.reduce((acc, l, n) => (l.includes(needle) ? n : acc), i);
  editor.selection = new vscode.Selection(i, 0, last, lines[last]!.length);
  editor.revealRange(new vscode.Range(i, 0, last, 0), vscode.TextEditorRevealType.InCenter);
}
