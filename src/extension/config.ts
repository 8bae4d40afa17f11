// Settings → a validated policy layer plus the extension's own options. Read afresh for every run, so a
// change in the Settings UI takes effect on the next run without a reload.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import { Mode, PolicyInput, Profile } from '../policy/schema';

export const SECTION = 'scriptSandbox';
export const DEFAULT_AUDIT_PATH = path.join('.sandbox', 'audit.jsonl');

export interface AlertRule {
  threshold: number;
  windowMs: number;
  criticalAtOnce: boolean;
}

export interface SandboxSettings {
  mode: Mode;
  profile: Profile;
  /** The user's policy layer, validated with the policy schema. */
  layer: PolicyInput;
  interpreters: Record<string, string[]>;
  alerts: AlertRule;
  /** Notifications for alerts: all, critical only, or none. */
  notify: 'all' | 'critical' | 'none';
}

/** A setting with a bad value, named so the user can find it. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const Interpreters = z.record(z.string().regex(/^\.[^./\\]+$/, 'keys are file extensions like ".py"'), z.array(z.string().min(1)).min(1, 'needs at least the program'));

function list(cfg: vscode.WorkspaceConfiguration, key: string): string[] | undefined {
  const v = cfg.get<unknown>(key);
  return Array.isArray(v) && v.length ? (v as string[]) : undefined;
}

/** Only the user's own (global) value: a workspace's .vscode/settings.json ships with the code it would unprotect. */
function userList(cfg: vscode.WorkspaceConfiguration, key: string): string[] | undefined {
  const v = cfg.inspect<unknown>(key)?.globalValue;
  return Array.isArray(v) && v.length ? (v as string[]) : undefined;
}

function scalar<T>(cfg: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const v = cfg.get<T | null>(key);
  return v === null || v === undefined || v === '' ? undefined : v;
}

/** Drops undefined fields and empty sub-objects, so unset settings leave the profile's defaults alone. */
function compact<T extends Record<string, unknown>>(o: T): Partial<T> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length ? (out as Partial<T>) : undefined;
}

/** Reads `scriptSandbox.*` for a resource; throws SettingsError naming the first bad setting. */
export function readSettings(scope?: vscode.Uri): SandboxSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION, scope);
  const raw = {
    mode: cfg.get('mode', 'enforce'),
    profile: cfg.get('profile', 'moderate'),
    filesystem: compact({
      readOnly: scalar<boolean>(cfg, 'filesystem.readOnly'),
      reportReads: scalar<boolean>(cfg, 'filesystem.reportReads'),
      allowRead: list(cfg, 'filesystem.allowRead'),
      denyRead: list(cfg, 'filesystem.denyRead'),
      allowWrite: list(cfg, 'filesystem.allowWrite'),
      denyWrite: list(cfg, 'filesystem.denyWrite'),
      unprotect: userList(cfg, 'filesystem.unprotect'),
    }),
    limits: compact({
      cpuSeconds: scalar<number>(cfg, 'limits.cpuSeconds'),
      memoryMiB: scalar<number>(cfg, 'limits.memoryMiB'),
      maxProcesses: scalar<number>(cfg, 'limits.maxProcesses'),
      fileSizeMiB: scalar<number>(cfg, 'limits.fileSizeMiB'),
      openFiles: scalar<number>(cfg, 'limits.openFiles'),
      timeoutSeconds: scalar<number>(cfg, 'limits.timeoutSeconds'),
    }),
    network: compact({
      preset: scalar<string>(cfg, 'network.preset'),
      allowHosts: list(cfg, 'network.allowHosts'),
      denyHosts: list(cfg, 'network.denyHosts'),
      allowAddresses: list(cfg, 'network.allowAddresses'),
    }),
    env: compact({
      allow: list(cfg, 'env.allow'),
      secretPatterns: list(cfg, 'env.secretPatterns'),
    }),
  };
  const parsed = PolicyInput.safeParse(compact(raw) ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new SettingsError(`Setting "${SECTION}.${i.path.join('.')}" is invalid: ${i.message}`);
  }
  const interp = Interpreters.safeParse(cfg.get('interpreters', {}));
  if (!interp.success) {
    const i = interp.error.issues[0]!;
    throw new SettingsError(`Setting "${SECTION}.interpreters${i.path.length ? `.${i.path.join('.')}` : ''}" is invalid: ${i.message}`);
  }
  const threshold = cfg.get<number>('alerts.threshold', 3);
  const windowMinutes = cfg.get<number>('alerts.windowMinutes', 5);
  if (!Number.isInteger(threshold) || threshold < 1) throw new SettingsError(`Setting "${SECTION}.alerts.threshold" must be a whole number ≥ 1, got ${threshold}`);
  if (!(windowMinutes > 0)) throw new SettingsError(`Setting "${SECTION}.alerts.windowMinutes" must be positive, got ${windowMinutes}`);
  return {
    mode: parsed.data.mode ?? 'enforce',
    profile: parsed.data.profile ?? 'moderate',
    layer: parsed.data,
    interpreters: interp.data,
    alerts: { threshold, windowMs: windowMinutes * 60_000, criticalAtOnce: true },
    notify: cfg.get<'all' | 'critical' | 'none'>('alerts.notifications', 'all'),
  };
}

/** The audit log for a workspace folder: `scriptSandbox.auditPath`, relative to the folder, or the default. */
export function auditPathFor(workspace: string, scope?: vscode.Uri): string {
  const configured = vscode.workspace.getConfiguration(SECTION, scope).get<string>('auditPath', '').trim();
  const p = (configured || DEFAULT_AUDIT_PATH).replace(/\$\{workspaceFolder\}/g, workspace);
  return path.resolve(workspace, p);
}

/** Where a mode change from the status bar goes: where the mode is set now, else the user settings. */
export async function setMode(mode: Mode): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const where = cfg.inspect('mode');
  const target = where?.workspaceFolderValue !== undefined || where?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await cfg.update('mode', mode, target);
}
