// The one policy schema. Everything a user can write (settings, .vscode/sandbox.json, --policy FILE, CLI
// flags) is a PolicyInput; resolve() turns layers of inputs into a ResolvedPolicy with every field set.
import { z } from 'zod';

export const Mode = z
  .enum(['disabled', 'warn', 'enforce'])
  .describe('disabled: run plainly (still recorded); warn: report would-be blocks, block nothing; enforce: block with kernel mechanisms, fail closed.');
export type Mode = z.infer<typeof Mode>;

export const Profile = z
  .enum(['strict', 'moderate', 'permissive'])
  .describe('Base policy: strict (workspace only, no network), moderate (read most, write workspace), permissive (write outside system paths).');
export type Profile = z.infer<typeof Profile>;

export const NetworkPreset = z
  .enum(['none', 'strict', 'api-only', 'default'])
  .describe('none: no IP sockets; strict: only allowed hosts; api-only: allowed hosts on port 443; default: public internet except blocked categories.');
export type NetworkPreset = z.infer<typeof NetworkPreset>;

const glob = z.string().min(1, 'must not be empty').describe('A minimatch glob, relative to the workspace or absolute; ~ is the home directory.');
const globList = (what: string) => z.array(glob).describe(what);

export const FilesystemInput = z
  .object({
    readOnly: z.boolean().describe('When true, the script may not write anywhere, not even in the workspace (temp dir excepted).'),
    reportReads: z
      .boolean()
      .describe('Enforce mode: also report reads that are blocked (a protected or denied path) as violations. Every read-only open then passes through the supervisor, which costs time on open-heavy scripts; warn mode always reports them.'),
    allowRead: globList('Paths the script may read in addition to the profile.'),
    denyRead: globList('Paths the script may never read.'),
    allowWrite: globList('Paths the script may write in addition to the workspace.'),
    denyWrite: globList('Paths the script may never write, even inside the workspace.'),
    unprotect: z
      .array(z.string().min(1, 'must not be empty'))
      .describe(
        'Protected paths (literal, relative to the workspace, absolute or ~/…) you release from protection, with everything protected inside them: e.g. ".git" so `npx husky init` can set core.hooksPath. Only from your own settings, --policy FILE or run flags; a workspace policy file or a git-script may not unprotect.',
      ),
  })
  .partial()
  .strict()
  .describe('Filesystem access.');

export const LimitsInput = z
  .object({
    cpuSeconds: z.number().int().positive().describe('CPU time per process, seconds (RLIMIT_CPU), and for the whole tree where it is measured.'),
    memoryMiB: z.number().int().positive().max(2 ** 33, 'must be at most 2^33 MiB').describe('Memory of the whole process tree, MiB (cgroup memory.max or the host watchdog).'),
    maxProcesses: z.number().int().positive().describe('Processes in the tree at once (cgroup pids.max, else RLIMIT_NPROC and the watchdog).'),
    fileSizeMiB: z.number().int().positive().max(2 ** 33, 'must be at most 2^33 MiB (8 PiB)').describe('Largest file the script may write, MiB (RLIMIT_FSIZE).'),
    openFiles: z.number().int().positive().describe('Open file descriptors per process (RLIMIT_NOFILE).'),
    timeoutSeconds: z
      .number()
      .positive()
      .max(2_147_483, 'must be at most 2147483 s (about 24.8 days; longer timers overflow)')
      .describe('Wall-clock limit for the run; the whole tree is killed when it passes.'),
  })
  .partial()
  .strict()
  .describe('Resource limits.');

export const EnvInput = z
  .object({
    allow: z.array(z.string().min(1)).describe('Environment variable names (globs like LC_*) passed to the script; all others are removed.'),
    set: z.record(z.string(), z.string()).describe('Variables set for the script (after filtering).'),
    secretPatterns: z
      .array(z.string().min(1))
      .describe('JavaScript regular expressions; matching text is masked in logs and output. A leading (?i) makes one case-insensitive; a named group (?<secret>…) masks only that group.'),
  })
  .partial()
  .strict()
  .describe('Environment filtering and secret masking.');

export const NetworkInput = z
  .object({
    preset: NetworkPreset,
    allowHosts: z.array(z.string().min(1)).describe('Host names (wildcards like *.example.com) the script may connect to.'),
    denyHosts: z.array(z.string().min(1)).describe('Host names never allowed, even when a wider rule allows them.'),
    allowAddresses: z
      .array(z.string().min(1))
      .describe('CIDR[:PORT] ranges the script may connect to, e.g. 127.0.0.1/32:8080, 10.0.0.0/8, [::1]:3000, [fd00::/8]:443 (IPv6 with a port in brackets; PORT may be LO-HI). A blocked port needs an entry that names it.'),
    blockedPorts: z.array(z.number().int().min(1).max(65535)).describe('Ports never allowed (SSH, RDP, VNC, Docker, …).'),
    allowUnixSockets: z.array(glob).describe('Unix socket paths outside the workspace the script may connect to.'),
  })
  .partial()
  .strict()
  .describe('Network access.');

export const SyscallsInput = z
  .object({
    allowPtrace: z.boolean().describe('Allow ptrace and process_vm_* (debuggers of the script\'s own children).'),
    extraDeny: z.array(z.string().min(1)).describe('Further syscall names to deny.'),
  })
  .partial()
  .strict()
  .describe('System call filter.');

export const PolicyInput = z
  .object({
    mode: Mode,
    profile: Profile,
    filesystem: FilesystemInput,
    limits: LimitsInput,
    env: EnvInput,
    network: NetworkInput,
    syscalls: SyscallsInput,
  })
  .partial()
  .strict()
  .describe('A policy layer: settings, workspace file, policy file or run flags.');
export type PolicyInput = z.infer<typeof PolicyInput>;

/** Fully resolved: every field present, paths absolute. */
export const ResolvedPolicy = z
  .object({
    mode: Mode,
    profile: Profile,
    workspace: z.string().describe('Absolute workspace folder.'),
    home: z.string().describe('Absolute home directory used to expand ~.'),
    filesystem: z
      .object({
        readOnly: z.boolean().describe('No writes outside the temp dir.'),
        reportReads: z.boolean().default(false).describe('Blocked reads are reported in enforce mode too (read opens are supervised). Absent in records written before it existed.'),
        readEverywhere: z.boolean().describe('Reads allowed everywhere except denied and protected paths.'),
        writeOutsideSystem: z.boolean().describe('Writes allowed everywhere except system, denied and protected paths.'),
        allowRead: z.array(z.string()).describe('Absolute globs readable.'),
        denyRead: z.array(z.string()).describe('Absolute globs never readable.'),
        allowWrite: z.array(z.string()).describe('Absolute globs writable.'),
        denyWrite: z.array(z.string()).describe('Absolute globs never writable.'),
        protected: z.array(z.string()).describe('Always-protected absolute paths, unless named explicitly by an allow list.'),
        unprotect: z
          .array(z.string())
          .default([])
          .describe('Absolute literal paths released from protection by the user (with everything protected inside them). Absent in records written before it existed.'),
        linkedGlobs: z
          .record(z.string(), z.object({ glob: z.string(), link: z.string() }))
          .optional()
          .describe("Deny globs added for a run at the targets of the links on a deny glob's way (src/host/deny-glob-links.ts): per added glob, the glob it stands for and the link. Absent in records written before it existed."),
      })
      .describe('Resolved filesystem policy.'),
    limits: z
      .object({
        cpuSeconds: z.number().nullable().describe('null: no limit.'),
        memoryMiB: z.number().nullable().describe('null: no limit.'),
        maxProcesses: z.number().nullable().describe('null: no limit.'),
        fileSizeMiB: z.number().nullable().describe('null: no limit.'),
        openFiles: z.number().nullable().describe('null: no limit.'),
        timeoutSeconds: z.number().nullable().describe('null: no limit.'),
      })
      .describe('Resolved limits.'),
    env: z
      .object({
        allow: z.array(z.string()).describe('Allowed variable names or globs.'),
        set: z.record(z.string(), z.string()).describe('Variables set for the script.'),
        secretPatterns: z.array(z.string()).describe('Regular expressions of secret values.'),
      })
      .describe('Resolved environment policy.'),
    network: z
      .object({
        preset: NetworkPreset,
        allowHosts: z.array(z.string()).describe('Allowed host names.'),
        denyHosts: z.array(z.string()).describe('Denied host names.'),
        allowAddresses: z.array(z.string()).describe('Allowed CIDR[:PORT].'),
        blockedPorts: z.array(z.number()).describe('Blocked ports.'),
        allowUnixSockets: z.array(z.string()).describe('Allowed unix socket paths.'),
      })
      .describe('Resolved network policy.'),
    syscalls: z
      .object({
        allowPtrace: z.boolean().describe('ptrace allowed.'),
        extraDeny: z.array(z.string()).describe('Extra denied syscalls.'),
      })
      .describe('Resolved syscall policy.'),
  })
  .describe('The policy in force for one run.');
export type ResolvedPolicy = z.infer<typeof ResolvedPolicy>;

export { describeZodError, issueText } from './zod-errors';
