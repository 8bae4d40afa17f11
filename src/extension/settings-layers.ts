// Settings in two layers: the user's (user settings over the extension's defaults) and the workspace's
// (.vscode/settings.json, a .code-workspace file, language-specific values, a task's fields). A workspace
// value may only tighten what the user set, exactly like .vscode/sandbox.json: each one is tried as the
// workspace layer of resolvePolicy and judged by looserFields, the same code the host uses for the policy
// file. A loosening value is left out and reported. Pure (no vscode), so the orders are unit-tested.
import * as path from 'node:path';
import { SandboxError } from '../errors';
import { looserFields, resolvePolicy, type PolicyLayers } from '../policy/resolve';
import { Mode, PolicyInput, Profile } from '../policy/schema';

export const SECTION = 'scriptSandbox';

/** The settings that are policy, in the order a workspace's values are tried: the profile first, since it
 *  sets the base every other field is compared on. */
export const POLICY_SETTINGS = [
  'profile',
  'mode',
  'filesystem.readOnly',
  'filesystem.reportReads',
  'filesystem.allowRead',
  'filesystem.denyRead',
  'filesystem.allowWrite',
  'filesystem.denyWrite',
  'filesystem.unprotect',
  'network.preset',
  'network.allowHosts',
  'network.denyHosts',
  'network.allowAddresses',
  'limits.cpuSeconds',
  'limits.memoryMiB',
  'limits.maxProcesses',
  'limits.fileSizeMiB',
  'limits.openFiles',
  'limits.timeoutSeconds',
  'env.allow',
  'env.secretPatterns',
] as const;
export type PolicySetting = (typeof POLICY_SETTINGS)[number];

/** Where a value came from: `label` is short (status bar, header), `detail` names the file or scope. */
export interface Source {
  kind: 'default' | 'user' | 'workspace' | 'task' | 'restricted';
  label: string;
  detail: string;
}

export const DEFAULT_SOURCE: Readonly<Source> = Object.freeze({ kind: 'default', label: 'default', detail: 'default' });
export const USER_SOURCE: Readonly<Source> = Object.freeze({ kind: 'user', label: 'user', detail: 'user settings' });

/** One setting as `inspect()` gives it, reduced to the user's value (or the default) and the workspace's. */
export interface InspectedSetting {
  user?: { value: unknown; source: Source };
  workspace?: { value: unknown; source: Source };
}

/** A workspace value that was left out because it would loosen the user's policy. */
export interface IgnoredSetting {
  /** Full setting name ("scriptSandbox.mode") or task field ("task \"build\": mode"). */
  setting: string;
  source: Source;
  value: unknown;
  /** What it would loosen, as looserFields names it ("mode (enforce → disabled)"), or why it was ignored. */
  looser: string[];
}

export interface Origin {
  value: string;
  source: Source;
  /** A workspace value that made it stricter than the user's. */
  tightened: boolean;
}

export interface LayeredSettings {
  /** The user's own layer: user settings over the defaults. */
  user: PolicyInput;
  /** The user's layer tightened by every workspace value that only tightens it. */
  layer: PolicyInput;
  mode: Mode;
  profile: Profile;
  origins: { mode: Origin; profile: Origin };
  ignored: IgnoredSetting[];
}

export interface LayerContext {
  /** Absolute workspace folder and home directory, as resolvePolicy needs them for paths. */
  workspace: string;
  home: string;
}

/** A setting with a bad value, named so the user can find it. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const isList = (k: PolicySetting) => /allow|deny|unprotect|secretPatterns/i.test(k);

/** Unset (null, '', []) values leave the profile's defaults alone. */
function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
}

/** The raw policy layer of some settings' values: "limits.memoryMiB" → { limits: { memoryMiB } }. */
export function rawLayer(values: Partial<Record<PolicySetting, unknown>>): Record<string, unknown> {
  const out: Record<string, Record<string, unknown> | unknown> = {};
  for (const k of POLICY_SETTINGS) {
    const v = values[k];
    if (!isSet(v)) continue;
    const [a, b] = k.split('.') as [string, string | undefined];
    if (b === undefined) out[a] = v;
    else ((out[a] ??= {}) as Record<string, unknown>)[b] = v;
  }
  return out;
}

function parseLayer(values: Partial<Record<PolicySetting, unknown>>, from: (key: string) => string): PolicyInput {
  const parsed = PolicyInput.safeParse(rawLayer(values));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const key = i.path.join('.');
    throw new SettingsError(`Setting "${SECTION}.${key}"${from(key)} is invalid: ${i.message}`);
  }
  return parsed.data;
}

/** What `ws` as a workspace layer over `layers` would loosen, by the host's own rules. */
function looser(layers: PolicyLayers, field: 'workspace' | 'run', ws: PolicyInput, ctx: LayerContext): string[] {
  const rc = { workspace: ctx.workspace, home: ctx.home, approvedLoosening: true };
  const before = resolvePolicy(layers, rc).policy;
  const after = resolvePolicy({ ...layers, [field]: ws }, rc).policy;
  return looserFields(before, after);
}

function asSettingsError<T>(f: () => T, what: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SandboxError) throw new SettingsError(`${what}: ${e.message}`);
    throw e;
  }
}

function union(a: unknown, b: unknown): unknown {
  const out = Array.isArray(a) ? [...(a as unknown[])] : [];
  for (const x of Array.isArray(b) ? (b as unknown[]) : []) if (!out.includes(x)) out.push(x);
  return out;
}

/**
 * Layers the settings: the user's values, then each workspace value that does not loosen them (tried one
 * by one, profile first, each on top of those already taken). Lists add to the user's (a workspace can add
 * denies, never allows); scalars replace the user's only when stricter. Throws SettingsError naming a bad
 * setting and where it is set.
 */
export function layerSettings(settings: Partial<Record<PolicySetting, InspectedSetting>>, ctx: LayerContext): LayeredSettings {
  const userValues: Partial<Record<PolicySetting, unknown>> = {};
  for (const k of POLICY_SETTINGS) userValues[k] = settings[k]?.user?.value;
  const userFrom = (key: string) => ` (${settings[key as PolicySetting]?.user?.source.detail ?? 'default'})`;
  const user = parseLayer(userValues, userFrom);

  const taken: Partial<Record<PolicySetting, unknown>> = {};
  const ignored: IgnoredSetting[] = [];
  for (const k of POLICY_SETTINGS) {
    const ws = settings[k]?.workspace;
    if (!ws || !isSet(ws.value)) continue;
    // Unprotecting is the user's call alone: a workspace's settings ship with the code they would release.
    if (k === 'filesystem.unprotect') {
      ignored.push({ setting: `${SECTION}.${k}`, source: ws.source, value: ws.value, looser: ['filesystem.unprotect (only your own settings may unprotect a path)'] });
      continue;
    }
    const candidate = parseLayer({ ...taken, [k]: ws.value }, () => ` (${ws.source.detail})`);
    const loosens = asSettingsError(() => looser({ user }, 'workspace', candidate, ctx), `Setting "${SECTION}.${k}" (${ws.source.detail})`);
    if (loosens.length) ignored.push({ setting: `${SECTION}.${k}`, source: ws.source, value: ws.value, looser: loosens });
    else taken[k] = ws.value;
  }

  const effective: Partial<Record<PolicySetting, unknown>> = { ...userValues };
  for (const k of Object.keys(taken) as PolicySetting[]) effective[k] = isList(k) ? union(userValues[k], taken[k]) : taken[k];
  const layer = parseLayer(effective, () => '');
  const mode = layer.mode ?? 'enforce';
  const profile = layer.profile ?? 'moderate';
  const origin = (k: 'mode' | 'profile', value: string): Origin => {
    const s = settings[k];
    if (k in taken) return { value, source: s!.workspace!.source, tightened: value !== (user[k] ?? (k === 'mode' ? 'enforce' : 'moderate')) };
    return { value, source: s?.user?.source ?? DEFAULT_SOURCE, tightened: false };
  };
  return { user, layer, mode, profile, origins: { mode: origin('mode', mode), profile: origin('profile', profile) }, ignored };
}

/**
 * A task's `mode`/`profile` (workspace input too): each is kept only when it does not loosen the policy
 * otherwise in force (the settings' layer and the workspace's .vscode/sandbox.json), judged the same way.
 */
export function layerTask(
  fields: { mode?: Mode; profile?: Profile },
  source: Source,
  layers: { user: PolicyInput; workspace?: PolicyInput },
  ctx: LayerContext,
): { run: PolicyInput; ignored: IgnoredSetting[] } {
  const run: PolicyInput = {};
  const ignored: IgnoredSetting[] = [];
  for (const k of ['profile', 'mode'] as const) {
    const v = fields[k];
    if (v === undefined) continue;
    const candidate = { ...run, [k]: v };
    const loosens = asSettingsError(() => looser({ ...layers, run }, 'run', candidate, ctx), `${source.detail}: ${k}`);
    if (loosens.length) ignored.push({ setting: `${source.detail}: ${k}`, source, value: v, looser: loosens });
    else Object.assign(run, { [k]: v });
  }
  return { run, ignored };
}

/** "enforce (user)", "strict (workspace, tightened)". */
export function describeOrigin(o: Origin): string {
  return `${o.value} (${o.source.label}${o.tightened ? ', tightened' : ''})`;
}

/** One line for the run's terminal and the warning: the setting, its value, where it came from, and why. */
export function describeIgnored(i: IgnoredSetting): string {
  return `ignored ${i.setting} = ${JSON.stringify(i.value)} from ${i.source.detail}: a workspace may only tighten your settings, and this would loosen ${i.looser.join('; ')}`;
}

/**
 * The audit log path a setting names, resolved against the workspace (`${workspaceFolder}` expanded). A
 * workspace's own value must stay inside the workspace: the host appends to it outside any sandbox.
 */
export function auditPathIn(workspace: string, configured: string, fallback: string): string {
  const p = (configured.trim() || fallback).replace(/\$\{workspaceFolder\}/g, workspace);
  return path.resolve(workspace, p);
}

/** Whether `p` (absolute, normalised) is `dir` or below it. */
export function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export type AlertNotify = 'all' | 'critical' | 'none';
const NOTIFY_RANK: Readonly<Record<AlertNotify, number>> = Object.freeze({ all: 0, critical: 1, none: 2 });

/**
 * Alert settings may only be made louder by a workspace: a lower threshold, a longer window, more
 * notifications. Anything else keeps the user's value and is reported like a loosening.
 */
export function layerAlerts(
  a: { threshold: InspectedSetting; windowMinutes: InspectedSetting; notifications: InspectedSetting },
): { threshold: number; windowMinutes: number; notify: AlertNotify; ignored: IgnoredSetting[] } {
  const ignored: IgnoredSetting[] = [];
  const pick = <T>(key: string, s: InspectedSetting, dflt: T, stricter: (ws: T, user: T) => boolean): T => {
    const user = (s.user?.value ?? dflt) as T;
    const ws = s.workspace;
    if (!ws || ws.value === undefined || ws.value === null) return user;
    if (stricter(ws.value as T, user) || ws.value === user) return ws.value as T;
    ignored.push({ setting: `${SECTION}.alerts.${key}`, source: ws.source, value: ws.value, looser: [`alerts.${key} (${JSON.stringify(user)} → ${JSON.stringify(ws.value)})`] });
    return user;
  };
  return {
    threshold: pick<number>('threshold', a.threshold, 3, (w, u) => typeof w === 'number' && w < u),
    windowMinutes: pick<number>('windowMinutes', a.windowMinutes, 5, (w, u) => typeof w === 'number' && w > u),
    notify: pick<AlertNotify>('notifications', a.notifications, 'all', (w, u) => w in NOTIFY_RANK && NOTIFY_RANK[w] < NOTIFY_RANK[u]),
    ignored,
  };
}
