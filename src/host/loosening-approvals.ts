// Approvals of a workspace policy file that loosens the user's policy, shared by the CLI (`script-sandbox
// approve`) and the extension (its modal "Approve"): one JSON file in the user's config directory, outside
// every workspace (a repository must not approve itself), mapping a workspace folder to the SHA-256 of the
// exact policy-file text approved — the same digest the extension keeps, so an edit needs a new approval.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function looseningApprovalsFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'script-sandbox', 'loosening-approvals.json');
}

/** SHA-256 (hex) of the policy file's text, as read from disk. */
export function policyTextDigest(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

function read(file: string): Record<string, string> {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

export function isLooseningApproved(workspace: string, digest: string, file = looseningApprovalsFile()): boolean {
  return read(file)[path.resolve(workspace)] === digest;
}

/** Records the approval (0600, written to a temp file and renamed, so a reader never sees half a file). */
export function recordLooseningApproval(workspace: string, digest: string, file = looseningApprovalsFile()): void {
  const all = { ...read(file), [path.resolve(workspace)]: digest };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}
