// Violations as diagnostics on the script: at the line that mentions the blocked path, host or address
// (as the script wrote it: $HOME/…, ~/…, relative), else at line 1. A script's diagnostics are replaced
// when it runs again. The code is the rule, linked to the README section that explains it; once the run
// has ended, each diagnostic's related information points at its record in the audit log.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Violation } from '../policy/violation';
import { auditLinesFor } from './audit-lines';
import { candidatesFor, findMention } from './locate';
import { headingLine, ruleAnchor } from './rule-docs';

export const DIAGNOSTIC_SOURCE = 'sandbox';

/** The range in the script for a violation (see locate.ts). */
export function locate(text: string, candidates: string[]): vscode.Range {
  const m = findMention(text, candidates);
  return new vscode.Range(m.line, m.start, m.line, m.end);
}

export function severityOf(v: Violation): vscode.DiagnosticSeverity {
  // A warned violation was allowed (warn mode): a warning whatever its severity, so a user sees at a glance
  // that nothing was blocked. A killed process is an error whatever the rule's severity.
  if (v.action === 'warned') return vscode.DiagnosticSeverity.Warning;
  if (v.action === 'killed') return vscode.DiagnosticSeverity.Error;
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

/** Where the README section with this anchor starts, as a link (`README.md#L<line>` opens it at the heading). */
export type RuleDocLink = (anchor: string) => vscode.Uri | undefined;

/** Links into the README shipped with the extension (it works offline and on a remote host). */
export function readmeRuleDocs(extensionUri: vscode.Uri): RuleDocLink {
  const readme = vscode.Uri.joinPath(extensionUri, 'README.md');
  let text: string | undefined;
  return (anchor) => {
    try {
      text ??= fs.readFileSync(readme.fsPath, 'utf8');
    } catch {
      return undefined;
    }
    const line = headingLine(text, anchor);
    return line === undefined ? undefined : readme.with({ fragment: `L${line + 1}` });
  };
}

interface Entry {
  diagnostic: vscode.Diagnostic;
  violation: Violation;
}

export class ViolationDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE);
  private readonly entries = new Map<string, Entry[]>();

  constructor(private readonly docs: RuleDocLink = () => undefined) {}

  /** A new run of the script starts: its old diagnostics go. */
  reset(script: vscode.Uri): void {
    this.entries.delete(script.toString());
    this.collection.delete(script);
  }

  add(script: vscode.Uri, text: string, cwd: string, v: Violation): vscode.Diagnostic {
    const d = new vscode.Diagnostic(locate(text, candidatesFor(v, cwd)), messageOf(v), severityOf(v));
    d.source = DIAGNOSTIC_SOURCE;
    const target = this.docs(ruleAnchor(v));
    d.code = target ? { value: v.rule, target } : v.rule;
    // No tags: a violation is neither unused nor deprecated code.
    const key = script.toString();
    const list = this.entries.get(key) ?? [];
    list.push({ diagnostic: d, violation: v });
    this.entries.set(key, list);
    this.collection.set(script, list.map((e) => e.diagnostic));
    return d;
  }

  /**
   * Points each of the script's diagnostics at its record in the audit log (its own `violation` line, else
   * the run's `run_started` line). Called when a run ends: by then the host has written the records.
   */
  async linkAudit(script: vscode.Uri, auditPath: string): Promise<void> {
    const list = this.entries.get(script.toString());
    if (!list?.length || !auditPath) return;
    let text: string;
    try {
      text = await fs.promises.readFile(auditPath, 'utf8');
    } catch {
      return; // no log (disabled, moved): nothing to point at
    }
    // The script may have run again meanwhile: only the diagnostics still shown are updated.
    if (this.entries.get(script.toString()) !== list) return;
    const lines = auditLinesFor(text, list.map((e) => e.violation));
    const file = vscode.Uri.file(auditPath);
    const texts = text.split('\n');
    list.forEach((e, i) => {
      const line = lines[i];
      if (line === undefined) return;
      const own = texts[line]!.includes('"type":"violation"');
      e.diagnostic.relatedInformation = [
        new vscode.DiagnosticRelatedInformation(new vscode.Location(file, new vscode.Range(line, 0, line, texts[line]!.length)), own ? `recorded in the audit log, line ${line + 1}` : `run ${e.violation.runId} in the audit log, line ${line + 1}`),
      ];
    });
    this.collection.set(script, list.map((e) => e.diagnostic));
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
