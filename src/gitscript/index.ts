// Git-scripts: scripts in git repositories, fetched in the sandbox at a pinned ref, approved per commit,
// run read-only from their checkout.
export { GitScriptSpecSchema, parseGitScriptSpec, approvalKey, type GitScriptSpec } from '../policy/git-script-spec';
export { fetchGitScript, REQUESTED_POLICY_FILE, type FetchOptions, type FetchedGitScript } from './fetch';
export { ApprovalStore, describeApproval, type ApprovalCheck } from './approvals';
export { gitScriptRun, tighten } from './run';
export { cleanGitCache } from './cache';
export type { SandboxCommand, SandboxedRun, SandboxRunner } from './sandbox';
