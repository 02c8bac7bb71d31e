// ClickHouse's tokenizer (src/Parsers/Lexer.cpp of 26.x), as far as the guard
// needs it: where strings, quoted names, comments and heredocs begin and end.
// The guard is only as good as this agreement: a stretch the engine reads as
// code but the guard as a string or comment would let a call through unseen. So
// every rule is the engine's own, down to the sign of a number's exponent (`1e-`
// then `-5` is not a comment), and where engines disagree (18.16 does not nest
// /* */ comments, 26.x does) the text is refused rather than guessed at.

export type TokenKind =
  /** A bare word: a keyword or a name (letters, digits, `_`, `$`). */
  | 'word'
  /** A "…" or `…` name; `name` holds it as the engine reads it. */
  | 'quoted'
  /** A '…' string, an x'…'/b'…' string or a $tag$…$tag$ heredoc. */
  | 'string'
  | 'number'
  /** Everything else, one operator or bracket per token. */
  | 'punct';

export type Token = {
  kind: TokenKind;
  /** The token's text exactly as written (offsets into the query). */
  text: string;
  start: number;
  end: number;
  /** Words and quoted names: the name the engine sees (quotes and escapes undone). */
  name?: string;
};

export type LexProblem =
  | 'unterminated_string'
  | 'unterminated_identifier'
  | 'unterminated_comment'
  /** `/*` inside a comment: 26.x nests them, 18.16 ends the comment at the first `*\/`. */
  | 'nested_comment'
  /** A `\x` escape in a quoted name not followed by two hex digits: what the engine makes of it is not defined. */
  | 'unclear_escape';

export type Lexed = { tokens: Token[] } | { problem: LexProblem; at: number };

const code = (s: string, i: number) => s.charCodeAt(i);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isWordChar = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isWhitespace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const DOLLAR = 36;
/** Operator characters that may pair with the next one, and the characters that make the pair (!=, <=, <>, >=, ::, ||, @@, \G). */
const PAIRED: Record<string, string> = { '!': '=', '<': '=>', '>': '=', ':': ':', '|': '|', '@': '@', '\\': 'G' };

/** isNumberSeparator of Common/StringUtils.h: an `_` between two digits of a number. */
function isNumberSeparator(s: string, i: number, startOfBlock: boolean, hex: boolean): boolean {
  if (code(s, i) !== 95 || startOfBlock) return false;
  if (i + 1 >= s.length) return false;
  const next = code(s, i + 1);
  return hex ? isHex(next) : isDigit(next);
}

/** The end of a run of digits from `i`, with the `_` separators ClickHouse allows; `fresh`: a block starts at `i`. */
function digitsEnd(s: string, i: number, hex: boolean, fresh: boolean): number {
  let startOfBlock = fresh;
  while (i < s.length && ((hex ? isHex(code(s, i)) : isDigit(code(s, i))) || isNumberSeparator(s, i, startOfBlock, hex))) {
    i++;
    startOfBlock = false;
  }
  return i;
}

/** The end of a number's exponent at `i` (e or E; p or P after hex digits), its sign and digits; `i` when there is none. */
function exponentEnd(s: string, i: number, hex: boolean): number {
  const e = s[i];
  if (!(i + 1 < s.length && (hex ? e === 'p' || e === 'P' : e === 'e' || e === 'E'))) return i;
  i++;
  if (i + 1 < s.length && (s[i] === '-' || s[i] === '+')) i++;
  return digitsEnd(s, i, false, true);
}

/** The end of a '…', "…" or `…` token starting at `i` (doubled quotes and backslash escapes), or -1 when it never closes. */
function quotedEnd(s: string, i: number, quote: string): number {
  let p = i + 1;
  for (;;) {
    const q = s.indexOf(quote, p);
    const b = s.indexOf('\\', p);
    if (q === -1 && b === -1) return -1;
    if (b !== -1 && (q === -1 || b < q)) {
      if (b + 1 >= s.length) return -1;
      p = b + 2;
      continue;
    }
    if (s[q + 1] === quote) {
      p = q + 2;
      continue;
    }
    return q + 1;
  }
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' };
/** Characters whose escape drops the backslash (parseComplexEscapeSequence keeps it before others: `\%` stays `\%`). */
const BARE_AFTER_ESCAPE = new Set(['\\', "'", '"', '`', '/']);

/** A quoted name as the engine reads it, or null for an escape it reads in no defined way. */
export function unquote(text: string): string | null {
  const quote = text[0]!;
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === quote) {
      out += quote;
      i++;
      continue;
    }
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i]!;
    if (n === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (n === 'N') {
      // \N reads as nothing
    } else {
      const decoded = ESCAPES[n] ?? n;
      if (!BARE_AFTER_ESCAPE.has(decoded) && decoded.charCodeAt(0) >= 32 && decoded.charCodeAt(0) !== 127) out += '\\';
      out += decoded;
    }
  }
  return out;
}

type Prev = 'dot' | 'closing' | 'word' | 'quoted' | 'number' | 'other' | 'none';

/** The significant tokens of `sql` (whitespace and comments left out), or the first thing the guard will not read. */
export function lex(sql: string): Lexed {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  let prev = 'none' as Prev;
  const push = (kind: TokenKind, start: number, end: number, p: Prev, name?: string) => {
    const t: Token = { kind, text: sql.slice(start, end), start, end };
    if (name !== undefined) t.name = name;
    tokens.push(t);
    prev = p;
  };
  const lineEnd = (from: number) => {
    const e = sql.indexOf('\n', from);
    return e === -1 ? n : e;
  };

  while (i < n) {
    const c = code(sql, i);
    const start = i;

    if (isWhitespace(c)) {
      i++;
      continue;
    }
    // Outside strings and names, the engine reads a non-ASCII character as
    // whitespace (Unicode spaces) or as an error that fails the query: either way
    // it joins nothing, so here it separates.
    if (c >= 128) {
      i++;
      continue;
    }

    if (isDigit(c)) {
      if (prev === 'dot') {
        i = digitsEnd(sql, i + 1, false, false);
      } else {
        let startOfBlock = false;
        let hex = false;
        const x = sql[i + 1];
        if (i + 2 < n && c === 48 && (x === 'x' || x === 'X' || x === 'b' || x === 'B')) {
          let valid = false;
          if (x === 'x' || x === 'X') {
            if (isHex(code(sql, i + 2))) valid = hex = true;
          } else if (sql[i + 2] === '0' || sql[i + 2] === '1') valid = true;
          if (valid) {
            i += 2;
            startOfBlock = true;
          } else i++;
        } else i++;
        i = digitsEnd(sql, i, hex, startOfBlock);
        if (i < n && sql[i] === '.') i = digitsEnd(sql, i + 1, hex, true);
        i = exponentEnd(sql, i, hex);
      }
      if (i < n && isWordChar(code(sql, i))) {
        while (i < n && isWordChar(code(sql, i))) i++;
        const text = sql.slice(start, i);
        push('word', start, i, 'word', text);
      } else push('number', start, i, 'number');
      continue;
    }

    switch (sql[i]) {
      case "'": {
        const e = quotedEnd(sql, i, "'");
        if (e === -1) return { problem: 'unterminated_string', at: start };
        push('string', start, (i = e), 'other');
        continue;
      }
      case '"':
      case '`': {
        const e = quotedEnd(sql, i, sql[i]!);
        if (e === -1) return { problem: 'unterminated_identifier', at: start };
        const name = unquote(sql.slice(start, e));
        if (name === null) return { problem: 'unclear_escape', at: start };
        push('quoted', start, (i = e), 'quoted', name);
        continue;
      }
      case '(':
      case '[':
      case '{':
      case '}':
      case ',':
      case ';':
      case '+':
      case '*':
      case '%':
      case '?':
        push('punct', start, ++i, 'other');
        continue;
      case ')':
      case ']':
        push('punct', start, ++i, 'closing');
        continue;
      case '.': {
        const nextIsDigit = i + 1 < n && isDigit(code(sql, i + 1));
        if (i > 0 && (!nextIsDigit || prev === 'closing' || prev === 'word' || prev === 'quoted' || prev === 'number')) {
          push('punct', start, ++i, 'dot');
          continue;
        }
        i = exponentEnd(sql, digitsEnd(sql, i + 1, false, true), false);
        push('number', start, i, 'number');
        continue;
      }
      case '-':
        if (sql[i + 1] === '>') {
          push('punct', start, (i += 2), 'other');
        } else if (sql[i + 1] === '-') {
          i = lineEnd(i + 2);
        } else push('punct', start, ++i, 'other');
        continue;
      case '/':
        if (sql[i + 1] === '/') {
          i = lineEnd(i + 2);
          continue;
        }
        if (sql[i + 1] === '*') {
          const close = sql.indexOf('*/', i + 2);
          const inner = sql.indexOf('/*', i + 2);
          if (inner !== -1 && (close === -1 || inner < close)) return { problem: 'nested_comment', at: inner };
          if (close === -1) return { problem: 'unterminated_comment', at: start };
          i = close + 2;
          continue;
        }
        push('punct', start, ++i, 'other');
        continue;
      case '#':
        if (sql[i + 1] === ' ' || sql[i + 1] === '!') {
          i = lineEnd(i + 2);
          continue;
        }
        push('punct', start, ++i, 'other');
        continue;
      case '=':
        push('punct', start, (i += sql[i + 1] === '=' ? 2 : 1), 'other');
        continue;
    }
    const second = PAIRED[sql[i]!];
    if (second !== undefined) {
      // One character, or two where the next one makes an operator with it (!=, <=, <>, ::, ||, @@, \G).
      push('punct', start, (i += sql[i + 1] !== undefined && second.includes(sql[i + 1]!) ? 2 : 1), 'other');
      continue;
    }

    if (c === DOLLAR) {
      // A heredoc: $tag$ … $tag$, the tag being everything up to the next `$`.
      const tagEnd = sql.indexOf('$', i + 1);
      if (tagEnd !== -1) {
        const tag = sql.slice(i, tagEnd + 1);
        const close = sql.indexOf(tag, tagEnd + 1);
        if (close !== -1) {
          push('string', start, (i = close + tag.length), 'other');
          continue;
        }
      }
      if (i + 1 === n || !isWordChar(code(sql, i + 1))) {
        push('punct', start, ++i, 'other');
        continue;
      }
    }

    // x'…' and b'…': hex and binary strings.
    if (i + 2 < n && sql[i + 1] === "'" && /[xXbB]/.test(sql[i]!)) {
      const hex = sql[i] === 'x' || sql[i] === 'X';
      let p = i + 2;
      while (p < n && (hex ? isHex(code(sql, p)) : sql[p] === '0' || sql[p] === '1')) p++;
      if (p >= n || sql[p] !== "'") return { problem: 'unterminated_string', at: start };
      push('string', start, (i = p + 1), 'other');
      continue;
    }

    if (isWordChar(c) || c === DOLLAR) {
      i++;
      while (i < n && (isWordChar(code(sql, i)) || code(sql, i) === DOLLAR)) i++;
      const text = sql.slice(start, i);
      push('word', start, i, 'word', text);
      continue;
    }

    // Any other character is an error token to the engine (the query fails to parse).
    push('punct', start, ++i, 'other');
  }
  return { tokens };
}
