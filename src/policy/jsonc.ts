// JSON with comments (// and /* */) and trailing commas, as VS Code writes its settings files: the one parser
// of policy files for the CLI and the editor, on jsonc-parser (bundled). What it adds: a byte-order mark is
// skipped; a duplicate key is an error (a policy must not mean two things); nesting is bounded; the first
// problem is reported in words with its line and column (1-based), and later ones are left out because they
// are usually echoes of the first.
import * as jsonc from 'jsonc-parser';

export class JsoncError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    /** Offset and length in the text (a BOM counts as one character). */
    readonly offset = 0,
    readonly length = 1,
  ) {
    super(message);
    this.name = 'JsoncError';
  }
}

/**
 * How deep objects and lists may nest. jsonc-parser recurses once per level, so an unbounded depth is a stack
 * overflow on a file of a few kilobytes of '['; a real policy file nests four or five levels.
 */
export const MAX_JSONC_DEPTH = 64;

export interface JsoncDocument {
  value: unknown;
  /** jsonc-parser's tree, for the positions of keys and values (offsets include a BOM). */
  tree: jsonc.Node;
}

export function parseJsonc(text: string): unknown {
  return parseJsoncDocument(text).value;
}

/** Parses the text; throws JsoncError with the first problem. */
export function parseJsoncDocument(text: string): JsoncDocument {
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const s = bom ? text.slice(1) : text;
  const at = (offset: number) => lineCol(text, offset + bom);
  const fail = (message: string, offset: number, length = 1): never => {
    const p = at(offset);
    throw new JsoncError(message, p.line, p.column, offset + bom, Math.max(1, length));
  };
  const found = (offset: number): string => {
    if (offset >= s.length) return 'end of input';
    const c = s[offset]!;
    return /\s/.test(c) ? 'whitespace' : `'${c}'`;
  };
  if (!s.trim()) fail('the file is empty (expected a JSON object)', 0);

  // The value, built here (not jsonc.getNodeValue): a "__proto__" key stays an ordinary own property.
  type Frame = { kind: 'object'; value: Record<string, unknown>; key: string | null; seen: Set<string>; expectKey: boolean } | { kind: 'array'; value: unknown[] };
  const stack: Frame[] = [];
  let root: unknown;
  let lastLiteral: { offset: number; length: number; number: boolean } | null = null;
  let lastKey = '';
  const put = (v: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) root = v;
    else if (top.kind === 'array') top.value.push(v);
    else if (top.key !== null) {
      Object.defineProperty(top.value, top.key, { value: v, enumerable: true, writable: true, configurable: true });
      top.key = null;
    }
  };
  const open = (offset: number) => {
    if (stack.length >= MAX_JSONC_DEPTH) fail(`objects and lists nest more than ${MAX_JSONC_DEPTH} levels deep`, offset);
  };
  jsonc.visit(
    s,
    {
      onObjectBegin: (offset) => {
        open(offset);
        const value: Record<string, unknown> = {};
        put(value);
        stack.push({ kind: 'object', value, key: null, seen: new Set(), expectKey: true });
      },
      onObjectEnd: () => void stack.pop(),
      onArrayBegin: (offset) => {
        open(offset);
        const value: unknown[] = [];
        put(value);
        stack.push({ kind: 'array', value });
      },
      onArrayEnd: () => void stack.pop(),
      onObjectProperty: (name, offset, length) => {
        const top = stack[stack.length - 1];
        if (top?.kind !== 'object') return;
        if (top.seen.has(name)) fail(`duplicate key "${name}"`, offset, length);
        top.seen.add(name);
        top.key = name;
        top.expectKey = false;
        lastKey = name;
      },
      onSeparator: (ch) => {
        const top = stack[stack.length - 1];
        if (ch === ',' && top?.kind === 'object') top.expectKey = true;
      },
      onLiteralValue: (value, offset, length) => {
        lastLiteral = { offset, length, number: typeof value === 'number' };
        put(value);
      },
      onError: (code, offset, length) => {
        const top = stack[stack.length - 1];
        const prev = lastLiteral as { offset: number; length: number; number: boolean } | null;
        // "01", "1x": jsonc-parser reads a number and then trips over the rest.
        if (prev?.number && offset === prev.offset + prev.length && /[0-9A-Za-z_.]/.test(s[offset] ?? '')) fail('invalid number', prev.offset, prev.length);
        const closer = top?.kind === 'array' ? `',' or ']' in the list` : `',' or '}' after the value of "${lastKey}"`;
        switch (code) {
          case jsonc.ParseErrorCode.InvalidSymbol:
            if (top?.kind === 'object' && top.expectKey) fail(`expected a property name in double quotes but found ${found(offset)}`, offset, length);
            if (s[offset] === "'") fail('strings need double quotes ("…"), not single quotes', offset, length);
            return fail(`expected a value but found ${found(offset)}`, offset, length);
          case jsonc.ParseErrorCode.PropertyNameExpected:
            return fail(`expected a property name in double quotes but found ${found(offset)}`, offset, length);
          case jsonc.ParseErrorCode.ValueExpected:
            return fail(`expected a value but found ${found(offset)}`, offset, length);
          case jsonc.ParseErrorCode.ColonExpected:
            return fail(`expected ':' after "${lastKey}" but found ${found(offset)}`, offset, length);
          case jsonc.ParseErrorCode.CommaExpected:
          case jsonc.ParseErrorCode.CloseBraceExpected:
          case jsonc.ParseErrorCode.CloseBracketExpected:
            return fail(`expected ${closer} but found ${found(offset)}`, offset, length);
          case jsonc.ParseErrorCode.EndOfFileExpected:
            return fail(`unexpected ${found(offset)} after the end of the document`, offset, length);
          case jsonc.ParseErrorCode.UnexpectedEndOfComment:
            return fail('unterminated /* comment', offset, length);
          case jsonc.ParseErrorCode.UnexpectedEndOfString:
            return fail('unterminated string', offset, length);
          case jsonc.ParseErrorCode.InvalidCharacter:
            return fail('unterminated string (control character or line break inside it)', offset, length);
          case jsonc.ParseErrorCode.InvalidEscapeCharacter:
          case jsonc.ParseErrorCode.InvalidUnicode:
            return fail('invalid escape in string', offset, length);
          case jsonc.ParseErrorCode.InvalidNumberFormat:
            return fail('invalid number', offset, length);
          default:
            return fail(jsonc.printParseErrorCode(code), offset, length);
        }
      },
    },
    { allowTrailingComma: true, disallowComments: false },
  );
  // Depth is bounded by now, so jsonc-parser's recursive tree builder is safe.
  // Parsed from the full text, so its offsets count the BOM (which it skips as one invalid symbol).
  const tree = jsonc.parseTree(text, [], { allowTrailingComma: true })!;
  return { value: root, tree };
}

/** 1-based line and column of an offset. */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let col = 1;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}
