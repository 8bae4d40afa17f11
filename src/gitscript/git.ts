// git, run in the sandbox: it may write only under the cache root, reach only the repository's host (no
// network at all for file://), never prompt for credentials and never run hooks, within a time limit.
import * as os from 'node:os';
import { decidePath, resolvePolicy } from '../policy';
import { SandboxError } from '../errors';
import type { PolicyInput } from '../policy/schema';
import type { Violation } from '../policy/violation';
import type { AuditLog } from '../audit';
import type { SandboxRunner } from './sandbox';

export interface GitRunOptions {
  cacheRoot: string;
  repo: string;
  timeoutSeconds: number;
  onViolation?: (v: Violation) => void;
  audit?: AuditLog;
  /** Aborting kills git's process tree (the caller then treats the step as cancelled). */
  signal?: AbortSignal;
  /** stderr as it arrives (git writes its progress there). */
  onStderr?: (text: string) => void;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_PORT: Readonly<Record<string, number>> = { http: 80, https: 443, git: 9418, ssh: 22, 'git+ssh': 22, 'ssh+git': 22 };

/** Host and port a URL connects to (the scheme's port when none is written); null for file:// and local paths. */
export function repoEndpoint(url: string): { host: string; port: number } | null {
  if (url.startsWith('file://')) return null;
  const m = /^([a-z+]+):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?/i.exec(url);
  if (m) {
    const port = m[3] ? Number(m[3]) : DEFAULT_PORT[m[1]!.toLowerCase()];
    return port ? { host: m[2]!.replace(/^\[|\]$/g, ''), port } : null;
  }
  const scp = /^[\w.-]+@([\w.-]+):/.exec(url);
  return scp ? { host: scp[1]!, port: 22 } : null;
}

/**
 * The fetch's own policy. A remote repository: its host only. A loopback one (a local git daemon or http
 * server): its address and port only, so a redirect or a helper reaching another local service is blocked.
 */
export function fetchPolicyLayer(o: GitRunOptions): PolicyInput {
  const ep = repoEndpoint(o.repo);
  let network: PolicyInput['network'] = { preset: 'none' };
  if (ep) {
    const { host, port } = ep;
    const loopback = host === 'localhost' ? ['127.0.0.1/32', '[::1/128]'] : /^127\./.test(host) ? [`${host}/32`] : host === '::1' ? ['[::1/128]'] : [];
    // Not in allowHosts when loopback: a host entry would allow every port of it.
    network = loopback.length ? { preset: 'strict', allowAddresses: loopback.map((a) => `${a}:${port}`) } : { preset: 'strict', allowHosts: [host] };
  }
  // Profile strict: no shared temp dir is writable (moderate would allow /tmp), reads are system paths, the
  // cache and a file:// repository. Limits sized for git on big repositories, not strict's defaults.
  const local = localRepoPath(o.repo);
  return {
    mode: 'enforce',
    profile: 'strict',
    network,
    ...(local ? { filesystem: { allowRead: [local, `${local}/**`] } } : {}),
    limits: { ...GIT_LIMITS, timeoutSeconds: o.timeoutSeconds },
  };
}

/** The directory of a file:// repository; null for others. */
export function localRepoPath(url: string): string | null {
  return url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)).replace(/(.)\/+$/, '$1') : null;
}

const GIT_LIMITS = { cpuSeconds: 600, memoryMiB: 4096, maxProcesses: 256, fileSizeMiB: 4096, openFiles: 1024 };

const GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: '/bin/false',
  SSH_ASKPASS: '/bin/false',
  GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  LANG: 'C',
  LC_ALL: 'C',
};

/** `git ARGS` in the sandbox, with the cache root as its only writable place. */
export async function runGit(sandbox: SandboxRunner, args: string[], o: GitRunOptions): Promise<GitResult> {
  const layer = fetchPolicyLayer(o);
  const ctx = { workspace: o.cacheRoot, home: os.homedir() };
  const local = localRepoPath(o.repo);
  if (local) {
    // Naming a path in allowRead unlocks it even when protected (~/.ssh, ~/.aws, …): refuse those here.
    const d = decidePath(resolvePolicy({ run: { ...layer, filesystem: {} } }, ctx).policy, local, 'read');
    if (!d.allowed && d.rule.startsWith('protected:')) throw new SandboxError('POLICY_INVALID', `${o.repo} is in a protected place (${d.rule.slice('protected:'.length)}): a git-script repository is never read from there`);
  }
  const { policy } = resolvePolicy({ run: layer }, ctx);
  const fileProto = o.repo.startsWith('file://') ? ['-c', 'protocol.file.allow=always'] : [];
  const command = ['git', '-c', 'core.hooksPath=/dev/null', '-c', 'credential.helper=', '-c', 'http.followRedirects=true', ...fileProto, ...args];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), ...GIT_ENV };
  const h = sandbox.run({
    command,
    cwd: o.cacheRoot,
    policy: { ...policy, env: { ...policy.env, allow: [...policy.env.allow, ...Object.keys(GIT_ENV)] } },
    env,
    ...(o.audit ? { audit: { log: o.audit, recordedPolicy: policy } } : {}),
  });
  let stdout = '';
  let stderr = '';
  h.on('stdout', (b) => (stdout += b.toString('utf8')));
  h.on('stderr', (b) => {
    const text = b.toString('utf8');
    stderr += text;
    o.onStderr?.(text);
  });
  if (o.onViolation) h.on('violation', o.onViolation);
  // A cancel that lands before the runner has a process to kill is repeated until the run ends.
  let again: NodeJS.Timeout | undefined;
  const abort = () => {
    h.cancel?.();
    again ??= setInterval(() => h.cancel?.(), 250);
  };
  if (o.signal?.aborted) abort();
  o.signal?.addEventListener('abort', abort, { once: true });
  const r = await h.wait().finally(() => {
    clearInterval(again);
    o.signal?.removeEventListener('abort', abort);
  });
  return { code: r.exitCode, stdout, stderr: r.setupError ? `${stderr}${r.setupError.message}` : stderr };
}
