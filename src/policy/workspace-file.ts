// The workspace policy file `.vscode/sandbox.json`: a policy layer, plus the git-scripts the workspace
// defines (`gitScripts`), which are not policy and are taken out before the layer is validated.
import { z } from 'zod';
import { GitScriptSpecSchema, type GitScriptSpec } from './git-script-spec';
import { SandboxError } from '../errors';
import { validateLayer } from './resolve';
import { PolicyInput, describeZodError } from './schema';

export const WorkspacePolicyFile = PolicyInput.extend({
  gitScripts: z.array(GitScriptSpecSchema).describe('Git-scripts of this workspace, run with Run Git Script in Sandbox or `script-sandbox git-run --name NAME`.'),
})
  .partial()
  .strict()
  .describe('The workspace policy file .vscode/sandbox.json: a policy layer (it may only tighten the user\'s policy) and the workspace\'s git-scripts.');
export type WorkspacePolicyFile = z.infer<typeof WorkspacePolicyFile>;

export interface WorkspaceFileContent {
  layer: PolicyInput;
  gitScripts: GitScriptSpec[];
}

/** Splits a parsed workspace file into its policy layer and its git-scripts; errors name `source` and the field. */
export function splitWorkspaceFile(raw: unknown, source: string): WorkspaceFileContent {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !('gitScripts' in raw)) return { layer: validateLayer(raw, source), gitScripts: [] };
  const { gitScripts, ...rest } = raw as Record<string, unknown>;
  const g = z.object({ gitScripts: z.array(GitScriptSpecSchema) }).safeParse({ gitScripts });
  if (!g.success) throw new SandboxError('POLICY_INVALID', describeZodError(g.error, source));
  // A git-script's own policy gets the same checks as any layer (globs, addresses, hosts).
  g.data.gitScripts.forEach((s, i) => s.policy && validateLayer(s.policy, `${source}: gitScripts[${i}].policy`));
  return { layer: validateLayer(rest, source), gitScripts: g.data.gitScripts };
}
