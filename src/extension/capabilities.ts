// "Show Capabilities": what this machine enforces, as a Markdown page, with how to fix what is missing.
import * as vscode from 'vscode';

export const CAPABILITIES_SCHEME = 'script-sandbox';

interface Capability {
  name?: string;
  available?: boolean;
  detail?: string;
  fix?: string;
  requiredForEnforce?: boolean;
}

export function capabilitiesMarkdown(report: unknown): string {
  const r = (report ?? {}) as { platform?: string; arch?: string; kernel?: string; capabilities?: Capability[]; treeLimits?: string; enforcePossible?: boolean };
  const rows = (r.capabilities ?? []).map(
    (c) => `| ${c.available ? '✅' : '❌'} | **${c.name ?? '?'}**${c.requiredForEnforce ? ' (needed for enforce)' : ''} | ${c.detail ?? ''} | ${c.available ? '' : fixLink(c.fix)} |`,
  );
  return [
    '# Script Sandbox — capabilities of this machine',
    '',
    `Platform **${r.platform ?? '?'} ${r.arch ?? ''}**, kernel ${r.kernel ?? '?'}.`,
    '',
    r.enforcePossible ? '**Enforce mode: possible.**' : '**Enforce mode: NOT possible on this machine** — runs in enforce fail closed; use warn or disabled, or fix what is missing below.',
    '',
    `Tree limits (memory, processes): **${r.treeLimits ?? 'unknown'}**.`,
    '',
    '| | Mechanism | Detail | How to fix |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function fixLink(fix: string | undefined): string {
  if (!fix) return '';
  // Fixes that name a web page become links; the rest are instructions.
  return fix.replace(/https?:\/\/\S+/g, (u) => `[${u}](${u})`);
}

/** Holds the last report for the virtual document the preview renders. */
export class CapabilitiesDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly uri = vscode.Uri.from({ scheme: CAPABILITIES_SCHEME, path: '/capabilities.md' });
  private text = '# Script Sandbox — capabilities\n\nQuerying the host…\n';
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  set(report: unknown): void {
    this.text = capabilitiesMarkdown(report);
    this.emitter.fire(CapabilitiesDocument.uri);
  }

  provideTextDocumentContent(): string {
    return this.text;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
