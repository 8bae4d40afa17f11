// Secret masking for audit records: every string of a record, at any depth, through maskSecrets (patterns
// + literal values), so no secret reaches the file in any field, command lines included.
import { maskSecrets } from '../policy/evaluate';

/** Literal secret values shorter than this are not masked: masking "1" or "yes" would shred the log. */
export const MIN_SECRET_VALUE_LENGTH = 4;

export class SecretMasker {
  private readonly patterns: string[] = [];
  private readonly values = new Set<string>();

  constructor(patterns: Iterable<string>, values: Iterable<string>) {
    this.addPatterns(patterns);
    this.addValues(values);
  }

  addPatterns(patterns: Iterable<string>): void {
    for (const p of patterns) if (typeof p === 'string' && p && !this.patterns.includes(p)) this.patterns.push(p);
  }

  addValues(values: Iterable<string>): void {
    for (const v of values) if (typeof v === 'string' && v.length >= MIN_SECRET_VALUE_LENGTH) this.values.add(v);
  }

  /** A copy of value with every string masked. Keys are names and stay. */
  mask<T>(value: T): T {
    const values = [...this.values].sort((a, b) => b.length - a.length);
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return maskSecrets(v, this.patterns, values);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}
