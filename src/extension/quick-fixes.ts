// Quick fixes on violation diagnostics, each an edit of `.vscode/sandbox.json` that is applied and shown:
// allow the path, allow the host, or switch the workspace to warn mode. Loosening edits still need the
// user's approval on the next run (a workspace policy may only tighten unless approved).
import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE, type ViolationDiagnostics } from './diagnostics';
import { fixesFor, preferredFix } from './fixes';
import { policyFileEdit, policyFileUri } from './policy-file';

export class SandboxQuickFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly diagnostics: ViolationDiagnostics) {}

  async provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    if (!folder) return [];
    const actions: vscode.CodeAction[] = [];
    const seen = new Set<string>();
    for (const d of context.diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      const v = this.diagnostics.violationFor(doc.uri, d);
      if (!v) continue;
      const fixes = fixesFor(v, folder.uri.fsPath);
      const preferred = preferredFix(v, fixes);
      for (const [i, [title, change]] of fixes.entries()) {
        if (seen.has(title)) continue;
        seen.add(title);
        const edit = await policyFileEdit(folder.uri, change);
        if (!edit) continue;
        const a = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
        a.diagnostics = [d];
        // Preferred (Ctrl+. applies it) only when obvious (see preferredFix).
        a.isPreferred = i === preferred;
        a.edit = edit;
        a.command = { command: 'scriptSandbox.openPolicyFile', title: 'Show the edit', arguments: [policyFileUri(folder.uri)] };
        actions.push(a);
      }
    }
    return actions;
  }
}
