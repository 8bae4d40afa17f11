// Which commit of each git-script the user approved. A new git-script, or another commit of an approved
// one, is asked again, with the files that changed and any change in the policy the repository requests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PolicyInput, ResolvedPolicy } from '../policy/schema';
import type { SandboxRunner } from './sandbox';
import type { FetchedGitScript } from './fetch';
import { runGit } from './git';
import { approvalKey } from '../policy/git-script-spec';

export interface ApprovalCheck {
  status: 'approved' | 'new' | 'changed';
  key: string;
  commit: string;
  previousCommit?: string;
  changedFiles?: { status: string; path: string }[];
  requestedPolicy: PolicyInput | null;
  previousRequestedPolicy?: PolicyInput | null;
}

type Entry = { commit: string; repo: string; requestedPolicy: PolicyInput | null; time: string };

export class ApprovalStore {
  constructor(private readonly file: string) {}

  /** The store a git-script cache keeps beside its mirrors and checkouts (cleaned with them). */
  static inCache(cacheRoot: string): ApprovalStore {
    return new ApprovalStore(path.join(cacheRoot, 'approvals.json'));
  }

  private read(): Record<string, Entry> {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, Entry>;
    } catch {
      return {};
    }
  }

  async check(sandbox: SandboxRunner, f: FetchedGitScript, cacheRoot: string): Promise<ApprovalCheck> {
    const key = approvalKey(f.spec);
    const prev = this.read()[key];
    if (!prev || prev.repo !== f.repo) return { status: 'new', key, commit: f.commit, requestedPolicy: f.requestedPolicy };
    if (prev.commit === f.commit) return { status: 'approved', key, commit: f.commit, requestedPolicy: f.requestedPolicy };
    // The diff is computed by git in the sandbox too: the mirror is the repository's data.
    const d = await runGit(sandbox, ['--git-dir', f.mirror, 'diff', '--name-status', '--no-renames', prev.commit, f.commit], { cacheRoot, repo: f.repo, timeoutSeconds: 60 });
    const changedFiles =
      d.code === 0
        ? d.stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => {
              const [status, ...p] = l.split('\t');
              return { status: status!, path: p.join('\t') };
            })
        : [{ status: '?', path: `(no diff: ${d.stderr.trim().split('\n').pop() ?? 'git diff failed'})` }];
    return { status: 'changed', key, commit: f.commit, previousCommit: prev.commit, changedFiles, requestedPolicy: f.requestedPolicy, previousRequestedPolicy: prev.requestedPolicy };
  }

  approve(f: FetchedGitScript): void {
    const all = this.read();
    all[approvalKey(f.spec)] = { commit: f.commit, repo: f.repo, requestedPolicy: f.requestedPolicy, time: new Date().toISOString() };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all, null, 2));
    fs.renameSync(tmp, this.file);
  }
}

export function describeApproval(c: ApprovalCheck, p: ResolvedPolicy): string {
  const lines = [`git-script ${c.key}`, `commit ${c.commit}`];
  if (c.status === 'changed') {
    lines.push(`previously approved: ${c.previousCommit}`, `changed files (${c.changedFiles?.length ?? 0}):`);
    for (const f of (c.changedFiles ?? []).slice(0, 30)) lines.push(`  ${f.status}  ${f.path}`);
    if ((c.changedFiles?.length ?? 0) > 30) lines.push(`  … and ${c.changedFiles!.length - 30} more`);
    if (JSON.stringify(c.requestedPolicy) !== JSON.stringify(c.previousRequestedPolicy ?? null)) lines.push(`the repository's policy request changed: ${JSON.stringify(c.previousRequestedPolicy ?? null)} → ${JSON.stringify(c.requestedPolicy)}`);
  }
  if (c.requestedPolicy && c.status !== 'changed') lines.push(`the repository requests: ${JSON.stringify(c.requestedPolicy)} (applied only where it tightens)`);
  const w = p.filesystem.readOnly ? 'nothing' : [p.workspace, ...p.filesystem.allowWrite].join(', ');
  lines.push(`it will run with: mode ${p.mode}, profile ${p.profile}, network ${p.network.preset}, writes to ${w}; its checkout is read-only`);
  return lines.join('\n');
}
