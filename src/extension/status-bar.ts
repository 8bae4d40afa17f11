// The status bar item: the sandbox mode in force for new runs (and how many are running); a click switches
// the mode. It follows the setting, so a change in the Settings UI shows at once.
import * as vscode from 'vscode';
import { SECTION } from './config';
import type { RunStore } from './runs';

const ICONS: Record<string, string> = { enforce: '$(shield)', warn: '$(warning)', disabled: '$(circle-slash)' };

export class ModeStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('scriptSandbox.mode', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly runs: RunStore) {
    this.item.name = 'Script Sandbox Mode';
    this.item.command = 'scriptSandbox.switchMode';
    this.disposables.push(
      this.item,
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(SECTION) && this.update()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.update()),
      runs.onDidChange(() => this.update()),
    );
    this.update();
    this.item.show();
  }

  private update(): void {
    const mode = vscode.workspace.getConfiguration(SECTION).get<string>('mode', 'enforce');
    const running = this.runs.running().length;
    const restricted = !vscode.workspace.isTrusted;
    this.item.text = `${ICONS[mode] ?? '$(shield)'} Sandbox: ${mode}${restricted ? ' (strict)' : ''}${running ? ` · ${running} running` : ''}`;
    this.item.tooltip = `Script Sandbox mode for new runs: ${mode}${restricted ? '\nRestricted Mode: runs use the strict profile and ignore .vscode/sandbox.json' : ''}\nClick to switch.`;
    this.item.backgroundColor = mode === 'disabled' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
