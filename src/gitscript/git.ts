// git, run in the sandbox: it may write only under the cache root, reach only the repository's host (no
// network at all for file://), never prompt for credentials and never run hooks, within a time limit.
import * as os from 'node:os';
import { resolvePolicy } from '../policy';
import type { PolicyInput } from '../policy/schema';
import type { Violation } from '../policy/violation';
import type { AuditLog } from '../host/audit-log';
import { attachAudit } from '../host/audit-recorder';
import type { Engine } from '../host/engine';

export interface GitRunOptions {
  cacheRoot: string;
  repo: string;
  timeoutSeconds: number;
  onViolation?: (v: Violation) => void;
  audit?: AuditLog;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The host part of a URL, for the fetch's network allow list; null for file:// and local paths. */
export function repoHost(url: string): string | null {
  if (url.startsWith('file://')) return null;
  const m = /^[a-z+]+:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/i.exec(url) ?? /^[\w.-]+@([\w.-]+):/.exec(url);
  return m ? m[1]!.replace(/^\[|\]$/g, '') : null;
}

export function fetchPolicyLayer(o: GitRunOptions): PolicyInput {
  const host = repoHost(o.repo);
  const loopback = host === 'localhost' || (host !== null && /^127\.|^::1$/.test(host));
  return {
    mode: 'enforce',
    profile: 'moderate',
    network: host === null ? { preset: 'none' } : { preset: 'strict', allowHosts: [host], ...(loopback ? { allowAddresses: [host === 'localhost' ? '127.0.0.1/32' : host.includes(':') ? `${host}/128` : `${host}/32`] } : {}) },
    limits: { timeoutSeconds: o.timeoutSeconds },
  };
}

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
export async function runGit(engine: Engine, args: string[], o: GitRunOptions): Promise<GitResult> {
  const { policy } = resolvePolicy({ run: fetchPolicyLayer(o) }, { workspace: o.cacheRoot, home: os.homedir() });
  const fileProto = o.repo.startsWith('file://') ? ['-c', 'protocol.file.allow=always'] : [];
  const command = ['git', '-c', 'core.hooksPath=/dev/null', '-c', 'credential.helper=', '-c', 'http.followRedirects=true', ...fileProto, ...args];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), ...GIT_ENV };
  const h = engine.runner.run({ command, cwd: o.cacheRoot, policy: { ...policy, env: { ...policy.env, allow: [...policy.env.allow, ...Object.keys(GIT_ENV)] } }, env, stdin: 'ignore' });
  if (o.audit) attachAudit(h, o.audit, { command, cwd: o.cacheRoot, policy, capabilities: engine.capabilities(), secretValues: [] });
  let stdout = '';
  let stderr = '';
  h.on('stdout', (b) => (stdout += b.toString('utf8')));
  h.on('stderr', (b) => (stderr += b.toString('utf8')));
  if (o.onViolation) h.on('violation', o.onViolation);
  const r = await h.wait();
  return { code: r.exitCode, stdout, stderr: r.setupError ? `${stderr}${r.setupError.message}` : stderr };
}
