// Settings → a validated policy layer plus the extension's own options. Read afresh for every run, so a
// change in the Settings UI takes effect on the next run without a reload. Every policy setting is read
// with inspect(): the user's value (or the default) is the user's layer; a workspace's value (workspace or
// folder settings, a .code-workspace file, language-specific) may only tighten it (settings-layers.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import { Mode, PolicyInput, Profile } from '../policy/schema';
import {
  auditPathIn,
  DEFAULT_SOURCE,
  isInside,
  layerAlerts,
  layerSettings,
  POLICY_SETTINGS,
  SECTION,
  SettingsError,
  USER_SOURCE,
  type IgnoredSetting,
  type InspectedSetting,
  type Origin,
  type PolicySetting,
  type Source,
} from './settings-layers';
import { DEFAULT_LANGUAGE_INTERPRETERS } from './runnable-rules';

export { SECTION, SettingsError };
export const DEFAULT_AUDIT_PATH = path.join('.sandbox', 'audit.jsonl');

export interface AlertRule {
  threshold: number;
  windowMs: number;
  criticalAtOnce: boolean;
}

export interface SandboxSettings {
  mode: Mode;
  profile: Profile;
  /** The settings' policy layer: the user's, tightened by the workspace's values that only tighten. */
  layer: PolicyInput;
  /** The user's own layer (user settings over the defaults). */
  user: PolicyInput;
  /** Where the mode and the profile in `layer` came from. */
  origins: { mode: Origin; profile: Origin };
  /** Workspace values left out because they would loosen the user's settings (or point outside). */
  ignored: IgnoredSetting[];
  interpreters: Record<string, string[]>;
  /** Interpreter by VS Code language id, for a script without a `#!` line. */
  languageInterpreters: Record<string, string[]>;
  alerts: AlertRule;
  /** Notifications for alerts: all, critical only, or none. */
  notify: 'all' | 'critical' | 'none';
}

const LanguageInterpreters = z.record(z.string().regex(/^[A-Za-z0-9_.+-]+$/, 'keys are language ids like "python"'), z.array(z.string().min(1)).min(1, 'needs at least the program'));
const Interpreters = z.record(z.string().regex(/^\.[^./\\]+$/, 'keys are file extensions like ".py"'), z.array(z.string().min(1)).min(1, 'needs at least the program'));

/** The workspace folder a scope belongs to, else the first one. */
function folderOf(scope?: vscode.Uri): vscode.WorkspaceFolder | undefined {
  return (scope && vscode.workspace.getWorkspaceFolder(scope)) || vscode.workspace.workspaceFolders?.[0];
}

/** Names of the workspace scopes inspect() reports, for messages and the status bar. */
function workspaceSources(folder: vscode.WorkspaceFolder | undefined): { workspace: Source; folder: Source } {
  const file = vscode.workspace.workspaceFile;
  const settingsJson = folder ? path.join(folder.uri.fsPath, '.vscode', 'settings.json') : '.vscode/settings.json';
  if (file && file.scheme === 'file') {
    return {
      workspace: { kind: 'workspace', label: 'workspace', detail: `workspace file ${file.fsPath}` },
      folder: { kind: 'workspace', label: 'folder', detail: `folder settings ${settingsJson}` },
    };
  }
  const ws: Source = { kind: 'workspace', label: 'workspace', detail: `workspace settings ${settingsJson}` };
  return { workspace: ws, folder: ws };
}

/** The user's value (or the default) and, in a trusted workspace, the workspace's, of one setting. */
function inspectSetting(cfg: vscode.WorkspaceConfiguration, key: string, trusted: boolean, src: { workspace: Source; folder: Source }): InspectedSetting {
  const i = cfg.inspect<unknown>(key);
  if (!i) return {};
  const first = (cands: Array<[unknown, Source]>) => {
    const c = cands.find(([v]) => v !== undefined);
    return c ? { value: c[0], source: c[1] } : undefined;
  };
  const lang = (s: Source): Source => ({ ...s, detail: `${s.detail} (language-specific)` });
  return {
    user: first([
      [i.globalLanguageValue, USER_SOURCE],
      [i.globalValue, USER_SOURCE],
      [i.defaultLanguageValue, DEFAULT_SOURCE],
      [i.defaultValue, DEFAULT_SOURCE],
    ]),
    // Restricted Mode: nothing of the workspace's counts (VS Code withholds them too, see restrictedConfigurations).
    workspace: trusted
      ? first([
          [i.workspaceFolderLanguageValue, lang(src.folder)],
          [i.workspaceLanguageValue, lang(src.workspace)],
          [i.workspaceFolderValue, src.folder],
          [i.workspaceValue, src.workspace],
        ])
      : undefined,
  };
}

/**
 * Reads `scriptSandbox.*` for a resource, layered (user, then workspace values that only tighten);
 * throws SettingsError naming the first bad setting and where it is set.
 */
export function readSettings(scope?: vscode.Uri, workspace?: string): SandboxSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION, scope);
  const folder = folderOf(scope);
  const trusted = vscode.workspace.isTrusted;
  const src = workspaceSources(folder);
  const inspected: Partial<Record<PolicySetting, InspectedSetting>> = {};
  for (const k of POLICY_SETTINGS) inspected[k] = inspectSetting(cfg, k, trusted, src);
  const ws = workspace ?? folder?.uri.fsPath ?? (scope?.scheme === 'file' ? path.dirname(scope.fsPath) : os.homedir());
  const layered = layerSettings(inspected, { workspace: ws, home: os.homedir() });

  // Interpreters from a workspace are kept: the interpreter is what the launcher execs after the sandbox
  // is applied, so it runs confined like the script; the tool root it adds to the readable set is what the
  // script's own shebang line (workspace content) can already name.
  const interp = Interpreters.safeParse(cfg.get('interpreters', {}));
  if (!interp.success) {
    const i = interp.error.issues[0]!;
    throw new SettingsError(`Setting "${SECTION}.interpreters${i.path.length ? `.${i.path.join('.')}` : ''}" is invalid: ${i.message}`);
  }
  const byLang = LanguageInterpreters.safeParse({ ...DEFAULT_LANGUAGE_INTERPRETERS, ...cfg.get<object>('languageInterpreters', {}) });
  if (!byLang.success) {
    const i = byLang.error.issues[0]!;
    throw new SettingsError(`Setting "${SECTION}.languageInterpreters${i.path.length ? `.${i.path.join('.')}` : ''}" is invalid: ${i.message}`);
  }
  const alerts = layerAlerts({
    threshold: inspectSetting(cfg, 'alerts.threshold', trusted, src),
    windowMinutes: inspectSetting(cfg, 'alerts.windowMinutes', trusted, src),
    notifications: inspectSetting(cfg, 'alerts.notifications', trusted, src),
  });
  const { threshold, windowMinutes } = alerts;
  if (!Number.isInteger(threshold) || threshold < 1) throw new SettingsError(`Setting "${SECTION}.alerts.threshold" must be a whole number ≥ 1, got ${threshold}`);
  if (!(windowMinutes > 0)) throw new SettingsError(`Setting "${SECTION}.alerts.windowMinutes" must be positive, got ${windowMinutes}`);
  return {
    mode: layered.mode,
    profile: layered.profile,
    layer: layered.layer,
    user: layered.user,
    origins: layered.origins,
    ignored: [...layered.ignored, ...alerts.ignored],
    interpreters: interp.data,
    languageInterpreters: byLang.data,
    alerts: { threshold, windowMs: windowMinutes * 60_000, criticalAtOnce: true },
    notify: alerts.notify,
  };
}

/** The nearest existing ancestor of `p` (or `p`), with symbolic links resolved. */
function realNearest(p: string): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return p;
      rest.push(path.basename(cur));
      cur = up;
    }
  }
}

export interface AuditPathChoice {
  /** Absolute path of the log; undefined when no safe one exists (the run is then not recorded). */
  path: string | undefined;
  ignored: IgnoredSetting[];
  notes: string[];
}

/**
 * The audit log for a workspace folder: `scriptSandbox.auditPath`, relative to the folder, or the default.
 * The host appends to it outside any sandbox, so a workspace's value must lie inside the workspace (else it
 * is ignored), and a path inside the workspace must not leave it through a symbolic link the repository
 * ships (else the run is not recorded).
 */
export function auditPathSetting(workspace: string, scope?: vscode.Uri): AuditPathChoice {
  const cfg = vscode.workspace.getConfiguration(SECTION, scope);
  const s = inspectSetting(cfg, 'auditPath', vscode.workspace.isTrusted, workspaceSources(folderOf(scope)));
  const ignored: IgnoredSetting[] = [];
  const notes: string[] = [];
  const userValue = typeof s.user?.value === 'string' ? s.user.value : '';
  let chosen = auditPathIn(workspace, userValue, DEFAULT_AUDIT_PATH);
  const wsValue = s.workspace && typeof s.workspace.value === 'string' ? s.workspace.value : '';
  if (wsValue.trim()) {
    const p = auditPathIn(workspace, wsValue, DEFAULT_AUDIT_PATH);
    if (isInside(workspace, p)) chosen = p;
    else ignored.push({ setting: `${SECTION}.auditPath`, source: s.workspace!.source, value: wsValue, looser: [`auditPath points outside the workspace (${p})`] });
  }
  if (isInside(workspace, chosen) && !isInside(realNearest(workspace), realNearest(chosen))) {
    notes.push(`audit log ${chosen} leads outside the workspace through a symbolic link (to ${realNearest(chosen)}): this run is not recorded`);
    return { path: undefined, ignored, notes };
  }
  return { path: chosen, ignored, notes };
}

/** The audit log file of a folder as the runs use it (for opening it), else where it would be by default. */
export function auditPathFor(workspace: string, scope?: vscode.Uri): string {
  return auditPathSetting(workspace, scope).path ?? path.resolve(workspace, DEFAULT_AUDIT_PATH);
}

/**
 * A mode change from the status bar goes to the user settings: a workspace value could only tighten it
 * anyway. When the workspace's own value is stricter, it stays in force, and the user is told.
 */
export async function setMode(mode: Mode): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(SECTION, folderOf()?.uri);
  await cfg.update('mode', mode, vscode.ConfigurationTarget.Global);
  let now: SandboxSettings;
  try {
    now = readSettings(folderOf()?.uri);
  } catch {
    return; // a bad setting elsewhere is reported when a run starts
  }
  if (now.mode !== mode && now.origins.mode.source.kind === 'workspace') {
    void vscode.window.showInformationMessage(
      `Script Sandbox: your mode is now ${mode}, but ${now.origins.mode.source.detail} sets scriptSandbox.mode to ${now.mode}, which is stricter, so runs here stay ${now.mode}.`,
    );
  }
}
