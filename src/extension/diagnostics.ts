// Violations as diagnostics on the script: at the line that mentions the blocked path, host or address
// (as the script wrote it: $HOME/…, ~/…, relative), else at line 1. A script's diagnostics are replaced
// when it runs again.
import * as vscode from 'vscode';
import type { Violation } from '../policy/violation';
import { candidatesFor, findMention } from './locate';

export const DIAGNOSTIC_SOURCE = 'sandbox';

/** The range in the script for a violation (see locate.ts). */
export function locate(text: string, candidates: string[]): vscode.Range {
  const m = findMention(text, candidates);
  return new vscode.Range(m.line, m.start, m.line, m.end);
}

export function severityOf(v: Violation): vscode.DiagnosticSeverity {
  // A warned violation was allowed (warn mode): a warning whatever its severity, so a user sees at a glance
  // that nothing was blocked.
  if (v.action === 'warned') return vscode.DiagnosticSeverity.Warning;
  switch (v.severity) {
    case 'critical':
    case 'error':
      return vscode.DiagnosticSeverity.Error;
    case 'warning':
      return vscode.DiagnosticSeverity.Warning;
    default:
      return vscode.DiagnosticSeverity.Information;
  }
}

export function messageOf(v: Violation): string {
  return `${v.message} [rule ${v.rule}]`;
}

interface Entry {
  diagnostic: vscode.Diagnostic;
  violation: Violation;
}

export class ViolationDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE);
  private readonly entries = new Map<string, Entry[]>();

  /** A new run of the script starts: its old diagnostics go. */
  reset(script: vscode.Uri): void {
    this.entries.delete(script.toString());
    this.collection.delete(script);
  }

  add(script: vscode.Uri, text: string, cwd: string, v: Violation): vscode.Diagnostic {
    const d = new vscode.Diagnostic(locate(text, candidatesFor(v, cwd)), messageOf(v), severityOf(v));
    d.source = DIAGNOSTIC_SOURCE;
    d.code = v.rule;
    const key = script.toString();
    const list = this.entries.get(key) ?? [];
    list.push({ diagnostic: d, violation: v });
    this.entries.set(key, list);
    this.collection.set(script, list.map((e) => e.diagnostic));
    return d;
  }

  /** The violation behind one of our diagnostics (quick fixes need its path, host or address). */
  violationFor(script: vscode.Uri, d: vscode.Diagnostic): Violation | undefined {
    return this.entries.get(script.toString())?.find((e) => e.diagnostic.message === d.message && e.diagnostic.range.isEqual(d.range))?.violation;
  }

  clear(): void {
    this.entries.clear();
    this.collection.clear();
  }

  dispose(): void {
    this.collection.dispose();
  }
}
