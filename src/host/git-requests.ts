// The host's side of git-scripts for the extension: fetch (sandboxed, with progress), approve, run, clean.
// A fetch is held by id for the host's lifetime; a run names it, and the host itself checks the approval
// before running, so a client cannot skip it.
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApprovalStore, cleanGitCache, describeApproval, fetchGitScript, gitScriptRun, parseGitScriptSpec, type FetchedGitScript } from '../gitscript';
import { resolvePolicy } from '../policy';
import type { ResolvedPolicy } from '../policy/schema';
import type { Violation } from '../policy/violation';
import { SandboxError } from '../errors';
import type { ClientMessage, HostMessage } from '../protocol/host';
import type { AuditLog } from '../audit';
import type { Engine } from './engine';
import { gitSandbox } from './git-sandbox';
import { canonicalFolder } from './canonical-folder';

type Msg<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

export interface GitRun {
  command: string[];
  cwd: string;
  policy: ResolvedPolicy;
  gitScript: { repo: string; ref: string; commit: string };
}

export class GitRequests {
  private readonly fetches = new Map<string, { fetched: FetchedGitScript; cacheRoot: string }>();
  /** Fetches in flight, by request id, so gitFetchCancel can stop one. */
  private readonly inFlight = new Map<string, AbortController>();

  constructor(
    private readonly engine: Engine,
    private readonly send: (m: HostMessage) => void,
    private readonly auditFor: (file: string, workspace: string) => Promise<AuditLog>,
  ) {}

  /** Kills the fetch's git (or tar) process tree; its gitFetch then fails with GIT_FETCH_CANCELLED. */
  cancel(m: Msg<'gitFetchCancel'>): void {
    this.inFlight.get(m.requestId)?.abort();
  }

  async fetch(m: Msg<'gitFetch'>): Promise<void> {
    const abort = new AbortController();
    this.inFlight.set(m.requestId, abort);
    try {
      const spec = parseGitScriptSpec(m.spec, 'git-script');
      const { policy } = resolvePolicy(m.layers, { workspace: canonicalFolder(m.workspace), home: canonicalFolder(os.homedir()), approvedLoosening: m.approvedLoosening });
      const audit = m.auditPath ? await this.auditFor(m.auditPath, m.workspace).catch(() => undefined) : undefined;
      const fetchViolations: Violation[] = [];
      const fetched = await fetchGitScript(gitSandbox(this.engine), spec, {
        cacheRoot: m.cacheRoot,
        onProgress: (message, percent) => this.send({ type: 'gitProgress', requestId: m.requestId, message, ...(percent !== undefined ? { percent } : {}) }),
        signal: abort.signal,
        onViolation: (v) => fetchViolations.push(v),
        audit,
      });
      const check = await ApprovalStore.inCache(m.cacheRoot).check(gitSandbox(this.engine), fetched, m.cacheRoot);
      const run = gitScriptRun(fetched, policy, m.workspace);
      const fetchId = randomUUID();
      this.fetches.set(fetchId, { fetched, cacheRoot: m.cacheRoot });
      this.send({
        type: 'gitFetched',
        requestId: m.requestId,
        fetchId,
        name: spec.name ?? path.basename(spec.script),
        repo: fetched.repo,
        ref: fetched.ref,
        commit: fetched.commit,
        checkoutDir: fetched.checkoutDir,
        scriptPath: fetched.scriptPath,
        args: run.command.slice(1),
        reused: fetched.reused,
        approval: { status: check.status, previousCommit: check.previousCommit, changedFiles: check.changedFiles },
        description: describeApproval(check, run.policy),
        fetchViolations,
      });
    } catch (e) {
      this.reject(m.requestId, e);
    } finally {
      this.inFlight.delete(m.requestId);
    }
  }

  approve(m: Msg<'gitApprove'>): void {
    try {
      const f = this.held(m.fetchId);
      ApprovalStore.inCache(f.cacheRoot).approve(f.fetched);
      this.send({ type: 'gitApproved', requestId: m.requestId });
    } catch (e) {
      this.reject(m.requestId, e);
    }
  }

  /** The command, cwd and policy of an approved fetch; throws a SandboxError otherwise. */
  async prepareRun(fetchId: string, base: ResolvedPolicy, workspace: string): Promise<GitRun> {
    const f = this.held(fetchId);
    const check = await ApprovalStore.inCache(f.cacheRoot).check(gitSandbox(this.engine), f.fetched, f.cacheRoot);
    if (check.status !== 'approved') {
      throw new SandboxError('GIT_NOT_APPROVED', `commit ${f.fetched.commit.slice(0, 12)} of ${f.fetched.repo} is not approved; run the git-script again and approve it`);
    }
    return gitScriptRun(f.fetched, base, workspace);
  }

  clean(m: Msg<'gitCacheClean'>): void {
    try {
      const r = cleanGitCache(m.cacheRoot);
      this.fetches.clear();
      this.send({ type: 'gitCacheCleaned', requestId: m.requestId, removed: r.removed, bytes: r.bytes });
    } catch (e) {
      this.reject(m.requestId, e);
    }
  }

  private held(fetchId: string): { fetched: FetchedGitScript; cacheRoot: string } {
    const f = this.fetches.get(fetchId);
    if (!f) throw new SandboxError('GIT_FETCH_UNKNOWN', 'this git-script fetch is not known to the sandbox host (it may have restarted); run the git-script again');
    return f;
  }

  private reject(requestId: string, e: unknown): void {
    const err = e instanceof SandboxError ? e : new SandboxError('SETUP_FAILED', String((e as Error)?.message ?? e));
    this.send({ type: 'rejected', requestId, error: err.toData() });
  }
}
