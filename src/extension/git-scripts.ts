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
import { folderChoice, folderForSpec, folderOffers, groupDescription, groupOffers, scriptName, type FolderChoice, type Offer, type OfferGroup } from './git-script-offers';

type Folder = vscode.WorkspaceFolder;

/**
 * Every git-script offered, each with the folder it runs in: definitions every folder sees (user settings,
 * and in a trusted workspace the workspace's), then each folder's own (its folder settings, and in a trusted
 * workspace its .vscode/sandbox.json). Restricted settings of an untrusted workspace are left out, as VS
 * Code does for get(); the policy file counts only when trusted, as for its policy.
 */
export async function gitScriptOffers(): Promise<{ offers: Array<Offer<Folder>>; problems: string[] }> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const problems = new Set<string>();
  const multi = folders.length > 1;
  const specsOf = (list: unknown, where: string): GitScriptSpec[] => {
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) {
      problems.add(`${where} must be a list of git-scripts; none of them is offered.`);
      return [];
    }
    const specs: GitScriptSpec[] = [];
    list.forEach((raw, i) => {
      const r = GitScriptSpecSchema.safeParse(raw);
      if (r.success) specs.push(r.data);
      else problems.add(`${where}[${i}]${r.error.issues[0]!.path.length ? `.${r.error.issues[0]!.path.join('.')}` : ''}: ${r.error.issues[0]!.message}; that git-script is not offered.`);
    });
    return specs;
  };
  const trusted = vscode.workspace.isTrusted;
  const setting = `Setting "${SECTION}.gitScripts"`;
  const offers: Array<Offer<Folder>> = [];
  for (const folder of folders.length ? folders : [undefined]) {
    const v = vscode.workspace.getConfiguration(SECTION, folder?.uri).inspect<unknown>('gitScripts');
    const lists = [{ source: 'user settings', specs: specsOf(v?.globalValue, `${setting} (user)`) }];
    if (trusted) {
      // In a single-folder window the folder's settings are the workspace's: one list, named once.
      if (multi) lists.push({ source: 'workspace settings', specs: specsOf(v?.workspaceValue, `${setting} (workspace)`) });
      const own = multi ? v?.workspaceFolderValue : (v?.workspaceFolderValue ?? v?.workspaceValue);
      if (folder) lists.push({ source: multi ? `settings of ${folder.name}` : 'workspace settings', specs: specsOf(own, `${setting}${multi ? ` (${folder.name})` : ''}`) });
    }
    if (folder && trusted) {
      try {
        const file = await readWorkspaceLayer(folder.uri);
        const rel = path.relative(folder.uri.fsPath, policyFileUri(folder.uri).fsPath);
        lists.push({ source: multi ? `${folder.name}/${rel}` : rel, specs: file?.gitScripts ?? [] });
      } catch (e) {
        problems.add(`${(e as Error).message}; its git-scripts are not offered.`);
      }
    }
    offers.push(...folderOffers(folder, lists));
  }
  return { offers, problems: [...problems] };
}

/** Asks which folder, among those the definition can run in; undefined when the user backs out. */
async function askFolder(choice: Extract<FolderChoice<Folder>, { kind: 'ask' }>, name: string): Promise<Offer<Folder> | undefined> {
  const placeHolder = `Run git-script "${name}" in which folder (its policy and audit log)?`;
  if (choice.all) {
    const f = await vscode.window.showWorkspaceFolderPick({ placeHolder });
    return choice.offers.find((o) => o.folder === f);
  }
  const pick = await vscode.window.showQuickPick(
    choice.offers.map((o) => ({ label: o.folder?.name ?? '(no folder)', description: o.folder?.uri.fsPath, detail: `${o.spec.repo} @ ${o.spec.ref} — from ${o.source}`, offer: o })),
    { placeHolder },
  );
  return pick?.offer;
}

/** Asks which git-script to run, and where; undefined when the user backs out. */
async function chooseGitScript(): Promise<{ spec: GitScriptSpec; folder: Folder | undefined } | undefined> {
  const { offers, problems } = await gitScriptOffers();
  for (const p of problems) void vscode.window.showWarningMessage(`Script Sandbox: ${p}`);
  const enter = { label: '$(repo) Enter a repository, ref and script…', group: undefined as OfferGroup<Folder> | undefined };
  const items = [
    ...groupOffers(offers).map((g) => {
      const s = g.offers[0]!.spec;
      return { label: g.name, description: groupDescription(g), detail: `${s.script}${s.args?.length ? ` ${s.args.join(' ')}` : ''} — from ${[...new Set(g.offers.map((o) => o.source))].join(', ')}`, group: g as OfferGroup<Folder> | undefined };
    }),
    enter,
  ];
  const pick = await vscode.window.showQuickPick(items, { placeHolder: 'Run which git-script in the sandbox?', matchOnDescription: true, matchOnDetail: true });
  if (!pick) return undefined;
  if (pick.group) {
    const choice = folderChoice(pick.group, vscode.workspace.workspaceFolders ?? []);
    const offer = choice.kind === 'run' ? choice.offer : await askFolder(choice, pick.group.name);
    return offer && { spec: offer.spec, folder: offer.folder };
  }
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
  const folder = await specFolder(undefined, r.data);
  return folder === null ? undefined : { spec: r.data, folder };
}

/** The folder a given definition runs in (see folderForSpec); null when the user backs out of the pick. */
async function specFolder(named: vscode.Uri | undefined, spec: GitScriptSpec): Promise<Folder | undefined | null> {
  const open = vscode.workspace.workspaceFolders ?? [];
  const within = named && vscode.workspace.getWorkspaceFolder(named);
  const choice = folderForSpec(within && open.find((f) => f.uri.toString() === within.uri.toString()), open);
  if (choice.kind === 'run') return choice.folder;
  return (await vscode.window.showWorkspaceFolderPick({ placeHolder: `Run git-script "${scriptName(spec)}" in which folder (its policy and audit log)?` })) ?? null;
}

/**
 * The whole flow. `arg` may be a git-script definition (from "run again", a test or another extension);
 * otherwise the user picks one. Resolves with the finished run, or undefined when nothing ran.
 */
export async function runGitScript(host: HostClient, runner: RunService, globalStorage: vscode.Uri, arg?: unknown, folderArg?: unknown): Promise<RunRecord | undefined> {
  let chosen: { spec: GitScriptSpec; folder: Folder | undefined } | undefined;
  if (arg && typeof arg === 'object' && 'repo' in arg) {
    const r = GitScriptSpecSchema.safeParse(arg);
    if (!r.success) {
      void vscode.window.showErrorMessage(`Script Sandbox: invalid git-script: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
      return undefined;
    }
    // The folder it ran in (Run Again passes it), else the only folder, else the user picks one.
    const named = folderArg instanceof vscode.Uri ? folderArg : typeof folderArg === 'string' ? vscode.Uri.file(folderArg) : undefined;
    const folder = await specFolder(named, r.data);
    chosen = folder === null ? undefined : { spec: r.data, folder };
  } else {
    chosen = await chooseGitScript();
  }
  if (!chosen) return undefined;
  const { spec, folder } = chosen;
  const name = scriptName(spec);
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
