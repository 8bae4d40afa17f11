// Extension entry. Activation happens on a command, the Sandbox Monitor view, a `sandbox` task, a workspace
// with .vscode/sandbox.json, or once start-up has finished (onStartupFinished: the Run in Sandbox menus of
// extension-less scripts need the runnable-files context key, runnable.ts). Activation is cheap: the sandbox
// host is forked on the first run. Everything built here is disposed on deactivate; disposing the host client
// shuts the sandbox host down, which takes every run's process tree with it.
import * as vscode from 'vscode';
import { CAPABILITIES_SCHEME } from './capabilities';
import { registerCommands } from './commands';
import { createCtx } from './ctx';
import { watchAlerts } from './notifications';
import { SandboxQuickFixes } from './quick-fixes';
import { ModeStatusBar } from './status-bar';
import { SandboxTaskProvider, TASK_TYPE } from './tasks';
import { runToJson } from './runs';

/** What activate() returns: read-only views for other extensions and the VS Code test suite. */
export interface SandboxApi {
  runs(): Array<Record<string, unknown>>;
  hostPid(): number | null;
  /** Paths of the files offered "Run in Sandbox" by their content (shebang, x bit), after the first scan. */
  runnableFiles(): Promise<string[]>;
  /** Runs listed again from the audit logs at activation (after a reload), once that is done. */
  restoredRuns(): Promise<number>;
  /** The Monitor's badge count: runs with violations since the view was last visible. */
  badge(): number;
  monitor: { getChildren: (n?: unknown) => unknown[]; getTreeItem: (n: unknown) => vscode.TreeItem };
}

export function activate(context: vscode.ExtensionContext): SandboxApi {
  const ctx = createCtx(context);
  registerCommands(ctx);
  context.subscriptions.push(
    new ModeStatusBar(ctx.runs),
    watchAlerts(ctx.host, ctx.runs),
    vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, new SandboxQuickFixes(ctx.diagnostics), { providedCodeActionKinds: SandboxQuickFixes.kinds }),
    vscode.tasks.registerTaskProvider(TASK_TYPE, new SandboxTaskProvider(ctx.runner)),
    vscode.workspace.registerTextDocumentContentProvider(CAPABILITIES_SCHEME, ctx.capabilities),
  );
  return {
    runs: () => ctx.runs.all().map(runToJson),
    hostPid: () => ctx.host.pid,
    restoredRuns: () => ctx.restored,
    badge: () => ctx.badge.count,
    runnableFiles: async () => {
      await ctx.runnable.ready;
      return ctx.runnable.list();
    },
    monitor: {
      getChildren: (n) => ctx.tree.getChildren(n as never),
      getTreeItem: (n) => ctx.tree.getTreeItem(n as never),
    },
  };
}

export function deactivate(): void {
  // Nothing beyond the subscriptions, which VS Code disposes after this returns.
}
