// package.json's `contributes.configuration`, generated: types, integer bounds and enum values of the
// policy settings come from the one zod schema (settings-schema.ts), the git-script shape from its zod
// schema, the interpreter defaults from runnable-rules.ts; the words (markdown descriptions, one description
// per enum value) and the scopes are here. `node build.mjs` writes the result into package.json and
// test/unit/extension/settings-schema.test.ts fails when package.json differs. Pure: no vscode.
//
// Scopes (multi-root): every policy setting is `resource`, so a folder's .vscode/settings.json applies to
// the scripts in that folder; settings-layers.ts still lets a workspace or folder value only tighten the
// user's (mode only rises, profile only tightens). `filesystem.unprotect` is `application`: only the user
// may release a protected path. Alerts are per window (one monitor).
import { z } from 'zod';
import { GitScriptSpecSchema } from '../policy/git-script-spec';
import { DEFAULT_LANGUAGE_INTERPRETERS } from './runnable-rules';
import { POLICY_SETTINGS, SECTION, type PolicySetting } from './settings-layers';
import { settingSchema } from './settings-schema';

type Scope = 'application' | 'window' | 'resource';
type Json = Record<string, unknown>;

interface PolicyMeta {
  markdownDescription: string;
  default: unknown;
  /** One description per value of the zod enum (a new value without one fails the build). */
  enumDescriptions?: Record<string, string>;
  scope?: Scope;
  order?: number;
}

const UNSET = 'Unset: the profile decides.';

const POLICY: Record<PolicySetting, PolicyMeta> = {
  mode: {
    default: 'enforce',
    order: 0,
    enumDescriptions: {
      disabled: 'Run scripts plainly; the run is still recorded in the audit log.',
      warn: 'Apply the policy as a monitor: report every would-be block as a warning, block nothing.',
      enforce: 'Apply the policy with kernel mechanisms (seccomp, Landlock, limits); fail closed when one is missing.',
    },
    markdownDescription:
      "How the sandbox treats a run. Takes effect on the next run; the status bar item switches it (in your user settings). A workspace's or folder's value may only raise it (`disabled` < `warn` < `enforce`); a lower one is ignored with a warning.",
  },
  profile: {
    default: 'moderate',
    order: 1,
    enumDescriptions: {
      strict: 'Workspace only: read and write the workspace, no network.',
      moderate: 'Read most of the system, write the workspace; public network except blocked categories.',
      permissive: 'Write anywhere outside system and protected paths.',
    },
    markdownDescription:
      "Base policy profile. Untrusted workspaces (Restricted Mode) always use `strict`. A workspace's or folder's value may only tighten yours (`permissive` < `moderate` < `strict`), like every `scriptSandbox.*` setting a workspace sets.",
  },
  'filesystem.readOnly': { default: null, markdownDescription: `When \`true\`, the script may not write anywhere, not even in the workspace (its temp dir excepted). ${UNSET}` },
  'filesystem.reportReads': {
    default: null,
    markdownDescription: 'Enforce mode: also show blocked reads (protected or denied paths) as violations. Every read-only open then passes through the supervisor, which slows open-heavy scripts. Warn mode always reports them.',
  },
  'filesystem.allowRead': { default: [], markdownDescription: 'Paths (globs, relative to the workspace or absolute, `~` is home) the script may read in addition to the profile.' },
  'filesystem.denyRead': { default: [], markdownDescription: 'Paths the script may never read.' },
  'filesystem.unprotect': {
    default: [],
    scope: 'application',
    markdownDescription:
      'Protected paths you release (literal, relative to the workspace, absolute or `~/…`), with everything protected inside them: e.g. `.git` so `npx husky init` can set `core.hooksPath`. Only your user settings count; a workspace cannot unprotect.',
  },
  'filesystem.allowWrite': { default: [], markdownDescription: 'Paths the script may write in addition to the workspace.' },
  'filesystem.denyWrite': { default: [], markdownDescription: 'Paths the script may never write, even inside the workspace.' },
  'network.preset': {
    default: null,
    enumDescriptions: {
      none: 'No IP sockets.',
      strict: 'Only allowed hosts.',
      'api-only': 'Allowed hosts on port 443 only.',
      default: 'Public internet except blocked categories (cloud metadata, private ranges, dangerous ports).',
    },
    markdownDescription: "Network preset. Unset: the profile's.",
  },
  'network.allowHosts': { default: [], markdownDescription: 'Host names (wildcards like `*.example.com`) the script may connect to.' },
  'network.denyHosts': { default: [], markdownDescription: 'Host names never allowed.' },
  'network.allowAddresses': { default: [], markdownDescription: '`CIDR[:PORT]` ranges the script may connect to, e.g. `127.0.0.1/32:8080`.' },
  'limits.cpuSeconds': { default: null, markdownDescription: "CPU time limit, seconds. Unset: the profile's." },
  'limits.memoryMiB': { default: null, markdownDescription: 'Memory of the whole process tree, MiB.' },
  'limits.maxProcesses': { default: null, markdownDescription: 'Processes in the tree at once.' },
  'limits.fileSizeMiB': { default: null, markdownDescription: 'Largest file the script may write, MiB.' },
  'limits.openFiles': { default: null, markdownDescription: 'Open file descriptors per process.' },
  'limits.timeoutSeconds': { default: null, markdownDescription: 'Wall-clock limit for a run, seconds; the whole tree is killed when it passes.' },
  'env.allow': { default: null, markdownDescription: "Environment variable names (globs like `LC_*`) passed to the script; all others are removed. Unset: the profile's list." },
  'env.secretPatterns': { default: [], markdownDescription: 'Regular expressions; matching values are masked in the terminal, the audit log and diagnostics.' },
};

/** A policy setting: its schema from zod, its words and scope from POLICY. */
function policySetting(key: PolicySetting): Json {
  const m = POLICY[key];
  const s = settingSchema(key, m.default === null);
  const out: Json = { type: s.type };
  if (s.items) out.items = s.items;
  if (s.enum) {
    out.enum = s.enum;
    out.enumDescriptions = s.enum.map((v) => {
      if (v === null) return "The profile's preset.";
      const d = m.enumDescriptions?.[v];
      if (!d) throw new Error(`${SECTION}.${key}: no description for the value "${v}" (settings-contribution.ts)`);
      return d;
    });
  }
  for (const k of ['minimum', 'exclusiveMinimum', 'maximum'] as const) if (s[k] !== undefined) out[k] = s[k];
  out.default = m.default;
  out.scope = m.scope ?? 'resource';
  if (m.order !== undefined) out.order = m.order;
  out.markdownDescription = m.markdownDescription;
  return out;
}

/** The git-script definition, from its zod schema; its `policy` stays a plain object (the host validates it). */
function gitScriptItem(): Json {
  const j = z.toJSONSchema(GitScriptSpecSchema, { io: 'input', target: 'draft-7' }) as Json & { properties: Record<string, Json> };
  const { $schema: _s, description: _d, ...rest } = j;
  return { ...rest, properties: { ...j.properties, policy: { type: 'object', description: 'Policy for this git-script; may only tighten yours.' } } };
}

const interpreterList = { type: 'array', items: { type: 'string' }, minItems: 1 };

/** The settings that are not policy, in package.json's order around the policy ones. */
function extensionSettings(): { before: Record<string, Json>; after: Record<string, Json> } {
  return {
    before: {
      gitScripts: {
        type: 'array',
        items: gitScriptItem(),
        default: [],
        scope: 'resource',
        markdownDescription: 'Scripts that live in git repositories, run with **Run Git Script in Sandbox**: each is fetched in the sandbox at a pinned ref, approved per commit, and run read-only from its checkout.',
      },
    },
    after: {
      auditPath: {
        type: 'string',
        default: '',
        scope: 'resource',
        markdownDescription: 'Audit log file (JSON Lines). Relative to the workspace folder; `${workspaceFolder}` is expanded. Empty: `.sandbox/audit.jsonl` in the workspace.',
      },
      'alerts.threshold': { type: 'integer', minimum: 1, default: 3, scope: 'window', markdownDescription: 'Violations within the alert window that raise an alert.' },
      'alerts.windowMinutes': { type: 'number', exclusiveMinimum: 0, default: 5, scope: 'window', markdownDescription: 'Length of the alert window, minutes.' },
      'alerts.notifications': {
        type: 'string',
        enum: ['all', 'critical', 'none'],
        enumDescriptions: ['Notify on every alert.', 'Notify only on critical violations (cloud metadata, ptrace, protected paths).', 'No notifications; alerts still show in the Sandbox Monitor.'],
        default: 'all',
        scope: 'window',
        markdownDescription: 'Which alerts show as notifications.',
      },
      languageInterpreters: {
        type: 'object',
        additionalProperties: interpreterList,
        default: DEFAULT_LANGUAGE_INTERPRETERS,
        scope: 'resource',
        markdownDescription:
          'Interpreter by VS Code language id, for a script without a `#!` line (a script that names its interpreter gets that one). `scriptSandbox.interpreters` (by file extension) wins over this. TypeScript runs with `node`, which needs Node 23.6 or later (or `--experimental-strip-types` on 22.6+).',
      },
      interpreters: {
        type: 'object',
        additionalProperties: interpreterList,
        default: {},
        scope: 'resource',
        markdownDescription: 'Interpreter by file extension, overriding the shebang and the built-in table, e.g. `{".py": ["python3", "-u"]}`.',
      },
    },
  };
}

/** package.json's package order: mode and profile first, then the policy settings as the README lists them. */
const PACKAGE_ORDER: readonly PolicySetting[] = ['mode', 'profile', ...POLICY_SETTINGS.filter((k) => k !== 'mode' && k !== 'profile' && k !== 'filesystem.allowWrite' && k !== 'filesystem.denyWrite' && k !== 'filesystem.unprotect')].flatMap((k) =>
  k === 'filesystem.denyRead' ? ['filesystem.denyRead', 'filesystem.unprotect', 'filesystem.allowWrite', 'filesystem.denyWrite'] : [k],
) as PolicySetting[];

/** The whole `contributes.configuration` object. */
export function settingsContribution(): { title: string; properties: Record<string, Json> } {
  const { before, after } = extensionSettings();
  const properties: Record<string, Json> = {};
  const put = (k: string, v: Json) => (properties[`${SECTION}.${k}`] = v);
  for (const [k, v] of Object.entries(before)) put(k, v);
  for (const k of PACKAGE_ORDER) put(k, policySetting(k));
  for (const [k, v] of Object.entries(after)) put(k, v);
  return { title: 'Script Sandbox', properties };
}
