// JSON with comments (// and /* */) and trailing commas, as VS Code writes its settings files. A small
// recursive-descent parser, so every syntax error has a line and column whatever V8's JSON.parse says.

export class JsoncError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'JsoncError';
  }
}

/**
 * How deep objects and lists may nest. The parser recurses once per level, so an unbounded depth is a stack
 * overflow on a file of a few kilobytes of '['; a real policy file nests four or five levels.
 */
export const MAX_JSONC_DEPTH = 64;

export function parseJsonc(text: string): unknown {
  return new Parser(text).parseDocument();
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly s: string) {
    if (s.charCodeAt(0) === 0xfeff) this.i = 1; // BOM
  }

  parseDocument(): unknown {
    this.skip();
    if (this.i >= this.s.length) this.fail('the file is empty (expected a JSON object)');
    const v = this.value();
    this.skip();
    if (this.i < this.s.length) this.fail(`unexpected ${this.describe()} after the end of the document`);
    return v;
  }

  private fail(msg: string, at = this.i): never {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < this.s.length; k++) {
      if (this.s[k] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    throw new JsoncError(msg, line, col);
  }

  private describe(): string {
    if (this.i >= this.s.length) return 'end of input';
    const c = this.s[this.i]!;
    return /\s/.test(c) ? 'whitespace' : `'${c}'`;
  }

  /** Whitespace and comments. */
  private skip(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++;
      else if (c === '/' && s[this.i + 1] === '/') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === '/' && s[this.i + 1] === '*') {
        const start = this.i;
        const end = s.indexOf('*/', this.i + 2);
        if (end < 0) this.fail('unterminated /* comment', start);
        this.i = end + 2;
      } else return;
    }
  }

  private value(): unknown {
    const c = this.s[this.i];
    if (c === '{' || c === '[') {
      if (this.depth >= MAX_JSONC_DEPTH) this.fail(`objects and lists nest more than ${MAX_JSONC_DEPTH} levels deep`);
      this.depth++;
      try {
        return c === '{' ? this.object() : this.array();
      } finally {
        this.depth--;
      }
    }
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    if (c === "'") this.fail("strings need double quotes (\"…\"), not single quotes");
    this.fail(`expected a value but found ${this.describe()}`);
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.i++; // {
    this.skip();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.skip();
      if (this.s[this.i] !== '"') this.fail(`expected a property name in double quotes but found ${this.describe()}`);
      const keyAt = this.i;
      const key = this.string();
      if (seen.has(key)) this.fail(`duplicate key "${key}"`, keyAt);
      seen.add(key);
      this.skip();
      if (this.s[this.i] !== ':') this.fail(`expected ':' after "${key}" but found ${this.describe()}`);
      this.i++;
      this.skip();
      const v = this.value();
      // defineProperty: a "__proto__" key stays an ordinary own property (and is rejected by the schema).
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      const next = this.afterItem('}');
      if (next === 'done') return out;
      if (next === 'more') continue;
      this.fail(`expected ',' or '}' after the value of "${key}" but found ${this.describe()}`);
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.i++; // [
    this.skip();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.skip();
      out.push(this.value());
      const next = this.afterItem(']');
      if (next === 'done') return out;
      if (next === 'more') continue;
      this.fail(`expected ',' or ']' in the list but found ${this.describe()}`);
    }
  }

  /** After an item of an object or a list: a comma (more items, or a trailing comma before `close`) or `close`; null for anything else. */
  private afterItem(close: '}' | ']'): 'more' | 'done' | null {
    this.skip();
    const c = this.s[this.i];
    if (c === ',') {
      this.i++;
      this.skip();
      if (this.s[this.i] !== close) return 'more';
      this.i++; // trailing comma
      return 'done';
    }
    if (c === close) {
      this.i++;
      return 'done';
    }
    return null;
  }

  private string(): string {
    const start = this.i;
    this.i++; // "
    let out = '';
    const s = this.s;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string', start);
      const c = s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\n' || c.charCodeAt(0) < 0x20) this.fail('unterminated string (control character or line break inside it)');
      if (c === '\\') {
        const e = s[this.i + 1];
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in map) {
          out += map[e];
          this.i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(s.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else this.fail(`invalid escape \\${e ?? ''} in string`);
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private number(): number {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail(`invalid number`);
    const next = this.s[this.i + m[0].length];
    if (next !== undefined && /[0-9A-Za-z_.]/.test(next)) this.fail(`invalid number`, this.i);
    this.i += m[0].length;
    return Number(m[0]);
  }
}
