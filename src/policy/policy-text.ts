// The text of a workspace policy file (.vscode/sandbox.json) checked as a whole: the JSONC parser (jsonc.ts),
// the zod schema, and the checks validateLayer adds (globs, addresses, hosts, patterns). Every problem has
// the range of the key (or token) it is about and one message in words, with "did you mean" for an unknown
// key. Pure: the CLI prints these problems as FILE:LINE:COLUMN: MESSAGE, the editor shows the same messages
// in Problems — one parser, one text.
import type * as jsonc from 'jsonc-parser';
import { findNodeAtLocation } from 'jsonc-parser';
import type { GitScriptSpec } from './git-script-spec';
import { SandboxError } from '../errors';
import { JsoncError, lineCol, parseJsoncDocument } from './jsonc';
import { issueText, type PolicyInput } from './schema';
import { splitWorkspaceFile, WorkspacePolicyFile, type WorkspaceFileContent } from './workspace-file';

export interface PolicyProblem {
  offset: number;
  length: number;
  /** 1-based. */
  line: number;
  column: number;
  message: string;
  /** A problem of the text itself (syntax, duplicate key), not of its content. */
  syntax?: boolean;
  /** The SandboxError code the CLI uses for it. */
  code: 'POLICY_INVALID' | 'PROFILE_UNKNOWN';
}

/** `layer` is the policy part (what the host resolves); `gitScripts` the workspace's git-scripts. */
export type PolicyAnalysis = { ok: true; layer: PolicyInput; gitScripts: GitScriptSpec[] } | { ok: false; problems: PolicyProblem[] };

const MARK = '\u0000policy';

export function analyzePolicyText(text: string): PolicyAnalysis {
  let doc: ReturnType<typeof parseJsoncDocument>;
  try {
    doc = parseJsoncDocument(text);
  } catch (e) {
    if (!(e instanceof JsoncError)) throw e;
    return { ok: false, problems: [{ offset: e.offset, length: e.length, line: e.line, column: e.column, message: e.message, syntax: true, code: 'POLICY_INVALID' }] };
  }
  const { tree, value } = doc;
  const problem = (range: { offset: number; length: number }, message: string, code: PolicyProblem['code'] = 'POLICY_INVALID'): PolicyProblem => ({ offset: range.offset, length: range.length, ...lineCol(text, range.offset), message, code });
  const r = WorkspacePolicyFile.safeParse(value);
  if (!r.success) {
    const problems: PolicyProblem[] = [];
    for (const issue of r.error.issues) {
      const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const where = fieldName(at);
      if (issue.code === 'unrecognized_keys') {
        // One problem per unknown key, on the key itself.
        const obj = findNodeAtLocation(tree, at);
        const known = keysAt(at);
        for (const key of issue.keys) {
          const prop = obj?.children?.find((c) => c.children?.[0]?.value === key);
          const keyNode = prop?.children?.[0] ?? obj ?? tree;
          const hint = didYouMean(key, known);
          problems.push(problem(keyNode, `${at.length ? `${where}: ` : ''}unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`));
        }
        continue;
      }
      const profile = at.length === 1 && at[0] === 'profile' && typeof (value as { profile?: unknown }).profile === 'string';
      problems.push(problem(rangeOfKey(tree, at), `${where}: ${profile ? `unknown profile "${(value as { profile: string }).profile}"; valid profiles: strict, moderate, permissive` : issueText(issue)}`, profile ? 'PROFILE_UNKNOWN' : 'POLICY_INVALID'));
    }
    return { ok: false, problems };
  }
  // The checks beyond the schema, with their lines "MARK: field: message" mapped back to the field's key.
  try {
    const { layer, gitScripts } = splitWorkspaceFile(value, MARK);
    return { ok: true, layer, gitScripts };
  } catch (e) {
    if (!(e instanceof SandboxError)) throw e;
    const problems = e.message.split('\n').map((line) => {
      const rest = line.startsWith(`${MARK}: `) ? line.slice(MARK.length + 2) : line;
      // "gitScripts[0].policy: filesystem.allowRead[1]: …" (a git-script's policy) or "field: …"
      const m = /^((?:gitScripts\[\d+\]\.policy: )?[\w.[\]-]+): (.*)$/s.exec(rest);
      const path = m ? parseFieldPath(m[1]!.replace(': ', '.')) : [];
      return problem(rangeOfKey(tree, path), rest.replace(`${MARK}: `, ''), e.code === 'PROFILE_UNKNOWN' ? 'PROFILE_UNKNOWN' : 'POLICY_INVALID');
    });
    return { ok: false, problems };
  }
}

/** The CLI's reading of a workspace file: its content, or a SandboxError with one FILE:LINE:COLUMN: line per problem. */
export function workspaceFileOrThrow(text: string, source: string): { layer: PolicyInput; gitScripts: GitScriptSpec[] } {
  const a = analyzePolicyText(text);
  if (a.ok) return a;
  throw new SandboxError(
    a.problems.some((p) => p.code === 'PROFILE_UNKNOWN') ? 'PROFILE_UNKNOWN' : 'POLICY_INVALID',
    a.problems.map((p) => `${source}:${p.line}:${p.column}: ${p.message}`).join('\n'),
  );
}

function fieldName(at: Array<string | number>): string {
  return at.length ? at.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') : '(root)';
}

function parseFieldPath(field: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** The key of the property at `at` (or the array element itself); the closest existing ancestor otherwise. */
function rangeOfKey(tree: jsonc.Node, at: Array<string | number>): { offset: number; length: number } {
  for (let n = at.length; n > 0; n--) {
    const node = findNodeAtLocation(tree, at.slice(0, n));
    if (!node) continue;
    const target = node.parent?.type === 'property' ? node.parent.children![0]! : node;
    return { offset: target.offset, length: target.length };
  }
  return { offset: tree.offset, length: 1 };
}

interface ZodLike {
  _zod: { def: { type: string; shape?: Record<string, ZodLike>; innerType?: ZodLike; element?: ZodLike } };
}

/** The keys the schema allows in the object at `at`. */
function keysAt(at: Array<string | number>): string[] {
  let s: ZodLike | undefined = WorkspacePolicyFile as unknown as ZodLike;
  const unwrap = (x: ZodLike | undefined): ZodLike | undefined => {
    while (x && x._zod.def.innerType) x = x._zod.def.innerType;
    return x;
  };
  s = unwrap(s);
  for (const p of at) {
    if (!s) return [];
    s = unwrap(typeof p === 'number' ? s._zod.def.element : s._zod.def.shape?.[p]);
  }
  return s?._zod.def.shape ? Object.keys(s._zod.def.shape) : [];
}

/** The known key closest to a mistyped one (edit distance ≤ 2, or 3 for long keys), case-insensitive. */
export function didYouMean(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= (key.length > 6 ? 3 : 2) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * Parses the text of a workspace file (JSON with comments) as the editor does: every problem as
 * FILE:LINE:COLUMN: MESSAGE, the same message the editor shows in Problems.
 */
export function parseWorkspaceFile(text: string, source: string): WorkspaceFileContent {
  return workspaceFileOrThrow(text, source);
}
