// A zod error in words, one line per problem naming the field. Its own module so that a reader of one message
// (the launcher's plan) does not build every policy schema (schema.ts) at its start.
import type { z } from 'zod';

/**
 * Turns a zod error into one line per problem, each naming the field: "filesystem.allowWrite[0]: must not be
 * empty". `first`: only the first problem (where one line is wanted); `separator` between problems.
 */
export function describeZodError(err: z.ZodError, source: string, opts: { first?: boolean; separator?: string } = {}): string {
  return (opts.first ? err.issues.slice(0, 1) : err.issues)
    .map((i) => {
      const field = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(root)';
      return `${source}: ${field}: ${issueText(i)}`;
    })
    .join(opts.separator ?? '\n');
}

/** One zod issue in words; a required field that is absent says so instead of "received undefined". */
export function issueText(i: z.core.$ZodIssue): string {
  if (i.code === 'invalid_type' && /received undefined/.test(i.message)) return `missing (expected ${i.expected})`;
  return i.message;
}
