// The `sandbox` task type: {"type": "sandbox", "script": "scripts/build.sh", "args": [], "mode": "warn",
// "profile": "strict"} runs through the same host and terminal as the command, so build and test tasks can
// be sandboxed too. The task ends with the script's exit code. tasks.json is the workspace's: a task's mode
// and profile may only tighten the policy otherwise in force (RunService checks them).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Mode, Profile } from '../policy/schema';
import type { RunService } from './run-service';
import { RunTerminal } from './terminal';

export const TASK_TYPE = 'sandbox';

interface SandboxTaskDefinition extends vscode.TaskDefinition {
  script: string;
  args?: string[];
  cwd?: string;
  mode?: string;
  profile?: string;
}

export class SandboxTaskProvider implements vscode.TaskProvider {
  constructor(private readonly runner: RunService) {}

  provideTasks(): vscode.Task[] {
    // Tasks are declared in tasks.json; nothing is guessed from the workspace.
    return [];
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as SandboxTaskDefinition;
    if (typeof def.script !== 'string' || !def.script) return undefined;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    const resolved = new vscode.Task(def, task.scope ?? vscode.TaskScope.Workspace, task.name, TASK_TYPE, this.execution(def, folder, task.name), []);
    resolved.presentationOptions = task.presentationOptions;
    return resolved;
  }

  private execution(def: SandboxTaskDefinition, folder: vscode.WorkspaceFolder | undefined, name: string): vscode.CustomExecution {
    return new vscode.CustomExecution(async () => {
      const base = folder?.uri.fsPath ?? process.cwd();
      const pty = new RunTerminal(path.basename(def.script), true);
      const fields = taskFields(def);
      if (typeof fields === 'string') {
        pty.error(fields);
        return pty;
      }
      const script = vscode.Uri.file(path.resolve(base, def.script));
      void this.runner.runInTerminal({ script, args: def.args, cwd: def.cwd ? path.resolve(base, def.cwd) : undefined, task: { name, fields }, origin: 'task' }, pty);
      return pty;
    });
  }
}

/** The task's policy fields, or a message naming the bad one. */
function taskFields(def: SandboxTaskDefinition): { mode?: Mode; profile?: Profile } | string {
  const out: { mode?: Mode; profile?: Profile } = {};
  if (def.mode !== undefined) {
    const m = Mode.safeParse(def.mode);
    if (!m.success) return `task "mode": expected one of ${Mode.options.join(', ')}, got ${JSON.stringify(def.mode)}`;
    out.mode = m.data;
  }
  if (def.profile !== undefined) {
    const p = Profile.safeParse(def.profile);
    if (!p.success) return `task "profile": expected one of ${Profile.options.join(', ')}, got ${JSON.stringify(def.profile)}`;
    out.profile = p.data;
  }
  return out;
}
