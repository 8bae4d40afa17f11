// What Problems shows for an invalid `.vscode/sandbox.json`: one diagnostic per problem, at its key, an
// error (a run with an invalid file does not start), with the problem's code linked to the README section
// on the file's format, as a violation's rule links to its section (rule-docs.ts). Pure (no vscode): a unit
// test checks the builder and that the linked heading exists.
import type { PolicyProblem } from './policy-text';
import { slugOf } from './rule-docs';

/** The README heading (level 4, under "The workspace policy file and Workspace Trust") a problem links to. */
export const POLICY_FILE_HEADING = 'Policy file format';
export const POLICY_FILE_ANCHOR = slugOf(POLICY_FILE_HEADING);
export const POLICY_SOURCE = 'sandbox';

export interface Pos {
  line: number;
  character: number;
}

export interface PolicyDiagnosticSpec {
  start: Pos;
  end: Pos;
  message: string;
  severity: 'error';
  source: string;
  /** The SandboxError code the CLI prints for it, and the README anchor that explains the file. */
  code: { value: PolicyProblem['code']; anchor: string };
}

function positionAt(text: string, offset: number): Pos {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1]!.length };
}

/**
 * The diagnostics for a policy file's problems. `openAsJson`: the file is open in an editor whose JSON
 * support already reports syntax errors and duplicate keys, so those are left to it (one report per problem).
 */
export function policyDiagnostics(text: string, problems: readonly PolicyProblem[], openAsJson: boolean): PolicyDiagnosticSpec[] {
  const seen = new Set<string>();
  const out: PolicyDiagnosticSpec[] = [];
  for (const p of problems) {
    if (openAsJson && p.syntax) continue;
    // The same problem reached twice (a schema issue and the checks beyond it naming one key) is one row.
    const id = `${p.offset}:${p.length}:${p.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({
      start: positionAt(text, p.offset),
      end: positionAt(text, p.offset + p.length),
      message: p.message,
      severity: 'error',
      source: POLICY_SOURCE,
      code: { value: p.code, anchor: POLICY_FILE_ANCHOR },
    });
  }
  return out;
}
