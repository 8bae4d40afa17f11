// script-sandbox audit tail | stats | verify: reading the workspace's audit log. Read-only: nothing here
// takes the writers' lock or changes a file, so it is safe next to running hosts.
import * as path from 'node:path';
import { verifyAuditFile } from '../audit';
import { AUDIT_HELP, AuditUsageError, parseOptions, type AuditCliIo } from './audit-options';
import { HelpRequest } from './parse';
import { cmdStats } from './audit-stats';
import { cmdTail } from './audit-tail';

export { AUDIT_HELP, parseDuration, type AuditCliIo } from './audit-options';
export { auditStats, type AuditStats } from './audit-stats';
export { formatRecord } from './audit-tail';

export async function runAuditCommand(argv: string[], ioIn: Partial<AuditCliIo> = {}): Promise<number> {
  const io: AuditCliIo = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    cwd: process.cwd(),
    now: Date.now,
    ...ioIn,
  };
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'tail':
        return await cmdTail(parseOptions(rest, io.cwd, 'tail'), io);
      case 'stats':
        return cmdStats(parseOptions(rest, io.cwd, 'stats'), io);
      case 'verify': {
        const o = parseOptions(rest, io.cwd, 'verify');
        if (o.positional.length > 1) throw new AuditUsageError('verify takes at most one FILE');
        return cmdVerify(o.positional[0] ? path.resolve(io.cwd, o.positional[0]) : o.file, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(`${AUDIT_HELP}\n`);
        return sub === undefined ? 2 : 0;
      default:
        throw new AuditUsageError(`unknown audit command "${sub}" (tail, stats, verify)`);
    }
  } catch (e) {
    if (e instanceof HelpRequest) {
      io.stdout(`${e.text}\n`);
      return 0;
    }
    if (e instanceof AuditUsageError) {
      io.stderr(`script-sandbox audit: ${e.message}\n${AUDIT_HELP}\n`);
      return 2;
    }
    throw e;
  }
}

// ---- verify ----

function cmdVerify(file: string, io: AuditCliIo): number {
  const r = verifyAuditFile(file);
  const range = r.lines ? `, seq ${r.firstSeq}..${r.lastSeq}` : '';
  if (r.unkeyed) {
    // Intact but not keyed: anyone who could write the file could have rewritten and re-hashed it.
    io.stdout(`unkeyed (older format): ${r.lines} line${r.lines === 1 ? '' : 's'} in ${r.files.length} file${r.files.length === 1 ? '' : 's'}${range}; the hash chain is intact but carries no key, so it cannot show that the lines are unchanged\n`);
    return 3;
  }
  if (!r.ok) {
    const b = r.firstBroken!;
    io.stdout(b.line > 0 ? `line ${b.line} of ${b.file}: ${b.reason}\n` : `${b.file}: ${b.reason}\n`);
    return 1;
  }
  io.stdout(`ok: ${r.lines} line${r.lines === 1 ? '' : 's'} in ${r.files.length} file${r.files.length === 1 ? '' : 's'}${range}, chain intact\n`);
  if (r.lines && !r.anchored) io.stdout(`note: the chain starts at seq ${r.firstSeq}: older lines were rotated out\n`);
  if (r.unkeyedLines) io.stdout(`note: the first ${r.unkeyedLines} line${r.unkeyedLines === 1 ? ' is' : 's are'} in the older unkeyed format; the first keyed line after them pins their hashes\n`);
  if (r.incompleteTail) io.stdout(`note: ${r.incompleteTail.file} ends in an incomplete line (${r.incompleteTail.bytes} bytes) left by a writer that died mid-write; the next writer cuts it off\n`);
  return 0;
}

