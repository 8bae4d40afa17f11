// The text of a workspace policy file (JSON with comments) checked against the policy's zod schema, each
// problem with the range of the key (or token) it is about. Pure, so unit-tested; policy-file.ts shows them.
import * as jsonc from 'jsonc-parser';
import type { GitScriptSpec } from '../policy/git-script-spec';
import type { PolicyInput } from '../policy/schema';
import { WorkspacePolicyFile } from '../policy/workspace-file';

export interface PolicyProblem {
  offset: number;
  length: number;
  message: string;
}

/** `layer` is the policy part (what the host resolves); `gitScripts` the workspace's git-scripts. */
export type PolicyAnalysis = { ok: true; layer: PolicyInput; gitScripts: GitScriptSpec[] } | { ok: false; problems: PolicyProblem[] };

/** Parses and validates the text; every problem carries the range of the key (or token) it is about. */
export function analyzePolicyText(text: string): PolicyAnalysis {
  const syntax: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(text, syntax, { allowTrailingComma: true, disallowComments: false });
  if (syntax.length || !tree) {
    const problems = syntax.map((e) => ({ offset: e.offset, length: Math.max(1, e.length), message: `JSON syntax: ${jsonc.printParseErrorCode(e.error)}` }));
    return { ok: false, problems: problems.length ? problems : [{ offset: 0, length: 1, message: 'The file is empty: write a policy object, e.g. { "mode": "enforce" }' }] };
  }
  const r = WorkspacePolicyFile.safeParse(jsonc.getNodeValue(tree));
  if (r.success) {
    const { gitScripts, ...layer } = r.data;
    return { ok: true, layer, gitScripts: gitScripts ?? [] };
  }
  const problems: PolicyProblem[] = [];
  for (const issue of r.error.issues) {
    const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const where = at.length ? at.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') : '(root)';
    if (issue.code === 'unrecognized_keys') {
      // One problem per unknown key, on the key itself.
      const obj = jsonc.findNodeAtLocation(tree, at);
      for (const key of issue.keys) {
        const prop = obj?.children?.find((c) => c.children?.[0]?.value === key);
        const keyNode = prop?.children?.[0] ?? obj ?? tree;
        problems.push({ offset: keyNode.offset, length: keyNode.length, message: `${at.length ? `${where}: ` : ''}unknown key "${key}"` });
      }
      continue;
    }
    problems.push({ ...rangeOfKey(tree, at), message: `${where}: ${issue.message}` });
  }
  return { ok: false, problems };
}

/** The key of the property at `at` (or the array element itself); the closest existing ancestor otherwise. */
function rangeOfKey(tree: jsonc.Node, at: Array<string | number>): { offset: number; length: number } {
  for (let n = at.length; n > 0; n--) {
    const node = jsonc.findNodeAtLocation(tree, at.slice(0, n));
    if (!node) continue;
    const target = node.parent?.type === 'property' ? node.parent.children![0]! : node;
    return { offset: target.offset, length: target.length };
  }
  return { offset: tree.offset, length: 1 };
}
