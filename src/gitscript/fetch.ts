// Fetch a git-script: a bare mirror per repository (reused), the ref resolved to a commit, and a plain
// checkout of that commit with no .git (so no hooks can exist), verified against its manifest before reuse.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePolicyFile, resolvePolicy } from '../policy';
import type { PolicyInput } from '../policy/schema';
import type { Violation } from '../policy/violation';
import { SandboxError } from '../errors';
import type { AuditLog } from '../audit';
import { runGit, type GitRunOptions } from './git';
import type { GitScriptSpec } from '../policy/git-script-spec';
import type { SandboxRunner } from './sandbox';

export interface FetchOptions {
  cacheRoot: string;
  timeoutSeconds?: number;
  /** A stage, and while git transfers, the fetch's overall percentage (from git's own progress lines). */
  onProgress?: (message: string, percent?: number) => void;
  onViolation?: (v: Violation) => void;
  audit?: AuditLog;
  /**
   * Aborting kills the running git (or tar) process tree and rejects with GIT_FETCH_CANCELLED. The cache
   * stays consistent: git updates refs only after a complete pack, stale lock files of the killed git are
   * removed, and a checkout counts only once its manifest is written (last, by rename).
   */
  signal?: AbortSignal;
}

export interface FetchedGitScript {
  spec: GitScriptSpec;
  repo: string;
  ref: string;
  commit: string;
  checkoutDir: string;
  scriptPath: string;
  mirror: string;
  /** The repository's own policy request (.script-sandbox.json at its root); applied tighten-only. */
  requestedPolicy: PolicyInput | null;
  reused: boolean;
}

export const REQUESTED_POLICY_FILE = '.script-sandbox.json';
const INTERPRETED = new Set(['.py', '.js', '.mjs', '.cjs', '.sh', '.bash', '.rb', '.pl']);

export function repoKey(repo: string): string {
  return crypto.createHash('sha256').update(repo).digest('hex').slice(0, 16);
}

/** Git's progress stages and the share of the whole fetch each one stands for (receiving dominates). */
const STAGES: ReadonlyArray<[RegExp, number, number]> = [
  [/^(?:remote: )?(?:Enumerating|Counting) objects:\s+(\d+)%/, 0, 5],
  [/^(?:remote: )?Compressing objects:\s+(\d+)%/, 5, 10],
  [/^Receiving objects:\s+(\d+)%/, 10, 85],
  [/^Resolving deltas:\s+(\d+)%/, 85, 100],
];

/** One line of `git fetch --progress` output as a stage and the fetch's overall percentage; null for others. */
export function parseGitProgress(line: string): { stage: string; stagePercent: number; percent: number } | null {
  const text = line.trim();
  for (const [re, from, to] of STAGES) {
    const m = re.exec(text);
    if (!m) continue;
    const stagePercent = Math.min(100, Number(m[1]));
    return { stage: text.replace(/^remote: /, '').replace(/:.*$/, ''), stagePercent, percent: Math.round(from + ((to - from) * stagePercent) / 100) };
  }
  return null;
}

/** Feeds stderr chunks (lines end in \r while git redraws them) to `report`, once per new percentage. */
function progressReader(report: (message: string, percent: number) => void): (chunk: string) => void {
  let rest = '';
  let last = -1;
  return (chunk) => {
    const parts = (rest + chunk).split(/[\r\n]/);
    rest = parts.pop() ?? '';
    for (const l of parts) {
      const p = parseGitProgress(l);
      if (!p || p.percent === last) continue;
      last = p.percent;
      report(`${p.stage}: ${p.stagePercent}%`, p.percent);
    }
  };
}

function cancelled(what: string): SandboxError {
  return new SandboxError('GIT_FETCH_CANCELLED', `the git-script fetch was cancelled ${what}; the cache is as it was before`);
}

/**
 * After a killed git: remove the lock files and temporary packs it left in the mirror (created since the
 * fetch began), so the next fetch does not fail on "index.lock/packed-refs.lock exists".
 */
function removeLeftovers(mirror: string, since: number): void {
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (e.name.endsWith('.lock') || e.name.startsWith('tmp_') || e.name.startsWith('.tmp-'))) {
        try {
          if (fs.statSync(p).mtimeMs >= since - 1000) fs.rmSync(p, { force: true });
        } catch {
          /* gone already */
        }
      }
    }
  };
  walk(mirror);
}

export async function fetchGitScript(sandbox: SandboxRunner, spec: GitScriptSpec, o: FetchOptions): Promise<FetchedGitScript> {
  const cacheRoot = path.resolve(o.cacheRoot);
  fs.mkdirSync(cacheRoot, { recursive: true, mode: 0o700 });
  const progress = o.onProgress ?? (() => undefined);
  const gitOpts: GitRunOptions = { cacheRoot, repo: spec.repo, timeoutSeconds: o.timeoutSeconds ?? 120, onViolation: o.onViolation, audit: o.audit, signal: o.signal };
  const key = repoKey(spec.repo);
  const mirror = path.join(cacheRoot, 'mirrors', `${key}.git`);
  const began = Date.now();
  const stopIfCancelled = (what: string) => {
    if (o.signal?.aborted) throw cancelled(what);
  };
  stopIfCancelled('before it started');
  if (!fs.existsSync(path.join(mirror, 'HEAD'))) {
    fs.mkdirSync(path.dirname(mirror), { recursive: true });
    const init = await runGit(sandbox, ['init', '--bare', '-q', mirror], gitOpts);
    if (init.code !== 0) throw new SandboxError('GIT_FETCH_FAILED', `git init of the cache failed: ${lastLine(init.stderr)}`, { call: 'git init' });
  }
  progress(`fetching ${spec.repo}`);
  // --progress: git prints its percentages even though stderr is a pipe.
  const f = await runGit(sandbox, ['--git-dir', mirror, 'fetch', '--progress', '--force', '--prune', '--no-tags', spec.repo, '+refs/heads/*:refs/src/heads/*', '+refs/tags/*:refs/src/tags/*'], {
    ...gitOpts,
    onStderr: progressReader(progress),
  });
  if (o.signal?.aborted) {
    removeLeftovers(mirror, began);
    throw cancelled(`while git fetched ${spec.repo}`);
  }
  if (f.code !== 0) throw fetchError(spec.repo, f.stderr, f.code);
  stopIfCancelled('after git fetched');
  const commit = await resolveRef(sandbox, mirror, spec.ref, gitOpts);
  stopIfCancelled('after git fetched');
  progress(`${spec.ref} is commit ${commit.slice(0, 12)}`);

  const checkoutDir = path.join(cacheRoot, 'checkouts', key, commit);
  const manifest = `${checkoutDir}.manifest.json`;
  let reused = false;
  if (fs.existsSync(checkoutDir)) {
    if (verifyManifest(checkoutDir, manifest)) reused = true;
    else {
      progress('the cached checkout does not match its manifest; rebuilding it');
      fs.rmSync(checkoutDir, { recursive: true, force: true });
    }
  }
  if (!reused) {
    fs.mkdirSync(checkoutDir, { recursive: true });
    const tar = `${checkoutDir}.tar`;
    const a = await runGit(sandbox, ['--git-dir', mirror, 'archive', '--format=tar', '-o', tar, commit], gitOpts);
    if (o.signal?.aborted) {
      fs.rmSync(tar, { force: true });
      throw cancelled('while the checkout was made');
    }
    if (a.code !== 0) throw new SandboxError('GIT_FETCH_FAILED', `git archive of ${commit} failed: ${lastLine(a.stderr)}`, { call: 'git archive' });
    // The extraction is the one run that may write the checkouts (protected from every other run).
    const extract = sandbox.run({ command: ['tar', '-xf', tar, '-C', checkoutDir], cwd: cacheRoot, policy: resolvePolicy({ run: { mode: 'enforce', profile: 'strict', network: { preset: 'none' }, limits: { fileSizeMiB: 4096 }, filesystem: { unprotect: [path.join(cacheRoot, 'checkouts')] } } }, { workspace: cacheRoot, home: process.env.HOME ?? '/' }).policy, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const kill = () => extract.cancel?.();
    o.signal?.addEventListener('abort', kill, { once: true });
    const x = await extract.wait().finally(() => o.signal?.removeEventListener('abort', kill));
    fs.rmSync(tar, { force: true });
    // A half-unpacked checkout has no manifest, so it is never reused: the next fetch rebuilds it.
    if (o.signal?.aborted) throw cancelled('while the checkout was unpacked');
    if (x.exitCode !== 0) throw new SandboxError('GIT_FETCH_FAILED', `unpacking ${commit} failed (tar exit ${x.exitCode})`, { call: 'tar' });
    // The manifest is what makes a checkout usable: written whole, then renamed into place.
    fs.writeFileSync(`${manifest}.tmp`, JSON.stringify(buildManifest(checkoutDir)));
    fs.renameSync(`${manifest}.tmp`, manifest);
  }

  const scriptPath = path.join(checkoutDir, spec.script);
  let st: fs.Stats;
  try {
    st = fs.statSync(scriptPath);
  } catch {
    throw new SandboxError('GIT_SCRIPT_MISSING', `${spec.script} does not exist in ${spec.repo} at ${spec.ref} (commit ${commit.slice(0, 12)})`);
  }
  if (!st.isFile()) throw new SandboxError('GIT_SCRIPT_MISSING', `${spec.script} in ${spec.repo} at ${spec.ref} is not a file`);
  if ((st.mode & 0o111) === 0 && !hasShebang(scriptPath) && !INTERPRETED.has(path.extname(scriptPath))) {
    throw new SandboxError('GIT_SCRIPT_NOT_EXECUTABLE', `${spec.script} at ${spec.ref} is not executable: no x bit, no #! line and no known interpreter for its extension`);
  }
  const reqFile = path.join(checkoutDir, REQUESTED_POLICY_FILE);
  const requestedPolicy = fs.existsSync(reqFile) ? parsePolicyFile(fs.readFileSync(reqFile, 'utf8'), `${spec.repo}:${REQUESTED_POLICY_FILE}`) : null;
  return { spec, repo: spec.repo, ref: spec.ref, commit, checkoutDir, scriptPath, mirror, requestedPolicy, reused };
}

async function resolveRef(sandbox: SandboxRunner, mirror: string, ref: string, o: GitRunOptions): Promise<string> {
  const candidates = [`refs/src/tags/${ref}`, `refs/src/heads/${ref}`, ...(/^[0-9a-f]{7,64}$/i.test(ref) ? [ref] : [])];
  for (const c of candidates) {
    const r = await runGit(sandbox, ['--git-dir', mirror, 'rev-parse', '--verify', '-q', `${c}^{commit}`], o);
    if (r.code === 0 && /^[0-9a-f]{40,64}$/.test(r.stdout.trim())) return r.stdout.trim();
  }
  throw new SandboxError('GIT_REF_UNKNOWN', `ref "${ref}" is not a tag, branch or commit of ${o.repo}`);
}

function fetchError(repo: string, stderr: string, code: number): SandboxError {
  const last = lastLine(stderr) || `git exited with ${code}`;
  if (/terminal prompts disabled|could not read (Username|Password)|Authentication failed|Permission denied \(publickey/i.test(stderr)) {
    return new SandboxError('GIT_AUTH_REQUIRED', `${repo} asks for credentials, and prompts are disabled in the sandbox: use a URL the machine can read without prompting (a credential helper configured for that host, a token in the URL) or a local mirror (${last})`, { call: 'git fetch' });
  }
  if (/does not appear to be a git repository|Could not read from remote|unable to access|Connection refused|Could not resolve host|not found|No such file/i.test(stderr)) {
    return new SandboxError('GIT_UNREACHABLE', `${repo} cannot be reached: ${last}`, { call: 'git fetch' });
  }
  return new SandboxError('GIT_FETCH_FAILED', `fetching ${repo} failed: ${last}`, { call: 'git fetch' });
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop()?.replace(/^fatal: /, '') ?? '';
}

function hasShebang(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b.toString() === '#!';
  } finally {
    fs.closeSync(fd);
  }
}

/** Every file of the checkout with its SHA-256 (and symlinks with their targets). */
export function buildManifest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const p = path.join(dir, r);
      if (e.isDirectory()) walk(r);
      else if (e.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(p)}`;
      else out[r] = `${(fs.statSync(p).mode & 0o777).toString(8)}:${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
    }
  };
  walk('');
  return out;
}

export function verifyManifest(dir: string, manifestFile: string): boolean {
  try {
    const want = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, string>;
    const have = buildManifest(dir);
    const keys = Object.keys(want);
    return keys.length === Object.keys(have).length && keys.every((k) => want[k] === have[k]);
  } catch {
    return false;
  }
}
