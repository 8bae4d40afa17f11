// Which quick fixes a violation gets, as changes to `.vscode/sandbox.json`. Pure, so unit-tested;
// quick-fixes.ts turns them into edits.
import * as path from 'node:path';
import type { Violation } from '../policy/violation';
import { ruleFamily } from './rule-docs';

/** One change a quick fix makes to the policy file. */
export type PolicyChange = { kind: 'append'; path: string[]; value: string } | { kind: 'set'; path: string[]; value: unknown };

/** Workspace-relative when inside the workspace (the policy's globs are relative to it), else absolute. */
function policyPath(p: string, workspace: string): string {
  const rel = path.relative(workspace, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

export function fixesFor(v: Violation, workspace: string): Array<[string, PolicyChange]> {
  const out: Array<[string, PolicyChange]> = [];
  const target = v.resolvedPath ?? v.path;
  if (v.kind === 'file' && target && v.action !== 'warned') {
    const p = policyPath(target, workspace);
    const writing = /write|creat|truncat|unlink|rename|mkdir|rmdir|link/i.test(`${v.syscall ?? ''} ${v.rule} ${v.message}`);
    if (writing) out.push([`Allow writing to ${p} in this workspace`, { kind: 'append', path: ['filesystem', 'allowWrite'], value: p }]);
    else out.push([`Allow reading ${p} in this workspace`, { kind: 'append', path: ['filesystem', 'allowRead'], value: p }]);
  }
  if (v.kind === 'network' && v.action !== 'warned') {
    if (v.host) out.push([`Allow host ${v.host}`, { kind: 'append', path: ['network', 'allowHosts'], value: v.host }]);
    else if (v.address && !v.address.startsWith('/')) {
      const cidr = `${v.address}${v.address.includes(':') ? '/128' : '/32'}${v.port != null ? `:${v.port}` : ''}`;
      out.push([`Allow address ${v.address}${v.port != null ? ` port ${v.port}` : ''}`, { kind: 'append', path: ['network', 'allowAddresses'], value: cidr }]);
    } else if (v.address) out.push([`Allow unix socket ${v.address}`, { kind: 'append', path: ['network', 'allowUnixSockets'], value: v.address }]);
  }
  if (v.action !== 'warned') out.push(['Switch this workspace to warn mode', { kind: 'set', path: ['mode'], value: 'warn' }]);
  return out;
}

/**
 * The one obvious fix (Ctrl+. applies it), as an index into `fixes`, if there is one: allowing exactly this
 * path, host or address. Never for a critical violation, a protected path or the cloud metadata service
 * (releasing those should be a deliberate choice), and never "switch to warn mode" (it loosens everything).
 */
export function preferredFix(v: Violation, fixes: ReadonlyArray<[string, PolicyChange]>): number | undefined {
  if (v.severity === 'critical') return undefined;
  const family = ruleFamily(v);
  if (family === 'protected' || family === 'metadata') return undefined;
  return fixes[0]?.[1].kind === 'append' ? 0 : undefined;
}
