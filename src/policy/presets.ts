// The three profiles and the constants every layer starts from, as data. Nothing here is mutable: the
// tables are frozen and presetFor() hands out a fresh copy.
import type { NetworkPreset, Profile, ResolvedPolicy } from './schema';

/** A path that is protected whatever the profile says. `path`: `~/…` (home), `/…` (absolute) or relative
 *  to the workspace (`.git/hooks`). `read`/`write`: whether the profile may grant that access at all. A
 *  protected path becomes accessible only when an allow list names it (or something inside it) explicitly;
 *  a wildcard such as `/**` or `~/**` does not count as naming it. */
export interface ProtectedEntry {
  readonly path: string;
  readonly read: boolean;
  readonly write: boolean;
  readonly reason: string;
  /** Relative paths inside it that stay writable (git's `objects`, `refs`, `logs` inside `.git`). */
  readonly writableInside?: readonly string[];
}

const secret = (path: string, reason: string): ProtectedEntry => ({ path, read: false, write: false, reason });
const noWrite = (path: string, reason: string): ProtectedEntry => ({ path, read: true, write: false, reason });

/** Inside a protected git directory: what git writes on every commit or fetch, and runs nothing from. */
export const GIT_WRITABLE: readonly string[] = Object.freeze(['objects', 'refs', 'logs']);

export const ALWAYS_PROTECTED: readonly ProtectedEntry[] = Object.freeze(
  [
    // Secrets: neither readable nor writable.
    secret('~/.ssh', 'SSH keys and known hosts'),
    secret('~/.aws', 'AWS credentials'),
    secret('~/.gnupg', 'GnuPG private keys'),
    secret('~/.config/gh', 'GitHub CLI token'),
    secret('~/.netrc', 'machine passwords (netrc)'),
    secret('~/.docker/config.json', 'container registry credentials'),
    secret('~/.kube', 'Kubernetes credentials'),
    secret('~/.git-credentials', 'git credential store'),
    secret('~/.npmrc', 'npm registry tokens'),
    secret('~/.pypirc', 'PyPI upload credentials'),
    secret('~/.config/gcloud', 'Google Cloud credentials'),
    secret('~/.azure', 'Azure credentials'),
    secret('~/.password-store', 'pass password store'),
    secret('~/.local/share/keyrings', 'desktop keyrings'),
    secret('~/.local/state/script-sandbox', 'audit log key and lock'),
    secret('/etc/shadow', 'password hashes'),
    secret('/etc/gshadow', 'group password hashes'),
    secret('/etc/sudoers', 'sudo rules'),
    secret('/etc/sudoers.d', 'sudo rules'),
    // Code that runs later, outside the sandbox: readable, never writable.
    noWrite('~/.bashrc', 'shell start-up file (runs outside the sandbox)'),
    noWrite('~/.bash_profile', 'shell start-up file (runs outside the sandbox)'),
    noWrite('~/.bash_login', 'shell start-up file (runs outside the sandbox)'),
    noWrite('~/.profile', 'shell start-up file (runs outside the sandbox)'),
    noWrite('~/.zshrc', 'shell start-up file (runs outside the sandbox)'),
    noWrite('~/.zshenv', 'shell start-up file (runs outside the sandbox)'),
    noWrite('~/.zprofile', 'shell start-up file (runs outside the sandbox)'),
    noWrite('~/.config/fish', 'shell start-up files (run outside the sandbox)'),
    noWrite('~/.gitconfig', 'git configuration (aliases, hooksPath and credential helpers run outside the sandbox)'),
    noWrite('~/.config/git', 'git configuration (aliases, hooksPath and credential helpers run outside the sandbox)'),
    // git in any folder of the home that is no repository of its own finds a repository here, and runs its
    // config's commands (core.fsmonitor, hooks) outside the sandbox (red team rt21).
    noWrite('~/.git', 'a git repository at the home folder (git run in any folder of the home that is no repository uses its config)'),
    noWrite('~/.config/autostart', 'programs started at login'),
    noWrite('~/.config/systemd/user', 'user services started outside the sandbox'),
    noWrite('~/.config/Code/User', 'VS Code user settings (could switch the sandbox off)'),
    noWrite('~/.vscode/extensions', 'VS Code extensions (run outside the sandbox)'),
    noWrite('~/.local/bin', 'user programs on PATH (run outside the sandbox)'),
    noWrite('~/.cargo/bin', 'cargo-installed programs on PATH (run outside the sandbox)'),
    noWrite('~/.cargo/config.toml', 'cargo configuration (runners and aliases run outside the sandbox)'),
    noWrite('~/.pyenv/shims', 'pyenv shims on PATH (run outside the sandbox)'),
    noWrite('~/.pyenv/version', 'pyenv default interpreter choice'),
    noWrite('~/.config/pip', 'pip configuration (index and install options used outside the sandbox)'),
    noWrite('~/.cache/script-sandbox/git/approvals.json', 'git-script approvals (an edit would approve code unseen)'),
    noWrite('~/.cache/script-sandbox/git/checkouts', 'git-script checkouts and their manifests (an edit would change approved code)'),
    // In the workspace: code that git or VS Code runs later, and the sandbox's own records.
    // .git as a whole: git renames lock files into its root (index, HEAD, config), so a finer split cannot be
    // kept by the kernel; the object store, refs and reflogs stay writable so commits and fetches work.
    { ...noWrite('.git', 'git metadata: hooks and config (core.hooksPath, core.fsmonitor) run outside the sandbox'), writableInside: GIT_WRITABLE },
    noWrite('.vscode', 'workspace settings, tasks and the sandbox policy file'),
    secret('.sandbox', 'the sandbox audit log (hidden from the script)'),
  ].map((e) => Object.freeze(e)),
);

/** Never writable in any profile. Readable in every profile (strict reads only these, the workspace and allowRead). */
export const SYSTEM_PATHS: readonly string[] = Object.freeze([
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/boot',
  '/opt',
  '/var/lib',
  '/snap',
  '/nix/store',
  '/proc',
  '/sys',
]);

/** Device nodes a script may use; the rest of /dev is neither readable nor writable (raw disks). */
export const DEVICE_READ_WRITE: readonly string[] = Object.freeze(['/dev/null', '/dev/zero', '/dev/full', '/dev/tty', '/dev/pts', '/dev/ptmx']);
export const DEVICE_READ_ONLY: readonly string[] = Object.freeze(['/dev/random', '/dev/urandom', '/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr']);
export const DEVICE_ROOT = '/dev';

/** Shared temp directories, writable in moderate and permissive (never in strict, never when readOnly).
 *  The run's private TMPDIR is writable in every profile. */
export const SHARED_TEMP_PATHS: readonly string[] = Object.freeze(['/tmp', '/dev/shm']);

/** The variables a script gets by default; everything else is removed. */
export const DEFAULT_ENV_ALLOW: readonly string[] = Object.freeze([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'COLORTERM',
  'LANG',
  'LC_*',
  'TZ',
  'TMPDIR',
  'PWD',
  'NO_COLOR',
  'FORCE_COLOR',
]);

/** JavaScript regular-expression sources. A leading `(?i)` (or `(?s)`, `(?im)` …) sets flags; when the
 *  pattern has a named group `secret`, only that group is masked (so "password=***" keeps its key). */
export const DEFAULT_SECRET_PATTERNS: readonly string[] = Object.freeze([
  '\\bgh[pousr]_[A-Za-z0-9]{20,}\\b', // GitHub tokens
  '\\bgithub_pat_[A-Za-z0-9_]{22,}', // GitHub fine-grained tokens
  '\\bglpat-[A-Za-z0-9_-]{20,}', // GitLab
  '\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b', // AWS access key ids
  '\\bxox[baprs]-[A-Za-z0-9-]{10,}', // Slack
  '\\bAIza[0-9A-Za-z_-]{35}', // Google API keys
  '\\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}', // OpenAI / Anthropic
  '\\bnpm_[A-Za-z0-9]{36}\\b', // npm
  '\\b[sr]k_live_[A-Za-z0-9]{16,}', // Stripe
  '\\beyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}', // JWT
  // Private key blocks, also a block cut off at the end of an output chunk.
  '-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\\s\\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)',
  '(?i)\\bbearer\\s+(?<secret>[A-Za-z0-9._~+/-]{16,}=*)', // Authorization headers
  '(?i)\\b[a-z][a-z0-9+.-]*://[^\\s:/@]+:(?<secret>[^\\s@/]+)@', // credentials in URLs
  // key=value / key: value with a secret-looking key (client_secret, AWS_SECRET_ACCESS_KEY, api-key, …)
  '(?i)(?:api[_-]?key|secret|token|passw(?:or)?d|pwd)[a-z0-9_-]*["\']?\\s*[=:]\\s*["\']?(?<secret>[^\\s"\',;&]+)',
]);

/** Ports no preset allows (a connection needs an allowAddresses entry that names the port explicitly). */
export const PORT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  22: 'SSH',
  23: 'Telnet',
  25: 'SMTP',
  445: 'SMB',
  3389: 'RDP',
  5900: 'VNC',
  5901: 'VNC',
  5902: 'VNC',
  5903: 'VNC',
  2375: 'Docker API',
  2376: 'Docker API (TLS)',
  6379: 'Redis',
  11211: 'Memcached',
  27017: 'MongoDB',
  5432: 'PostgreSQL',
  3306: 'MySQL',
  9200: 'Elasticsearch',
  2379: 'etcd',
});
export const DEFAULT_BLOCKED_PORTS: readonly number[] = Object.freeze([22, 23, 25, 445, 3389, 5900, 5901, 5902, 5903, 2375, 2376, 6379, 11211, 27017, 5432, 3306, 9200, 2379]);

/** What each network preset means, for explanations. */
export const NETWORK_PRESET_MEANING: Readonly<Record<NetworkPreset, string>> = Object.freeze({
  none: 'no IP network at all (no TCP/UDP sockets)',
  strict: 'only the hosts in allowHosts and the ranges in allowAddresses, any port not blocked',
  'api-only': 'only the hosts in allowHosts and the ranges in allowAddresses, port 443 (HTTPS) only',
  default: 'the public internet; cloud metadata, private, link-local, loopback and multicast addresses and dangerous ports stay blocked',
});

export const PROFILE_NAMES: readonly Profile[] = Object.freeze(['strict', 'moderate', 'permissive'] as Profile[]);
export const DEFAULT_PROFILE: Profile = 'moderate';

/** A profile's policy before the workspace and home are known: paths as written (`~/…`, workspace-relative). */
export type ProfilePreset = Omit<ResolvedPolicy, 'workspace' | 'home'>;

type Limits = ResolvedPolicy['limits'];
const PROFILE_TABLE: Readonly<Record<Profile, { readEverywhere: boolean; writeOutsideSystem: boolean; allowPtrace: boolean; network: NetworkPreset; limits: Limits }>> =
  Object.freeze({
    strict: {
      readEverywhere: false,
      writeOutsideSystem: false,
      allowPtrace: false,
      network: 'none',
      limits: { cpuSeconds: 60, memoryMiB: 1024, maxProcesses: 64, fileSizeMiB: 256, openFiles: 256, timeoutSeconds: 300 },
    },
    moderate: {
      readEverywhere: true,
      writeOutsideSystem: false,
      allowPtrace: false,
      network: 'default',
      limits: { cpuSeconds: 300, memoryMiB: 4096, maxProcesses: 256, fileSizeMiB: 1024, openFiles: 1024, timeoutSeconds: 1800 },
    },
    permissive: {
      readEverywhere: true,
      writeOutsideSystem: true,
      allowPtrace: true,
      network: 'default',
      limits: { cpuSeconds: null, memoryMiB: null, maxProcesses: null, fileSizeMiB: null, openFiles: 4096, timeoutSeconds: 3600 },
    },
  });

/** Whether the shared temp dirs (/tmp, /dev/shm) are writable under a profile (readOnly aside). */
export function sharedTempWritable(profile: Profile): boolean {
  return profile !== 'strict';
}

/** The complete policy of a profile, a fresh copy every call. */
export function presetFor(profile: Profile): ProfilePreset {
  const t = PROFILE_TABLE[profile];
  return {
    mode: 'enforce',
    profile,
    filesystem: {
      readOnly: false,
      reportReads: false,
      readEverywhere: t.readEverywhere,
      writeOutsideSystem: t.writeOutsideSystem,
      allowRead: [],
      denyRead: [],
      allowWrite: [],
      denyWrite: [],
      protected: ALWAYS_PROTECTED.map((e) => e.path),
      unprotect: [],
    },
    limits: { ...t.limits },
    env: { allow: [...DEFAULT_ENV_ALLOW], set: {}, secretPatterns: [...DEFAULT_SECRET_PATTERNS] },
    network: { preset: t.network, allowHosts: [], denyHosts: [], allowAddresses: [], blockedPorts: [...DEFAULT_BLOCKED_PORTS], allowUnixSockets: [] },
    syscalls: { allowPtrace: t.allowPtrace, extraDeny: [] },
  };
}

/** Ranks for comparing policies: higher is looser. */
export const PROFILE_RANK: Readonly<Record<Profile, number>> = Object.freeze({ strict: 0, moderate: 1, permissive: 2 });
export const NETWORK_RANK: Readonly<Record<NetworkPreset, number>> = Object.freeze({ none: 0, 'api-only': 1, strict: 2, default: 3 });
export const MODE_RANK: Readonly<Record<'enforce' | 'warn' | 'disabled', number>> = Object.freeze({ enforce: 0, warn: 1, disabled: 2 });
