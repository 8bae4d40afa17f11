// Pure decisions on a resolved policy, for explanations, diagnostics and the supervisor. The kernel
// mechanisms (Landlock, seccomp) are the boundary; these functions say what the policy means.
import type { ResolvedPolicy } from './schema';
import {
  DEVICE_READ_ONLY,
  DEVICE_READ_WRITE,
  DEVICE_ROOT,
  PORT_NAMES,
  SHARED_TEMP_PATHS,
  sharedTempWritable,
} from './presets';
import { absoluteFor, displayPath, globCovers, globNames, isAbsolutePath, isUnder, normalizeAbs, pathStyleOf } from './paths';
import type { ProtectedPath } from './fs-model-types';
import { protectedPaths } from './protected-set';
import type { GlobMatcher } from './glob-match';
import { denyingGlob, protectionBlocks, systemPathOf } from './protection-rules';
import {
  METADATA_HOSTS,
  classifyIp,
  formatIp,
  hostMatches,
  normalizeHost,
  parseAddressRule,
  parseIp,
  ruleCovers,
  ruleNamesExactly,
  unwrapIp,
  type AddressRule,
  type Classification,
} from './ip';

export interface Decision {
  allowed: boolean;
  /** The rule that decided: 'protected:~/.ssh', 'denyWrite:/abs/glob', 'workspace', 'system-path:/usr',
   *  'profile:strict(no-read-outside)', 'cloud-metadata:169.254.169.254', 'blocked-port:22' … */
  rule: string;
  /** One human line. */
  reason: string;
}

const allow = (rule: string, reason: string): Decision => ({ allowed: true, rule, reason });
const deny = (rule: string, reason: string): Decision => ({ allowed: false, rule, reason });

// ---------------------------------------------------------------- files

export type { ProtectedPath } from './fs-model-types';
export { protectedPaths } from './protected-set';
export { systemPathOf } from './protection-rules';

/** Device paths that are the process's own descriptors (writing to them writes to stdout & co.). */
const FD_ALIASES = ['/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr'];

export interface PathExtras {
  /** The run's private temp dir: always writable (unless denied or protected). */
  tmpDir?: string;
  /** The run's protected set (FsModel.protected: with what git metadata adds); default: the policy's own. */
  protected?: readonly ProtectedPath[];
  /** Compiled globs of a caller that decides many paths against this policy (the supervisor). */
  globs?: GlobMatcher;
}

/**
 * Whether `access` to `absPath` is allowed, and by which rule. Order: explicit deny lists > protected paths
 * (unless an allow entry names them explicitly) > read-only > explicit allow lists > workspace > system paths
 * (never writable) > shared temp dirs > device nodes > profile defaults. `..` and doubled slashes in the
 * input are normalised; a relative path is taken relative to the workspace.
 */
export function decidePath(policy: ResolvedPolicy, absPath: string, access: 'read' | 'write', extras: PathExtras = {}): Decision {
  const fsp = policy.filesystem;
  const ws = policy.workspace;
  const p = pathStyleOf(ws) === 'win32' ? absoluteFor(absPath, 'win32', policy.home, ws) : normalizeAbs(isAbsolutePath(absPath) ? absPath : `${ws}/${absPath}`);
  const show = (x: string) => displayPath(x, policy.home);
  const verb = access === 'read' ? 'reading' : 'writing';

  // 1. Explicit deny lists. Writing is blocked by denyRead too: the kernel carves such a path out of every
  // grant, and a hidden path is hidden for writing as well.
  const denied = denyingGlob(policy, p, access, extras.globs);
  if (denied) {
    const { list, glob } = denied;
    const cross = list === 'denyRead' && access === 'write' ? ' (a path that may not be read may not be written either)' : '';
    const linked = fsp.linkedGlobs?.[glob];
    const via = linked ? ` (${show(linked.glob)} followed through the link ${show(linked.link)})` : '';
    return deny(`${list}:${glob}`, `${verb} ${show(p)} is denied by ${list} ${show(glob)}${via}${cross}`);
  }

  // 2. Protected paths, unless an allow entry of the same access names them (or something inside) and covers p.
  const unlockName = access === 'read' ? 'allowRead' : 'allowWrite';
  let unlockedBy: { glob: string; entry: ProtectedPath } | null = null;
  for (const b of protectionBlocks(policy, extras.protected ?? protectedPaths(policy), p, access, extras.globs)) {
    const e = b.entry;
    if (!b.unlockedBy) {
      return deny(`protected:${e.display}`, `${verb} ${show(p)} is blocked: ${show(e.abs)} is protected (${e.reason}); only an ${unlockName} entry naming it unlocks it`);
    }
    unlockedBy ??= { glob: b.unlockedBy, entry: e };
  }

  // 3. The run's temp dir; read-only mode.
  if (extras.tmpDir && isUnder(p, normalizeAbs(extras.tmpDir))) return allow('temp-dir', `${show(p)} is in the run's private temp dir`);
  if (access === 'write' && fsp.readOnly) return deny('readOnly', `writing ${show(p)} is blocked: the policy is read-only (no writes, not even in the workspace)`);

  if (unlockedBy) {
    return allow(`${unlockName}:${unlockedBy.glob}`, `${show(p)} is protected (${unlockedBy.entry.reason}) but ${unlockName} ${show(unlockedBy.glob)} names it explicitly`);
  }

  // 4. Explicit allow lists (a writable path is readable). A system path needs an entry that names it.
  const sys = systemPathOf(p);
  const allowLists = access === 'read' ? ([['allowRead', fsp.allowRead], ['allowWrite', fsp.allowWrite]] as const) : ([['allowWrite', fsp.allowWrite]] as const);
  for (const [name, list] of allowLists) {
    const g = list.find((x) => globCovers(x, p, extras.globs) && (access === 'read' || !sys || globNames(x, sys)));
    if (g) return allow(`${name}:${g}`, `${show(p)} is allowed by ${name} ${show(g)}`);
  }

  // 5. The workspace (writable unless it is itself a system path or contains one).
  if (isUnder(p, ws) && (access === 'read' || !sys || (ws !== sys && isUnder(ws, sys)))) {
    return allow('workspace', `${show(p)} is in the workspace`);
  }

  // 6. System paths: readable, never writable.
  if (sys) {
    return access === 'read'
      ? allow(`system-path:${sys}`, `${show(p)} is under the system path ${sys} (readable in every profile)`)
      : deny(`system-path:${sys}`, `writing ${show(p)} is blocked: ${sys} is a system path, never writable in any profile`);
  }

  // 7. Shared temp dirs (moderate, permissive).
  const tmp = SHARED_TEMP_PATHS.find((t) => isUnder(p, t));
  if (tmp && sharedTempWritable(policy.profile)) return allow(`shared-temp:${tmp}`, `${show(p)} is in the shared temp dir ${tmp} (profile ${policy.profile})`);

  // 8. Device nodes: a few are usable, raw devices never.
  if (isUnder(p, DEVICE_ROOT)) {
    const rw = [...DEVICE_READ_WRITE, ...FD_ALIASES].find((d) => isUnder(p, d));
    if (rw) return allow(`device:${rw}`, `${p} is a harmless device node`);
    const ro = DEVICE_READ_ONLY.find((d) => isUnder(p, d));
    if (ro && access === 'read') return allow(`device:${ro}`, `${p} is a readable device node`);
    return deny(`device:${ro ?? DEVICE_ROOT}`, `${verb} ${p} is blocked: device nodes other than null, zero, tty, pts and random are never accessible`);
  }

  // 9. Profile defaults.
  const prof = policy.profile;
  if (access === 'read') {
    return fsp.readEverywhere
      ? allow(`profile:${prof}(read-everywhere)`, `profile ${prof} reads everywhere except protected and denied paths`)
      : deny(`profile:${prof}(no-read-outside)`, `reading ${show(p)} is blocked: profile ${prof} reads only system paths, the workspace and allowRead`);
  }
  return fsp.writeOutsideSystem
    ? allow(`profile:${prof}(write-outside-system)`, `profile ${prof} writes everywhere except system, protected and denied paths`)
    : deny(`profile:${prof}(no-write-outside)`, `writing ${show(p)} is blocked: profile ${prof} writes only in the workspace and allowWrite`);
}

// ---------------------------------------------------------------- environment

/**
 * Env name globs: `*` any run of characters, `?` one character; exact case, or case folded for a Windows plan
 * (Windows keeps one variable per name whatever its case: `Path` is `PATH`).
 */
export function envNameMatches(pattern: string, name: string, foldCase = false): boolean {
  if (!/[*?]/.test(pattern)) return foldCase ? pattern.toUpperCase() === name.toUpperCase() : pattern === name;
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', foldCase ? 'i' : '');
  return re.test(name);
}

const SECRET_NAME = /(token|secret|passw(?:or)?d|passphrase|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth(?!or)|session[_-]?id|cookie)/i;
const TOKEN_LIKE = /^[A-Za-z0-9+/=_.~-]{16,}$/;

/** The variable name suggests a secret (GITHUB_TOKEN, DB_PASSWORD, AWS_SECRET_ACCESS_KEY …). */
export function looksSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function looksTokenLike(v: string): boolean {
  return TOKEN_LIKE.test(v) && !v.startsWith('/') && /[0-9]/.test(v) && /[A-Za-z]/.test(v);
}

/** Minimum length of a literal value to be masked: masking "1" or "yes" would shred the output. */
export const MIN_MASKED_VALUE_LENGTH = 4;

export interface EnvDecision {
  /** Variables passed to the script: the allowed ones, then `set` applied over them. */
  kept: Record<string, string>;
  /** Names removed, in input order. */
  removed: string[];
  /** Literal values to mask in output and logs: secret-looking variables (kept, set or removed) and
   *  token-like values of removed ones; never shorter than MIN_MASKED_VALUE_LENGTH. */
  secretValues: string[];
}

export function decideEnv(policy: ResolvedPolicy, env: Record<string, string>): EnvDecision {
  const kept: Record<string, string> = {};
  const removed: string[] = [];
  const secrets = new Set<string>();
  const patterns = compileSecretPatterns(policy.env.secretPatterns).map((re) => new RegExp(re.source, re.flags.replace('g', '')));
  const valueIsSecret = (v: string) => patterns.some((re) => re.test(v));
  // The run's platform by its workspace's spelling, as for its paths (paths.ts PathStyle).
  const fold = pathStyleOf(policy.workspace) === 'win32';
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') continue;
    const ok = policy.env.allow.some((pat) => envNameMatches(pat, k, fold));
    if (ok) kept[k] = v;
    else removed.push(k);
    if (looksSecretName(k) || valueIsSecret(v) || (!ok && looksTokenLike(v))) secrets.add(v);
  }
  for (const [k, v] of Object.entries(policy.env.set)) {
    kept[k] = v;
    if (looksSecretName(k)) secrets.add(v);
  }
  const secretValues = [...secrets].filter((v) => v.length >= MIN_MASKED_VALUE_LENGTH).sort((a, b) => b.length - a.length);
  return { kept, removed, secretValues };
}

// ---------------------------------------------------------------- secret masking

export const MASK = '***';

/** Compiles a secret pattern. A leading `(?i)`, `(?s)`, `(?m)` or a combination (`(?is)`) becomes flags;
 *  the result is global and has indices. Throws SyntaxError on a bad pattern. */
export function compileSecretPattern(src: string): RegExp {
  let flags = 'gd';
  let body = src;
  const m = /^\(\?([ims]+)\)/.exec(src);
  if (m) {
    for (const f of new Set(m[1])) flags += f;
    body = src.slice(m[0].length);
  }
  return new RegExp(body, flags);
}

/** Compiles every pattern, skipping invalid ones (resolve rejects those earlier). */
export function compileSecretPatterns(patterns: readonly (string | RegExp)[]): RegExp[] {
  const out: RegExp[] = [];
  for (const p of patterns) {
    try {
      if (typeof p === 'string') out.push(compileSecretPattern(p));
      else out.push(new RegExp(p.source, [...new Set((p.flags + 'gd').split(''))].join('')));
    } catch {
      // an invalid pattern cannot match anything
    }
  }
  return out;
}

/**
 * Replaces secrets in `text` with `***`: every literal value (≥ 4 characters, longest first), then every
 * match of the patterns (only the named group `secret` when the pattern has one and it matched).
 */
export function maskSecrets(text: string, patterns: readonly (string | RegExp)[], values: readonly string[] = []): string {
  let out = text;
  const lits = [...new Set(values)].filter((v) => typeof v === 'string' && v.length >= MIN_MASKED_VALUE_LENGTH).sort((a, b) => b.length - a.length);
  for (const v of lits) if (out.includes(v)) out = out.split(v).join(MASK);
  for (const re of compileSecretPatterns(patterns)) out = maskPattern(out, re);
  return out;
}

function maskPattern(text: string, re: RegExp): string {
  re.lastIndex = 0;
  const spans: Array<[number, number]> = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    const g = m.indices?.groups?.secret;
    const [s, e] = g ?? m.indices?.[0] ?? [m.index, m.index + m[0].length];
    if (e > s && text.slice(s, e) !== MASK) spans.push([s, e]);
  }
  if (!spans.length) return text;
  let out = '';
  let at = 0;
  for (const [s, e] of spans) {
    if (s < at) continue;
    out += text.slice(at, s) + MASK;
    at = e;
  }
  return out + text.slice(at);
}

// ---------------------------------------------------------------- network

/** Parsed allowAddresses of a policy (entries that do not parse are ignored; resolve rejects them). */
export function addressRules(policy: ResolvedPolicy): AddressRule[] {
  return policy.network.allowAddresses.map((a) => parseAddressRule(a)).filter((r): r is AddressRule => r !== null);
}

export interface AddressInfo {
  /** Canonical text of the address as given, e.g. "::ffff:169.254.169.254". */
  canonical: string;
  /** The IPv4 address inside an IPv4-mapped / NAT64 address, else the canonical one. */
  effective: string;
  classification: Classification;
}

/** What an address literal (any encoding) really is, or null when it is no address. */
export function describeAddress(s: string): AddressInfo | null {
  const ip = parseIp(s);
  if (!ip) return null;
  const eff = unwrapIp(ip);
  return { canonical: formatIp(ip), effective: formatIp(eff), classification: classifyIp(eff) };
}

const portLabel = (port: number) => (PORT_NAMES[port] ? `${port} (${PORT_NAMES[port]})` : String(port));

/**
 * Whether a connection to ip:port (host: the name it was looked up by, when known) is allowed. Order:
 * denyHosts > cloud metadata by name > cloud metadata by address (only an allowAddresses entry naming that
 * exact address unlocks it) > unspecified > preset none > blocked ports (unless an allowAddresses entry
 * covering the address names the port) > loopback / link-local / private / multicast / reserved (unless
 * allowAddresses covers it or the host is on allowHosts) > the preset.
 */
export interface AddressContext {
  /** This machine's own interface addresses, found at run start: reaching them is reaching local services. */
  localAddresses?: readonly string[];
}

export function decideAddress(policy: ResolvedPolicy, ip: string, port: number, host?: string, ctx: AddressContext = {}): Decision {
  const net = policy.network;
  const parsed = parseIp(ip);
  const h = host ? normalizeHost(host) : undefined;
  const shown = `${parsed ? formatIp(parsed) : ip}${h ? ` (${h})` : ''}`;
  if (!parsed) return deny('invalid-address', `${ip} is not an IP address`);
  const addr = unwrapIp(parsed);
  const addrText = formatIp(addr);
  const subject = addr !== parsed ? `${formatIp(parsed)} (IPv4 ${addrText})` : addrText;

  const deniedHost = net.denyHosts.find((pat) => hostMatches(pat, h, addr));
  if (deniedHost) return deny(`denyHosts:${deniedHost}`, `${shown} matches denyHosts ${deniedHost}`);

  if (h && METADATA_HOSTS.includes(h)) return deny(`cloud-metadata:${h}`, `${h} is a cloud metadata service name (instance credentials); blocked by name`);

  const cls = classifyIp(addr, ctx.localAddresses);
  const rules = addressRules(policy);
  if (cls.category === 'cloud-metadata') {
    const exact = rules.find((r) => ruleNamesExactly(r, addr) && ruleCovers(r, addr, port));
    if (!exact) return deny(`cloud-metadata:${addrText}`, `${subject} is a ${cls.what}; only an allowAddresses entry naming exactly this address unlocks it`);
  }
  if (cls.category === 'unspecified') return deny(`unspecified:${cls.range}`, `${subject} is the ${cls.what}`);

  if (net.preset === 'none') return deny('preset:none', `network preset none: no IP connections at all (${shown}:${port})`);

  const covering = rules.filter((r) => ruleCovers(r, addr, port));
  const withPort = covering.find((r) => r.ports !== null);
  if (net.blockedPorts.includes(port) && !withPort) {
    return deny(`blocked-port:${port}`, `port ${portLabel(port)} is blocked; only an allowAddresses entry with this port (e.g. ${addrText.includes(':') ? `[${addrText}]` : addrText}:${port}) allows it`);
  }

  // A wildcard host rule needs the name an address was looked up by; without it (a client that skipped
  // the sandbox's proxy), say so rather than only "not allowed".
  const wildcardHint = !h && net.allowHosts.some((x) => x.includes('*')) ? '; wildcard allowHosts entries match by name, through the sandbox proxy (HTTP_PROXY/HTTPS_PROXY), which this connection did not use' : '';
  const byAddress = withPort ?? covering[0];
  const byHost = net.allowHosts.find((pat) => hostMatches(pat, h, addr));
  // A name on allowHosts may lead to a non-public address only when the entry names it exactly: a wildcard
  // entry (*.example.com) says nothing about which addresses its names may have, and anyone who controls a
  // name below it (or its DNS) could point it at loopback or the LAN.
  const byExactHost = byHost !== undefined && !byHost.includes('*') ? byHost : undefined;
  if (cls.category !== 'public' && cls.category !== 'cloud-metadata' && !byAddress && !byExactHost) {
    if (byHost) {
      return deny(`${cls.category}:${cls.range}`, `${shown} matches allowHosts ${byHost}, but resolves to ${subject}, a ${cls.what}, in ${cls.range}; a wildcard host rule never reaches non-public addresses (name the host exactly or use network.allowAddresses)`);
    }
    return deny(`${cls.category}:${cls.range}`, `${subject} is a ${cls.what}, in ${cls.range}; allow it with network.allowAddresses${wildcardHint}`);
  }

  const via = byAddress ? allow(`allowAddresses:${byAddress.text}`, `${shown}:${port} is allowed by allowAddresses ${byAddress.text}`) : byHost ? allow(`allowHosts:${byHost}`, `${h ?? addrText} is allowed by allowHosts ${byHost}`) : null;
  switch (net.preset) {
    case 'default':
      return via ?? allow('preset:default', `${shown} is a ${cls.what}; network preset default allows the public internet`);
    case 'strict':
      return via ?? deny('preset:strict(not-allowed)', `${shown} is not on allowHosts or allowAddresses (network preset strict)${wildcardHint}`);
    case 'api-only': {
      if (byAddress && byAddress.ports !== null) return via!;
      if (!via) return deny('preset:api-only(not-allowed)', `${shown} is not on allowHosts or allowAddresses (network preset api-only)${wildcardHint}`);
      if (port !== 443) return deny('preset:api-only(port-443-only)', `network preset api-only allows port 443 only, not ${portLabel(port)}`);
      return via;
    }
  }
}

export { parseIpLiteral } from './ip';
