// Run Git Script in Sandbox: pick a git-script defined in settings or in .vscode/sandbox.json (or enter a
// repository, ref and path), fetch it in the host's sandbox with progress, ask for approval of a new or
// changed commit, then run it like a script of the workspace (terminal, Problems, monitor, audit).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GitScriptSpecSchema, type GitScriptSpec } from '../policy/git-script-spec';
import { SECTION } from './config';
import { HostRejection, type GitFetched, type HostClient } from './host-client';
import { policyFileUri, readWorkspaceLayer } from './policy-file';
import type { RunService } from './run-service';
import type { RunRecord } from './runs';

export interface GitScriptChoice {
  spec: GitScriptSpec;
  /** Where it is defined: "settings" or the policy file's path. */
  source: string;
}

/**
 * The git-scripts of a folder: from settings, then from the folder's .vscode/sandbox.json. The policy file
 * counts only in a trusted workspace, as for its policy (settings from an untrusted workspace are already
 * left out by VS Code, as the setting is restricted).
 */
export async function configuredGitScripts(folder: vscode.WorkspaceFolder | undefined): Promise<{ scripts: GitScriptChoice[]; problems: string[] }> {
  const scripts: GitScriptChoice[] = [];
  const problems: string[] = [];
  const take = (list: unknown, source: string, where: string) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) return void problems.push(`${where} must be a list of git-scripts; none of them is offered.`);
    list.forEach((raw, i) => {
      const r = GitScriptSpecSchema.safeParse(raw);
      if (r.success) scripts.push({ spec: r.data, source });
      else problems.push(`${where}[${i}]${r.error.issues[0]!.path.length ? `.${r.error.issues[0]!.path.join('.')}` : ''}: ${r.error.issues[0]!.message}; that git-script is not offered.`);
    });
  };
  take(vscode.workspace.getConfiguration(SECTION, folder?.uri).get<unknown>('gitScripts'), 'settings', `Setting "${SECTION}.gitScripts"`);
  if (folder && vscode.workspace.isTrusted) {
    try {
      const file = await readWorkspaceLayer(folder.uri);
      const rel = path.relative(folder.uri.fsPath, policyFileUri(folder.uri).fsPath);
      for (const spec of file?.gitScripts ?? []) scripts.push({ spec, source: rel });
    } catch (e) {
      problems.push(`${(e as Error).message}; its git-scripts are not offered.`);
    }
  }
  return { scripts, problems };
}

/** Asks which git-script to run; undefined when the user backs out. */
async function chooseGitScript(folder: vscode.WorkspaceFolder | undefined): Promise<GitScriptSpec | undefined> {
  const { scripts, problems } = await configuredGitScripts(folder);
  for (const p of problems) void vscode.window.showWarningMessage(`Script Sandbox: ${p}`);
  const enter = { label: '$(repo) Enter a repository, ref and script…', spec: undefined as GitScriptSpec | undefined };
  const items = [
    ...scripts.map((c) => ({ label: c.spec.name ?? path.basename(c.spec.script), description: `${c.spec.repo} @ ${c.spec.ref}`, detail: `${c.spec.script}${c.spec.args?.length ? ` ${c.spec.args.join(' ')}` : ''} — from ${c.source}`, spec: c.spec as GitScriptSpec | undefined })),
    enter,
  ];
  const pick = await vscode.window.showQuickPick(items, { placeHolder: 'Run which git-script in the sandbox?', matchOnDescription: true, matchOnDetail: true });
  if (!pick) return undefined;
  if (pick.spec) return pick.spec;
  const repo = await vscode.window.showInputBox({ prompt: 'Repository URL (https://, git://, ssh:// or file://)', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? null : 'a repository URL is needed') });
  if (!repo) return undefined;
  const ref = await vscode.window.showInputBox({ prompt: 'Ref to pin: a tag, a branch or a commit id', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? null : 'a ref is needed') });
  if (!ref) return undefined;
  const script = await vscode.window.showInputBox({ prompt: 'Script path inside the repository', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? null : 'a path is needed') });
  if (!script) return undefined;
  const r = GitScriptSpecSchema.safeParse({ repo: repo.trim(), ref: ref.trim(), script: script.trim() });
  if (!r.success) {
    void vscode.window.showErrorMessage(`Script Sandbox: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
    return undefined;
  }
  return r.data;
}

/**
 * The whole flow. `arg` may be a git-script definition (from "run again", a test or another extension);
 * otherwise the user picks one. Resolves with the finished run, or undefined when nothing ran.
 */
export async function runGitScript(host: HostClient, runner: RunService, globalStorage: vscode.Uri, arg?: unknown): Promise<RunRecord | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  let spec: GitScriptSpec | undefined;
  if (arg && typeof arg === 'object' && 'repo' in arg) {
    const r = GitScriptSpecSchema.safeParse(arg);
    if (!r.success) {
      void vscode.window.showErrorMessage(`Script Sandbox: invalid git-script: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
      return undefined;
    }
    spec = r.data;
  } else {
    spec = await chooseGitScript(folder);
  }
  if (!spec) return undefined;
  const name = spec.name ?? path.basename(spec.script);
  const scope = folder?.uri ?? globalStorage;
  const ctx = await runner.policyContext(scope, folder);
  if (!ctx) return undefined;

  let fetched: GitFetched;
  try {
    fetched = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Script Sandbox: fetching ${name}`, cancellable: true }, (progress, token) => {
      // VS Code's bar takes increments; git gives the fetch's overall percentage.
      let shown = 0;
      return host.gitFetch(
        { spec, workspace: ctx.workspace, cacheRoot: path.join(globalStorage.fsPath, 'git'), auditPath: ctx.auditPath, layers: ctx.layers, approvedLoosening: ctx.approvedLoosening },
        (message, percent) => {
          const increment = percent !== undefined && percent > shown ? percent - shown : undefined;
          if (increment) shown = percent!;
          progress.report({ message, ...(increment ? { increment } : {}) });
        },
        token,
      );
    });
  } catch (e) {
    if (e instanceof HostRejection && e.error.code === 'GIT_FETCH_CANCELLED') {
      void vscode.window.showInformationMessage(`Script Sandbox: fetching git-script "${name}" was cancelled; nothing was run.`);
      return undefined;
    }
    const msg = e instanceof HostRejection ? `${e.error.code}: ${e.error.message}` : (e as Error).message;
    void vscode.window.showErrorMessage(`Script Sandbox: git-script "${name}" could not be fetched. ${msg}`);
    return undefined;
  }
  if (fetched.fetchViolations.length) {
    // The fetch was held to its policy: say what it tried (the audit log has the details).
    const first = fetched.fetchViolations[0]!;
    void vscode.window.showWarningMessage(`Script Sandbox: while fetching "${name}", ${fetched.fetchViolations.length} action(s) went beyond the fetch's policy: ${first.message}`);
  }

  if (fetched.approval.status !== 'approved') {
    const approve = fetched.approval.status === 'new' ? 'Approve and Run' : 'Approve New Commit and Run';
    const title =
      fetched.approval.status === 'new'
        ? `Run git-script "${name}" at commit ${fetched.commit.slice(0, 12)} in the sandbox?`
        : `Git-script "${name}" changed (${fetched.approval.previousCommit?.slice(0, 12) ?? '?'} → ${fetched.commit.slice(0, 12)}). Run the new commit?`;
    const pick = await vscode.window.showWarningMessage(title, { modal: true, detail: fetched.description }, approve);
    if (pick !== approve) {
      void vscode.window.showInformationMessage(`Script Sandbox: git-script "${name}" was not run (commit ${fetched.commit.slice(0, 12)} not approved).`);
      return undefined;
    }
    try {
      await host.gitApprove(fetched.fetchId);
    } catch (e) {
      void vscode.window.showErrorMessage(`Script Sandbox: the approval could not be recorded: ${(e as Error).message}`);
      return undefined;
    }
  }
  return runner.runFetchedGitScript(fetched, ctx, spec);
}

/** Removes every mirror, checkout and approval of git-scripts. */
export async function cleanGitScriptCache(host: HostClient, globalStorage: vscode.Uri): Promise<void> {
  try {
    const r = await host.gitCacheClean(path.join(globalStorage.fsPath, 'git'));
    void vscode.window.showInformationMessage(`Script Sandbox: git-script cache cleaned (${r.removed} entries, ${(r.bytes / 1048576).toFixed(1)} MiB).`);
  } catch (e) {
    const msg = e instanceof HostRejection ? `${e.error.code}: ${e.error.message}` : (e as Error).message;
    void vscode.window.showErrorMessage(`Script Sandbox: the git-script cache could not be cleaned: ${msg}`);
  }
}
