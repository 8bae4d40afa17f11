// The one violation type, whatever produced it (seccomp filter, supervisor, Landlock diagnosis, limits,
// env filtering). Consumers (terminal, Problems panel, audit log, events file) read only this.
import { z } from 'zod';

export const Violation = z
  .object({
    runId: z.string().describe('Run the violation belongs to.'),
    time: z.string().describe('ISO 8601 UTC timestamp with milliseconds.'),
    kind: z.enum(['file', 'network', 'syscall', 'resource', 'env', 'policy']).describe('What was attempted.'),
    action: z.enum(['blocked', 'warned', 'killed']).describe('What the sandbox did: blocked it, allowed it with a warning, or killed the process.'),
    severity: z.enum(['info', 'warning', 'error', 'critical']).describe('critical alerts at once (metadata access, ptrace, writes to protected paths).'),
    syscall: z.string().optional().describe('System call name, when one was involved.'),
    path: z.string().optional().describe('Path as the script wrote it.'),
    resolvedPath: z.string().optional().describe('Path as the kernel resolved it.'),
    address: z.string().optional().describe('IP address or unix socket path.'),
    port: z.number().int().optional().describe('Port.'),
    host: z.string().optional().describe('Host name, when known.'),
    limit: z.string().optional().describe('Resource limit name, for kind resource.'),
    pid: z.number().int().optional().describe('Process that made the attempt.'),
    rule: z.string().describe('The rule that matched, e.g. "protected:~/.ssh" or "seccomp:deny ptrace".'),
    message: z.string().describe('One human line: "Blocked connect to 169.254.169.254:80 — cloud metadata service (network preset default)".'),
  })
  .describe('A normalized policy violation.');
export type Violation = z.infer<typeof Violation>;
