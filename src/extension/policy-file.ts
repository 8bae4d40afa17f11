// The workspace policy file `.vscode/sandbox.json` (JSON with comments): validated with the policy's zod
// schema as the user types, each problem shown in Problems on the offending key; read as the workspace layer
// of a run; edited by quick fixes.
import * as vscode from 'vscode';
import * as jsonc from 'jsonc-parser';
import type { GitScriptSpec } from '../policy/git-script-spec';
import type { PolicyInput } from '../policy/schema';
import { analyzePolicyText } from './policy-text';
import { STARTER_POLICY } from './policy-starter';
import { policyTextDigest } from '../host/loosening-approvals';
import type { PolicyChange } from './fixes';
import type { RuleDocLink } from './diagnostics';
import { policyDiagnostics } from './policy-problems';

export const POLICY_FILE = '.vscode/sandbox.json';
export const POLICY_GLOB = '**/.vscode/sandbox.json';

export function policyFileUri(folder: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(folder, POLICY_FILE);
}

export interface WorkspaceLayer {
  uri: vscode.Uri;
  layer: PolicyInput;
  /** The git-scripts the file defines (not part of the policy). */
  gitScripts: GitScriptSpec[];
  /** SHA-256 of the file text: loosening approvals are tied to exactly this content. */
  digest: string;
}

/** The policy file of a folder as saved on disk; null when there is none; throws naming the first problem. */
export async function readWorkspaceLayer(folder: vscode.Uri): Promise<WorkspaceLayer | null> {
  const uri = policyFileUri(folder);
  let bytes: Uint8Array;
  try {
    bytes = await vscode.workspace.fs.readFile(uri);
  } catch (e) {
    if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return null;
    throw new Error(`${uri.fsPath}: cannot read (${(e as Error).message})`);
  }
  const text = Buffer.from(bytes).toString('utf8');
  const a = analyzePolicyText(text);
  // The same lines the CLI prints (FILE:LINE:COLUMN: MESSAGE).
  if (!a.ok) throw new PolicyFileError(uri, a.problems.map((p) => `${uri.fsPath}:${p.line}:${p.column}: ${p.message}`).join('\n'));
  return { uri, layer: a.layer, gitScripts: a.gitScripts, digest: policyTextDigest(text) };
}

export class PolicyFileError extends Error {
  constructor(
    readonly uri: vscode.Uri,
    message: string,
  ) {
    super(message);
    this.name = 'PolicyFileError';
  }
}

/** Keeps Problems in step with every `.vscode/sandbox.json`: open documents as typed, others as saved. */
export class PolicyFileValidator implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly collection = vscode.languages.createDiagnosticCollection('sandbox-policy');

  /** `docs` links a problem's code to the README section on the file (as a violation's rule is linked). */
  constructor(private readonly docs: RuleDocLink) {
    const watcher = vscode.workspace.createFileSystemWatcher(POLICY_GLOB);
    this.disposables.push(
      this.collection,
      watcher,
      watcher.onDidCreate((u) => void this.validateUri(u)),
      watcher.onDidChange((u) => void this.validateUri(u)),
      watcher.onDidDelete((u) => this.collection.delete(u)),
      vscode.workspace.onDidOpenTextDocument((d) => this.validateDocument(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.validateDocument(e.document)),
    );
    for (const d of vscode.workspace.textDocuments) this.validateDocument(d);
    void vscode.workspace.findFiles(POLICY_GLOB, '**/node_modules/**', 50).then((uris) => uris.forEach((u) => void this.validateUri(u)));
  }

  private isPolicyFile(uri: vscode.Uri): boolean {
    return uri.scheme === 'file' && uri.path.endsWith(`/${POLICY_FILE}`);
  }

  private validateDocument(doc: vscode.TextDocument): void {
    if (this.isPolicyFile(doc.uri)) this.publish(doc.uri, doc.getText(), doc.languageId === 'jsonc' || doc.languageId === 'json');
  }

  private async validateUri(uri: vscode.Uri): Promise<void> {
    if (!this.isPolicyFile(uri)) return;
    // An open document is validated as typed; the disk copy would be stale.
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) return;
    try {
      this.publish(uri, Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
    } catch {
      this.collection.delete(uri);
    }
  }

  private publish(uri: vscode.Uri, text: string, openAsJson = false): void {
    const a = analyzePolicyText(text);
    if (a.ok) return this.collection.delete(uri);
    this.collection.set(
      uri,
      policyDiagnostics(text, a.problems, openAsJson).map((p) => {
        const range = new vscode.Range(p.start.line, p.start.character, p.end.line, p.end.character);
        const d = new vscode.Diagnostic(range, p.message, vscode.DiagnosticSeverity.Error);
        d.source = p.source;
        const target = this.docs(p.code.anchor);
        d.code = target ? { value: p.code.value, target } : p.code.value;
        return d;
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/**
 * A WorkspaceEdit applying the change to the folder's policy file (created when missing); comments and
 * formatting of an existing file are kept. Null when the change is already there.
 */
export async function policyFileEdit(folder: vscode.Uri, change: PolicyChange): Promise<vscode.WorkspaceEdit | null> {
  const uri = policyFileUri(folder);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  let text: string | null = open?.getText() ?? null;
  if (text === null) {
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    } catch {
      text = null;
    }
  }
  const edit = new vscode.WorkspaceEdit();
  const base = text && text.trim() ? text : '{}';
  const current = jsonc.parse(base, [], { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  const existing = change.path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), current);
  let edits: jsonc.Edit[];
  const formattingOptions = { insertSpaces: true, tabSize: 2, eol: '\n' };
  if (change.kind === 'append') {
    const arr = Array.isArray(existing) ? existing : [];
    if (arr.includes(change.value)) return null;
    edits = Array.isArray(existing)
      ? jsonc.modify(base, [...change.path, arr.length], change.value, { formattingOptions, isArrayInsertion: true })
      : jsonc.modify(base, change.path, [change.value], { formattingOptions });
  } else {
    if (JSON.stringify(existing) === JSON.stringify(change.value)) return null;
    edits = jsonc.modify(base, change.path, change.value, { formattingOptions });
  }
  if (text === null || !text.trim()) {
    const full = jsonc.applyEdits(base, edits) + '\n';
    if (text === null) edit.createFile(uri, { ignoreIfExists: true });
    edit.replace(uri, new vscode.Range(0, 0, text === null ? 0 : Number.MAX_SAFE_INTEGER, 0), full);
    return edit;
  }
  const doc = open ?? (await vscode.workspace.openTextDocument(uri));
  for (const e of edits) edit.replace(uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
  return edit;
}

/** The folder's policy file, created with STARTER_POLICY when missing (never overwriting one). */
export async function ensurePolicyFile(folder: vscode.Uri): Promise<vscode.Uri> {
  const uri = policyFileUri(folder);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    const edit = new vscode.WorkspaceEdit();
    edit.createFile(uri, { ignoreIfExists: true, contents: Buffer.from(STARTER_POLICY) });
    if (!(await vscode.workspace.applyEdit(edit))) await vscode.workspace.fs.writeFile(uri, Buffer.from(STARTER_POLICY));
  }
  return uri;
}
