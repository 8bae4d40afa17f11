// The status bar item: the sandbox mode in force for new runs and where it came from ("enforce (user)",
// "enforce (workspace, tightened)"), and how many are running; a click switches the mode. It follows the
// settings, so a change in the Settings UI shows at once.
import * as vscode from 'vscode';
import { readSettings, SECTION, type SandboxSettings } from './config';
import { describeIgnored, describeOrigin } from './settings-layers';
import type { RunStore } from './runs';

const ICONS: Record<string, string> = { enforce: '$(shield)', warn: '$(warning)', disabled: '$(circle-slash)' };

export class ModeStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('scriptSandbox.mode', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  /** The layered settings, read again only when they (or trust) change: runs change far more often. */
  private settings: { value: SandboxSettings | null; problem: string } = { value: null, problem: '' };

  constructor(private readonly runs: RunStore) {
    this.item.name = 'Script Sandbox Mode';
    this.item.command = 'scriptSandbox.switchMode';
    this.disposables.push(
      this.item,
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(SECTION) && this.reread()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reread()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.reread()),
      runs.onDidChange(() => this.update()),
    );
    this.reread();
    this.item.show();
  }

  private reread(): void {
    try {
      this.settings = { value: readSettings(vscode.workspace.workspaceFolders?.[0]?.uri), problem: '' };
    } catch (e) {
      this.settings = { value: null, problem: (e as Error).message };
    }
    this.update();
  }

  private update(): void {
    const running = this.runs.running().length;
    const restricted = !vscode.workspace.isTrusted;
    const { value: settings, problem } = this.settings;
    const mode = settings?.mode ?? vscode.workspace.getConfiguration(SECTION).get<string>('mode', 'enforce');
    const shown = settings ? describeOrigin(settings.origins.mode) : mode;
    this.item.text = `${ICONS[mode] ?? '$(shield)'} Sandbox: ${shown}${restricted ? ' (strict)' : ''}${running ? ` · ${running} running` : ''}`;
    const lines = [`Script Sandbox for new runs: mode ${shown}${settings ? `, profile ${describeOrigin(settings.origins.profile)}` : ''}`];
    if (settings) {
      for (const [k, o] of Object.entries(settings.origins)) if (o.source.kind === 'workspace') lines.push(`${k} set by ${o.source.detail}`);
      for (const i of settings.ignored) lines.push(describeIgnored(i));
    }
    if (problem) lines.push(problem);
    if (restricted) lines.push('Restricted Mode: runs use the strict profile and ignore .vscode/sandbox.json and the workspace\'s sandbox settings');
    else lines.push('A workspace\'s .vscode/sandbox.json or task may tighten this further.');
    lines.push('Click to switch.');
    this.item.tooltip = lines.join('\n');
    this.item.backgroundColor = mode === 'disabled' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
