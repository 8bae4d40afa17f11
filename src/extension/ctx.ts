// The extension's services, built once per activation and handed to commands and views. Everything here
// is owned by the activation (no module-level state) and disposed with it.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CapabilitiesDocument } from './capabilities';
import { readmeRuleDocs, ViolationDiagnostics } from './diagnostics';
import { HostClient } from './host-client';
import { PolicyFileValidator } from './policy-file';
import { RunService } from './run-service';
import { RunnableFiles } from './runnable';
import { RunStore } from './runs';
import { MonitorTree, type MonitorNode } from './views/monitor-tree';
import { MonitorBadge, restoreRuns } from './views/monitor-restore';

export interface SandboxCtx {
  readonly extension: vscode.ExtensionContext;
  /** The extension's own log (Output ▸ Script Sandbox; its level follows Developer: Set Log Level). No telemetry. */
  readonly output: vscode.LogOutputChannel;
  readonly host: HostClient;
  readonly runs: RunStore;
  readonly diagnostics: ViolationDiagnostics;
  readonly policyFiles: PolicyFileValidator;
  readonly runner: RunService;
  readonly tree: MonitorTree;
  readonly treeView: vscode.TreeView<MonitorNode>;
  readonly capabilities: CapabilitiesDocument;
  readonly runnable: RunnableFiles;
  readonly badge: MonitorBadge;
  /** Resolves when the runs of before a reload are listed again. */
  readonly restored: Promise<number>;
}

/** Builds the services; each one is pushed to the context's subscriptions in the order it must be disposed. */
export function createCtx(extension: vscode.ExtensionContext): SandboxCtx {
  const own = <T extends vscode.Disposable>(d: T): T => {
    extension.subscriptions.push(d);
    return d;
  };
  const output = own(vscode.window.createOutputChannel('Script Sandbox', { log: true }));
  const runs = own(new RunStore());
  const docs = readmeRuleDocs(extension.extensionUri);
  const diagnostics = own(new ViolationDiagnostics(docs));
  const host = own(new HostClient(path.join(extension.extensionPath, 'dist', 'host.js'), output));
  const tree = own(new MonitorTree(runs));
  const treeView = own(vscode.window.createTreeView('scriptSandbox.monitor', { treeDataProvider: tree, showCollapseAll: true }));
  return {
    extension,
    output,
    host,
    runs,
    diagnostics,
    policyFiles: own(new PolicyFileValidator(docs)),
    runner: own(new RunService(extension.workspaceState, host, runs, diagnostics)),
    tree,
    treeView,
    capabilities: own(new CapabilitiesDocument()),
    runnable: own(new RunnableFiles()),
    badge: own(new MonitorBadge(treeView, runs)),
    restored: restoreRuns(runs, vscode.workspace.workspaceFolders ?? []).catch(() => 0),
  };
}
