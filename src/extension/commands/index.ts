// Every command of the extension, in one registry. Menus and their `when` clauses are in package.json.
import * as vscode from 'vscode';
import { Mode } from '../../policy/schema';
import { openAuditLog, revealRunInAuditLog } from '../audit';
import { CapabilitiesDocument } from '../capabilities';
import { SECTION, setMode } from '../config';
import type { SandboxCtx } from '../ctx';
import { locate } from '../diagnostics';
import { cleanGitScriptCache, runGitScript } from '../git-scripts';
import { candidatesFor } from '../locate';
import { ensurePolicyFile } from '../policy-file';
import { runToJson, type RunRecord } from '../runs';
import type { MonitorNode } from '../views/monitor-tree';

// Arguments come from VS Code untyped (menus pass a Uri or a tree node, palettes nothing); each handler
// checks what it got.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (ctx: SandboxCtx, ...args: any[]) => unknown;

const MODE_DESCRIPTIONS: Record<Mode, string> = {
  enforce: 'Block with kernel mechanisms; fail closed when one is missing',
  warn: 'Report every would-be block, block nothing',
  disabled: 'Run plainly; the run is still recorded',
};

/** The run a command is about: a tree node, a run id, or (asked) one of the runs. */
async function pickRun(ctx: SandboxCtx, arg: unknown, filter: (r: RunRecord) => boolean, placeHolder: string): Promise<RunRecord | undefined> {
  if (arg && typeof arg === 'object' && 'run' in arg) return (arg as MonitorNode).run;
  if (typeof arg === 'string') return ctx.runs.get(arg);
  const candidates = ctx.runs.all().filter(filter);
  if (candidates.length <= 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((r) => ({ label: r.label, description: `${r.status} · ${new Date(r.startedAt).toLocaleTimeString()}`, run: r })),
    { placeHolder },
  );
  return pick?.run;
}

function targetScript(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const editor = vscode.window.activeTextEditor;
  return editor?.document.uri;
}

const isRunning = (r: RunRecord) => r.status === 'running' || r.status === 'starting';

export const COMMANDS: Record<string, Handler> = {
  'scriptSandbox.runInSandbox': async (ctx, arg?: unknown) => {
    const script = targetScript(arg);
    if (!script) {
      void vscode.window.showErrorMessage('Script Sandbox: no script to run — open one, or right-click it in the Explorer.');
      return undefined;
    }
    const run = await ctx.runner.runFromCommand({ script, origin: 'command' });
    // Returned for callers such as tests and other extensions: plain data of the finished run.
    return run ? runToJson(run) : undefined;
  },
  'scriptSandbox.runGitScript': async (ctx, arg?: unknown, folder?: unknown) => {
    const run = await runGitScript(ctx.host, ctx.runner, ctx.extension.globalStorageUri, arg, folder);
    return run ? runToJson(run) : undefined;
  },
  'scriptSandbox.cleanGitScriptCache': (ctx) => cleanGitScriptCache(ctx.host, ctx.extension.globalStorageUri),
  'scriptSandbox.stopRun': async (ctx, arg?: unknown) => {
    const run = await pickRun(ctx, arg, isRunning, 'Stop which run?');
    if (!run) return void vscode.window.showInformationMessage('Script Sandbox: no run is going.');
    ctx.runner.stop(run);
  },
  'scriptSandbox.runAgain': async (ctx, arg?: unknown) => {
    const run = await pickRun(ctx, arg, () => true, 'Run which script again?');
    if (!run) return undefined;
    // A git-script is fetched and checked again (its ref may have moved), never re-run from the checkout.
    if (run.gitSpec !== undefined) return vscode.commands.executeCommand('scriptSandbox.runGitScript', run.gitSpec, run.workspace);
    // Exactly that run again: a task's profile and mode included.
    const again = await ctx.runner.runFromCommand({ script: run.script, args: run.args, cwd: run.cwd, origin: run.origin === 'task' ? 'task' : 'command', ...(run.task ? { task: run.task } : {}) });
    return again ? runToJson(again) : undefined;
  },
  'scriptSandbox.revealInAuditLog': async (ctx, arg?: unknown) => {
    const run = await pickRun(ctx, arg, () => true, 'Reveal which run?');
    if (run) await revealRunInAuditLog(run);
  },
  'scriptSandbox.copyRunAsJson': async (ctx, arg?: unknown) => {
    const run = await pickRun(ctx, arg, () => true, 'Copy which run?');
    if (!run) return;
    await vscode.env.clipboard.writeText(JSON.stringify(runToJson(run), null, 2));
    void vscode.window.setStatusBarMessage(`Script Sandbox: run ${run.id} copied as JSON`, 3000);
  },
  'scriptSandbox.showRun': async (ctx, id: string) => {
    const run = ctx.runs.get(id);
    if (run) await ctx.treeView.reveal(ctx.tree.nodeFor(run), { select: true, focus: true, expand: true });
  },
  'scriptSandbox.showViolation': async (_ctx, node: MonitorNode) => {
    if (node?.kind !== 'violation') return;
    const doc = await vscode.workspace.openTextDocument(node.run.script);
    const range = locate(doc.getText(), candidatesFor(node.violation, node.run.cwd));
    await vscode.window.showTextDocument(doc, { selection: range, preview: true });
  },
  'scriptSandbox.showCapabilities': async (ctx) => {
    try {
      ctx.capabilities.set(await ctx.host.capabilities());
    } catch (e) {
      void vscode.window.showErrorMessage(`Script Sandbox: could not ask the sandbox host for capabilities: ${(e as Error).message}`);
      return;
    }
    await vscode.commands.executeCommand('markdown.showPreview', CapabilitiesDocument.uri);
  },
  'scriptSandbox.openAuditLog': async (_ctx, arg?: unknown) => {
    await openAuditLog(arg instanceof vscode.Uri ? vscode.workspace.getWorkspaceFolder(arg) : undefined);
  },
  'scriptSandbox.clearDiagnostics': (ctx) => ctx.diagnostics.clear(),
  'scriptSandbox.switchMode': async (_ctx, mode?: unknown) => {
    const current = vscode.workspace.getConfiguration(SECTION).inspect<string>('mode')?.globalValue ?? 'enforce';
    const chosen =
      typeof mode === 'string' && Mode.safeParse(mode).success
        ? (mode as Mode)
        : (
            await vscode.window.showQuickPick(
              Mode.options.map((m) => ({ label: m, description: m === current ? '(current)' : undefined, detail: MODE_DESCRIPTIONS[m], mode: m })),
              { placeHolder: 'Sandbox mode for the next runs' },
            )
          )?.mode;
    if (chosen) await setMode(chosen);
  },
  'scriptSandbox.openPolicyFile': async (_ctx, uri?: vscode.Uri) => {
    // A folder to create it in: the given file's, the active editor's, or the one the user picks.
    const folder =
      (uri && vscode.workspace.getWorkspaceFolder(uri)) ??
      (vscode.window.activeTextEditor && vscode.workspace.getWorkspaceFolder(vscode.window.activeTextEditor.document.uri)) ??
      ((vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Open the policy file of which folder?' }) : vscode.workspace.workspaceFolders?.[0]);
    if (!folder) return undefined;
    const target = await ensurePolicyFile(folder.uri);
    await vscode.window.showTextDocument(target, { preview: false });
    return target.toString();
  },
};

export function registerCommands(ctx: SandboxCtx): void {
  for (const [id, handler] of Object.entries(COMMANDS)) {
    ctx.extension.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(ctx, ...args);
        } catch (e) {
          ctx.output.error(`[${id}] ${(e as Error)?.stack ?? String(e)}`);
          void vscode.window.showErrorMessage(`Script Sandbox: ${id} failed: ${(e as Error)?.message ?? String(e)}`);
          return undefined;
        }
      }),
    );
  }
}
