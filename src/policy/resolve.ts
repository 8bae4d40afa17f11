// resolve: layers of PolicyInput (defaults < user < workspace < run flags) → one ResolvedPolicy. Pure: the
// home directory and the workspace come in through ctx; nothing here reads the file system or the env.
import * as crypto from 'node:crypto';
import { SandboxError } from '../errors';
import { PolicyInput, Profile, ResolvedPolicy, describeZodError } from './schema';
import { DEFAULT_PROFILE, MODE_RANK, NETWORK_RANK, PROFILE_NAMES, PROFILE_RANK, SYSTEM_PATHS, presetFor } from './presets';
import { displayPath, escapeGlob, expandEntry, globNames, isAbsoluteFor, isAbsolutePath, isUnder, normalizeAbs, pathStyleOf, windowsPolicyPath, type PathStyle } from './paths';
import { parseAddressRule, validHostPattern } from './ip';
import { compileSecretPattern, protectedPaths } from './evaluate';
import { JsoncError, parseJsonc } from './jsonc';

export interface PolicyLayers {
  /** Built-in defaults (e.g. the extension's setting defaults). */
  defaults?: PolicyInput;
  /** The user's own: user settings, --policy FILE. */
  user?: PolicyInput;
  /** The workspace's .vscode/sandbox.json: may only tighten the user's policy unless approved. */
  workspace?: PolicyInput;
  /** Explicit flags from the user at the terminal: may do anything. */
  run?: PolicyInput;
}

export interface ResolveContext {
  /** Absolute workspace folder. */
  workspace: string;
  /** Absolute home directory, for `~`. */
  home: string;
  /** The user approved a workspace policy that loosens their own. */
  approvedLoosening?: boolean;
  /** The plan's path style; default: win32 when the workspace is a Windows absolute path, else posix. */
  pathStyle?: PathStyle;
}

export interface Resolution {
  policy: ResolvedPolicy;
  /** Human lines about how the policy came about (where the profile came from, unlocked protected paths …). */
  notes: string[];
}

type LayerName = keyof PolicyLayers;
const LAYER_ORDER: readonly LayerName[] = ['defaults', 'user', 'workspace', 'run'];
const LAYER_LABEL: Readonly<Record<LayerName, string>> = { defaults: 'defaults policy', user: 'user policy', workspace: 'workspace policy', run: 'run flags' };

// ---------------------------------------------------------------- validation

/** Validates one layer: unknown profile → PROFILE_UNKNOWN; schema, regex, address, host and path problems →
 *  POLICY_INVALID with one line per problem, each naming `source` and the field. */
export function validateLayer(raw: unknown, source: string): PolicyInput {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'profile' in raw) {
    const prof = (raw as { profile?: unknown }).profile;
    if (typeof prof === 'string' && !Profile.safeParse(prof).success) {
      throw new SandboxError('PROFILE_UNKNOWN', `${source}: profile: unknown profile "${prof}"; valid profiles: ${PROFILE_NAMES.join(', ')}`);
    }
  }
  const parsed = PolicyInput.safeParse(raw);
  if (!parsed.success) throw new SandboxError('POLICY_INVALID', describeZodError(parsed.error, source));
  const layer = parsed.data;
  const problems: string[] = [];
  const bad = (field: string, msg: string) => problems.push(`${source}: ${field}: ${msg}`);

  const globFields = [
    ['filesystem.allowRead', layer.filesystem?.allowRead],
    ['filesystem.denyRead', layer.filesystem?.denyRead],
    ['filesystem.allowWrite', layer.filesystem?.allowWrite],
    ['filesystem.denyWrite', layer.filesystem?.denyWrite],
    ['filesystem.unprotect', layer.filesystem?.unprotect],
    ['network.allowUnixSockets', layer.network?.allowUnixSockets],
  ] as const;
  for (const [field, list] of globFields) {
    list?.forEach((g, i) => {
      if (/^~[^/]/.test(g)) bad(`${field}[${i}]`, `"${g}": only ~/ (your home directory) is supported, not ~user`);
      if (g.includes('\0')) bad(`${field}[${i}]`, 'contains a NUL character');
    });
  }
  layer.env?.secretPatterns?.forEach((src, i) => {
    try {
      const re = compileSecretPattern(src);
      if (new RegExp(re.source, re.flags.replace('g', '')).test('')) bad(`env.secretPatterns[${i}]`, `/${src}/ matches empty text`);
    } catch (e) {
      bad(`env.secretPatterns[${i}]`, `invalid regular expression: ${(e as Error).message}`);
    }
  });
  layer.env?.allow?.forEach((n, i) => {
    if (n.includes('=') || n.includes('\0')) bad(`env.allow[${i}]`, `"${n}" is not a variable name or glob`);
  });
  for (const k of Object.keys(layer.env?.set ?? {})) {
    if (!k || k.includes('=') || k.includes('\0')) bad(`env.set.${k}`, `"${k}" is not a variable name`);
  }
  layer.network?.allowAddresses?.forEach((a, i) => {
    if (!parseAddressRule(a)) bad(`network.allowAddresses[${i}]`, `"${a}" is not CIDR[:PORT] (e.g. 10.0.0.0/8, 127.0.0.1/32:8080, [::1]:3000, [fd00::/8]:443)`);
  });
  for (const field of ['allowHosts', 'denyHosts'] as const) {
    layer.network?.[field]?.forEach((h, i) => {
      if (!validHostPattern(h)) bad(`network.${field}[${i}]`, `"${h}" is not a host name, *.domain wildcard or IP address`);
    });
  }
  if (problems.length) throw new SandboxError('POLICY_INVALID', problems.join('\n'));
  return layer;
}

// ---------------------------------------------------------------- building

interface Ctx {
  workspace: string;
  home: string;
  /** The run's path spelling (Windows: `C:/…` and UNC are absolute, `\\` is a separator). Default posix. */
  style?: PathStyle;
}

/** `~/x` → home, relative → workspace, absolute stays; normalised (no `..`, no trailing slash). */
export function expandGlob(g: string, ctx: Ctx): string {
  if (ctx.style === 'win32') {
    // Never joined to the workspace when absolute for Windows; a drive-relative `C:x` depends on a per-drive
    // current directory the run does not have, so it is refused rather than guessed.
    if (/^[A-Za-z]:(?![\\/])/.test(g)) throw new SandboxError('POLICY_INVALID', `"${g}" is relative to the current directory of drive ${g[0]}: write ${g.slice(0, 2)}\\${g.slice(2)} or a workspace-relative path`);
    const s = g.replace(/\\/g, '/');
    if (s === '~' || s.startsWith('~/')) return windowsPolicyPath(escapeGlob(ctx.home) + s.slice(1));
    if (isAbsoluteFor(g, 'win32')) return windowsPolicyPath(s);
    return windowsPolicyPath(`${escapeGlob(ctx.workspace)}/${s}`);
  }
  let abs: string;
  if (g === '~' || g.startsWith('~/')) abs = escapeGlob(ctx.home) + g.slice(1);
  else if (isAbsolutePath(g)) abs = g;
  else abs = `${escapeGlob(ctx.workspace)}/${g}`;
  return normalizeAbs(abs);
}

function union<T>(a: readonly T[], b: readonly T[] | undefined): T[] {
  const out = [...a];
  for (const x of b ?? []) if (!out.includes(x)) out.push(x);
  return out;
}

function baseFor(profile: Profile, mode: ResolvedPolicy['mode'], ctx: Ctx): ResolvedPolicy {
  const p = presetFor(profile);
  return {
    ...p,
    mode,
    workspace: ctx.workspace,
    home: ctx.home,
    filesystem: { ...p.filesystem, protected: p.filesystem.protected.map((e) => expandEntry(e, ctx.home, ctx.workspace, ctx.style ?? 'posix')) },
  };
}

function applyLayer(d: ResolvedPolicy, l: PolicyInput, ctx: Ctx): void {
  const ex = (xs: string[] | undefined) => xs?.map((g) => expandGlob(g, ctx));
  const f = l.filesystem;
  if (f) {
    if (f.readOnly !== undefined) d.filesystem.readOnly = f.readOnly;
    if (f.reportReads !== undefined) d.filesystem.reportReads = f.reportReads;
    d.filesystem.allowRead = union(d.filesystem.allowRead, ex(f.allowRead));
    d.filesystem.denyRead = union(d.filesystem.denyRead, ex(f.denyRead));
    d.filesystem.allowWrite = union(d.filesystem.allowWrite, ex(f.allowWrite));
    d.filesystem.denyWrite = union(d.filesystem.denyWrite, ex(f.denyWrite));
    d.filesystem.unprotect = union(d.filesystem.unprotect, f.unprotect?.map((u) => expandEntry(u, ctx.home, ctx.workspace, ctx.style ?? 'posix')));
  }
  if (l.limits) for (const [k, v] of Object.entries(l.limits)) if (v !== undefined) d.limits[k as keyof ResolvedPolicy['limits']] = v;
  if (l.env) {
    d.env.allow = union(d.env.allow, l.env.allow);
    d.env.set = { ...d.env.set, ...(l.env.set ?? {}) };
    d.env.secretPatterns = union(d.env.secretPatterns, l.env.secretPatterns);
  }
  const n = l.network;
  if (n) {
    if (n.preset !== undefined) d.network.preset = n.preset;
    d.network.allowHosts = union(d.network.allowHosts, n.allowHosts?.map((h) => h.trim()));
    d.network.denyHosts = union(d.network.denyHosts, n.denyHosts?.map((h) => h.trim()));
    d.network.allowAddresses = union(d.network.allowAddresses, n.allowAddresses?.map((a) => a.trim()));
    d.network.blockedPorts = union(d.network.blockedPorts, n.blockedPorts);
    d.network.allowUnixSockets = union(d.network.allowUnixSockets, ex(n.allowUnixSockets));
  }
  if (l.syscalls) {
    if (l.syscalls.allowPtrace !== undefined) d.syscalls.allowPtrace = l.syscalls.allowPtrace;
    d.syscalls.extraDeny = union(d.syscalls.extraDeny, l.syscalls.extraDeny);
  }
}

interface Built {
  policy: ResolvedPolicy;
  profileFrom: LayerName | null;
  modeFrom: LayerName | null;
}

function build(layers: Partial<Record<LayerName, PolicyInput>>, names: readonly LayerName[], ctx: Ctx): Built {
  let profile: Profile = DEFAULT_PROFILE;
  let mode: ResolvedPolicy['mode'] = 'enforce';
  let profileFrom: LayerName | null = null;
  let modeFrom: LayerName | null = null;
  for (const n of names) {
    const l = layers[n];
    if (l?.profile !== undefined) [profile, profileFrom] = [l.profile, n];
    if (l?.mode !== undefined) [mode, modeFrom] = [l.mode, n];
  }
  const d = baseFor(profile, mode, ctx);
  for (const n of names) {
    const l = layers[n];
    if (l) applyLayer(d, l, ctx);
  }
  // An unprotected path releases every protected entry at or below it.
  const un = d.filesystem.unprotect;
  if (un.length) d.filesystem.protected = d.filesystem.protected.filter((e) => !un.some((u) => isUnder(e, u)));
  return { policy: d, profileFrom, modeFrom };
}

// ---------------------------------------------------------------- loosening

const limitText = (v: number | null) => (v === null ? 'unlimited' : String(v));

/** Every field where `after` is looser than `before`, named: "limits.memoryMiB (1024 → 4096)". */
export function looserFields(before: ResolvedPolicy, after: ResolvedPolicy): string[] {
  const out: string[] = [];
  if (PROFILE_RANK[after.profile] > PROFILE_RANK[before.profile]) out.push(`profile (${before.profile} → ${after.profile})`);
  if (MODE_RANK[after.mode] > MODE_RANK[before.mode]) out.push(`mode (${before.mode} → ${after.mode})`);
  const bf = before.filesystem;
  const af = after.filesystem;
  if (bf.readOnly && !af.readOnly) out.push('filesystem.readOnly (true → false)');
  if (!bf.readEverywhere && af.readEverywhere) out.push('filesystem.readEverywhere (false → true)');
  if (!bf.writeOutsideSystem && af.writeOutsideSystem) out.push('filesystem.writeOutsideSystem (false → true)');
  const added = (field: string, b: readonly (string | number)[], a: readonly (string | number)[]) => {
    const extra = a.filter((x) => !b.includes(x));
    if (extra.length) out.push(`${field} (+ ${extra.join(', ')})`);
  };
  const removed = (field: string, b: readonly (string | number)[], a: readonly (string | number)[]) => {
    const gone = b.filter((x) => !a.includes(x));
    if (gone.length) out.push(`${field} (- ${gone.join(', ')})`);
  };
  added('filesystem.allowRead', bf.allowRead, af.allowRead);
  added('filesystem.allowWrite', bf.allowWrite, af.allowWrite);
  removed('filesystem.denyRead', bf.denyRead, af.denyRead);
  removed('filesystem.denyWrite', bf.denyWrite, af.denyWrite);
  removed('filesystem.protected', bf.protected, af.protected);
  added('filesystem.unprotect', bf.unprotect, af.unprotect);
  for (const k of Object.keys(before.limits) as (keyof ResolvedPolicy['limits'])[]) {
    const b = before.limits[k];
    const a = after.limits[k];
    if (b !== null && (a === null || a > b)) out.push(`limits.${k} (${limitText(b)} → ${limitText(a)})`);
  }
  added('env.allow', before.env.allow, after.env.allow);
  removed('env.secretPatterns', before.env.secretPatterns, after.env.secretPatterns);
  if (NETWORK_RANK[after.network.preset] > NETWORK_RANK[before.network.preset]) out.push(`network.preset (${before.network.preset} → ${after.network.preset})`);
  added('network.allowHosts', before.network.allowHosts, after.network.allowHosts);
  added('network.allowAddresses', before.network.allowAddresses, after.network.allowAddresses);
  added('network.allowUnixSockets', before.network.allowUnixSockets, after.network.allowUnixSockets);
  removed('network.denyHosts', before.network.denyHosts, after.network.denyHosts);
  removed('network.blockedPorts', before.network.blockedPorts, after.network.blockedPorts);
  if (!before.syscalls.allowPtrace && after.syscalls.allowPtrace) out.push('syscalls.allowPtrace (false → true)');
  removed('syscalls.extraDeny', before.syscalls.extraDeny, after.syscalls.extraDeny);
  return out;
}

// ---------------------------------------------------------------- resolve

function checkCtxPath(what: string, p: string, style: PathStyle): string {
  // On Windows the policy model works on the same path with `/` separators and an upper-case drive letter
  // (`Z:\\tmp\\ws` → `Z:/tmp/ws`), so its prefix tests and globs apply unchanged.
  // A root-relative `/x` stays as it is (the policy's own system paths are spelled so).
  if (typeof p === 'string' && (style === 'win32' || pathStyleOf(p) === 'win32') && isAbsoluteFor(p, 'win32') && !/^[\\/](?![\\/])/.test(p)) return windowsPolicyPath(p);
  if (typeof p !== 'string' || !isAbsolutePath(p)) throw new SandboxError('POLICY_INVALID', `${what} must be an absolute path, got "${p}"`);
  return normalizeAbs(p);
}

/**
 * Resolves the layers (defaults < user < workspace < run flags) into the policy for one run. The workspace
 * layer may only tighten what defaults + user give, unless ctx.approvedLoosening: otherwise a loosening
 * throws POLICY_LOOSENING naming every loosened field. Lists are unions across layers; scalars are
 * overridden by later layers; the profile (from the last layer that names one, else moderate) is the base.
 */
export function resolvePolicy(layers: PolicyLayers, ctx: ResolveContext): Resolution {
  // The run's path style comes from its workspace as given (Node for Windows gives `C:\\…`), or the caller's plan.
  const style = ctx.pathStyle ?? (typeof ctx.workspace === 'string' ? pathStyleOf(ctx.workspace) : 'posix');
  const c: Ctx = { workspace: checkCtxPath('workspace', ctx.workspace, style), home: checkCtxPath('home directory', ctx.home, style), style };
  const valid: Partial<Record<LayerName, PolicyInput>> = {};
  for (const n of LAYER_ORDER) {
    const raw = layers[n];
    if (raw !== undefined && raw !== null) valid[n] = validateLayer(raw, LAYER_LABEL[n]);
  }
  const notes: string[] = [];

  // Unprotecting is the user's own decision: a workspace file (which comes with the code it protects against)
  // may not make it, not even with an approved loosening.
  const wsUnprotect = valid.workspace?.filesystem?.unprotect ?? [];
  if (wsUnprotect.length) {
    throw new SandboxError(
      'POLICY_LOOSENING',
      `workspace policy: filesystem.unprotect (${wsUnprotect.join(', ')}): only your own settings, --policy FILE or run flags may unprotect a path; remove it from .vscode/sandbox.json`,
    );
  }

  if (valid.workspace) {
    const before = build(valid, ['defaults', 'user'], c).policy;
    const after = build(valid, ['defaults', 'user', 'workspace'], c).policy;
    const looser = looserFields(before, after);
    if (looser.length && !ctx.approvedLoosening) {
      throw new SandboxError(
        'POLICY_LOOSENING',
        `workspace policy would loosen your policy: ${looser.join('; ')}. A workspace policy may only tighten; approve the loosening or remove these fields from .vscode/sandbox.json`,
      );
    }
    if (looser.length) notes.push(`workspace policy loosens your policy (approved): ${looser.join('; ')}`);
    const set = Object.keys(valid.workspace.env?.set ?? {});
    if (set.length) notes.push(`workspace policy sets environment variables: ${set.join(', ')}`);
    const pats = valid.workspace.env?.secretPatterns ?? [];
    if (pats.length) notes.push(`workspace policy adds secret patterns (masked in output and the audit log): ${pats.join(', ')}`);
  }

  const { policy, profileFrom, modeFrom } = build(valid, LAYER_ORDER, c);
  notes.unshift(
    `profile ${policy.profile} (${profileFrom ? LAYER_LABEL[profileFrom] : 'default'}), mode ${policy.mode} (${modeFrom ? LAYER_LABEL[modeFrom] : 'default'})`,
  );
  if (policy.mode === 'disabled') notes.push('mode disabled: the script runs without restrictions (the run is still recorded)');
  for (const e of protectedPaths(policy)) {
    for (const [field, list, access] of [
      ['filesystem.allowRead', policy.filesystem.allowRead, 'read'],
      ['filesystem.allowWrite', policy.filesystem.allowWrite, 'write'],
    ] as const) {
      if ((access === 'read' ? e.read : e.write)) continue;
      const g = list.find((x) => globNames(x, e.abs));
      if (g) notes.push(`${field} ${displayPath(g, policy.home)} names the protected ${displayPath(e.abs, policy.home)} (${e.reason}): ${access === 'read' ? 'reading' : 'writing'} it is allowed`);
    }
  }
  if (policy.filesystem.unprotect.length) {
    notes.push(`filesystem.unprotect ${policy.filesystem.unprotect.map((u) => displayPath(u, policy.home)).join(', ')}: protected paths there are released (your choice)`);
  }
  for (const g of policy.filesystem.allowWrite) {
    const sys = SYSTEM_PATHS.find((s) => globNames(g, s));
    if (sys) notes.push(`filesystem.allowWrite ${g} names the system path ${sys}: writing there is allowed`);
  }

  const checked = ResolvedPolicy.safeParse(policy);
  if (!checked.success) throw new SandboxError('POLICY_INVALID', describeZodError(checked.error, 'resolved policy'));
  return { policy, notes };
}

// ---------------------------------------------------------------- files and digests

/** Parses a policy file: JSON with // and /* *\/ comments and trailing commas. A syntax error names the file,
 *  line and column; a schema error the file and the field. */
export function parsePolicyFile(text: string, sourceName: string): PolicyInput {
  return validateLayer(parsePolicyJson(text, sourceName), sourceName);
}

/** The JSON-with-comments value of a policy file; a syntax error is POLICY_INVALID naming the file, line and column. */
export function parsePolicyJson(text: string, sourceName: string): unknown {
  try {
    return parseJsonc(text);
  } catch (e) {
    if (e instanceof JsoncError) throw new SandboxError('POLICY_INVALID', `${sourceName}:${e.line}:${e.column}: ${e.message}`);
    throw e;
  }
}

/** JSON with object keys sorted at every depth; arrays keep their order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** SHA-256 (hex) of the policy's canonical JSON: the same policy gives the same digest whatever its key order. */
export function policyDigest(p: ResolvedPolicy): string {
  return crypto.createHash('sha256').update(canonicalJson(p)).digest('hex');
}
