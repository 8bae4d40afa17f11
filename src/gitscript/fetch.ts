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
  onProgress?: (message: string) => void;
  onViolation?: (v: Violation) => void;
  audit?: AuditLog;
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

export async function fetchGitScript(sandbox: SandboxRunner, spec: GitScriptSpec, o: FetchOptions): Promise<FetchedGitScript> {
  const cacheRoot = path.resolve(o.cacheRoot);
  fs.mkdirSync(cacheRoot, { recursive: true, mode: 0o700 });
  const progress = o.onProgress ?? (() => undefined);
  const gitOpts: GitRunOptions = { cacheRoot, repo: spec.repo, timeoutSeconds: o.timeoutSeconds ?? 120, onViolation: o.onViolation, audit: o.audit };
  const key = repoKey(spec.repo);
  const mirror = path.join(cacheRoot, 'mirrors', `${key}.git`);
  if (!fs.existsSync(path.join(mirror, 'HEAD'))) {
    fs.mkdirSync(path.dirname(mirror), { recursive: true });
    const init = await runGit(sandbox, ['init', '--bare', '-q', mirror], gitOpts);
    if (init.code !== 0) throw new SandboxError('GIT_FETCH_FAILED', `git init of the cache failed: ${lastLine(init.stderr)}`, { call: 'git init' });
  }
  progress(`fetching ${spec.repo}`);
  const f = await runGit(sandbox, ['--git-dir', mirror, 'fetch', '-q', '--force', '--prune', '--no-tags', spec.repo, '+refs/heads/*:refs/src/heads/*', '+refs/tags/*:refs/src/tags/*'], gitOpts);
  if (f.code !== 0) throw fetchError(spec.repo, f.stderr, f.code);
  const commit = await resolveRef(sandbox, mirror, spec.ref, gitOpts);
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
    if (a.code !== 0) throw new SandboxError('GIT_FETCH_FAILED', `git archive of ${commit} failed: ${lastLine(a.stderr)}`, { call: 'git archive' });
    // The extraction is the one run that may write the checkouts (protected from every other run).
    const x = await sandbox
      .run({ command: ['tar', '-xf', tar, '-C', checkoutDir], cwd: cacheRoot, policy: resolvePolicy({ run: { mode: 'enforce', profile: 'strict', network: { preset: 'none' }, limits: { fileSizeMiB: 4096 }, filesystem: { unprotect: [path.join(cacheRoot, 'checkouts')] } } }, { workspace: cacheRoot, home: process.env.HOME ?? '/' }).policy, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
      .wait();
    fs.rmSync(tar, { force: true });
    if (x.exitCode !== 0) throw new SandboxError('GIT_FETCH_FAILED', `unpacking ${commit} failed (tar exit ${x.exitCode})`, { call: 'tar' });
    fs.writeFileSync(manifest, JSON.stringify(buildManifest(checkoutDir)));
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
