// A git-script definition: a script in a git repository, pinned to a ref. Pure data, shared by the CLI,
// the host and the extension (which bundles only this file and the policy schema).
import { z } from 'zod';
import { validateLayer } from './resolve';
import { PolicyInput, describeZodError } from './schema';
import { SandboxError } from '../errors';

export const GitScriptSpecSchema = z
  .object({
    name: z.string().min(1).optional().describe('Name shown to the user; approvals are kept per name (else per repository and script).'),
    repo: z
      .string()
      .min(1, 'must not be empty')
      .refine((u) => /^(https?|git|ssh|file):\/\//.test(u) || /^[\w.-]+@[\w.-]+:/.test(u), 'must be an https://, http://, git://, ssh:// or file:// URL (or user@host:path)')
      .describe('Repository URL.'),
    ref: z.string().min(1, 'must not be empty').refine((r) => !r.startsWith('-') && !r.includes('..'), 'is not a valid ref').describe('Tag, branch or full commit id; resolved to a commit the user approves.'),
    script: z
      .string()
      .min(1, 'must not be empty')
      .refine((s) => !s.startsWith('/') && !s.split('/').includes('..'), 'must be a path inside the repository')
      .describe('Path of the script inside the repository.'),
    args: z.array(z.string()).optional().describe('Arguments for the script; ${workspaceFolder} is replaced by the workspace folder.'),
    policy: PolicyInput.optional().describe('A policy for this git-script only, applied where it tightens the policy of the run (never loosens it).'),
  })
  .strict()
  .describe('A script that lives in a git repository, fetched at a pinned ref and run in the sandbox.');
export type GitScriptSpec = z.infer<typeof GitScriptSpecSchema>;

export function parseGitScriptSpec(raw: unknown, source: string): GitScriptSpec {
  const r = GitScriptSpecSchema.safeParse(raw);
  if (r.success) {
    if (r.data.policy) validateLayer(r.data.policy, `${source}: policy`);
    return r.data;
  }
  throw new SandboxError('POLICY_INVALID', describeZodError(r.error, source, { first: true }));
}

/** The key approvals are kept under. */
export function approvalKey(spec: GitScriptSpec): string {
  return spec.name ?? `${spec.repo}#${spec.script}`;
}
