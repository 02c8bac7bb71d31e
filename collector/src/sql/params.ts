// Query parameters: `{name:Type}` in the query, its value in the URL as
// `param_name=…`, as ClickHouse's HTTP interface takes them. The endpoint puts
// each value into the query text itself, as ClickHouse does (a typed CAST of a
// literal), before the guard reads it, rather than handing them on as the
// client's query_params:
//   - the guard then sees every name the query reaches: `FROM {t:Identifier}`
//     with param_t=identity_key is refused like `FROM identity_key`;
//   - 18.16 has no query parameters (`Unknown setting param_x`), and the
//     client's and the embedded engine's encoders each change a raw value on
//     the way (the client escapes the quotes of `['a','b']`), so passing them on
//     would answer differently per engine.
// A value is written as ClickHouse's HTTP interface expects it: in the escaped
// (TabSeparated) form for a scalar (`a\tb` is a tab), as a literal for an Array,
// Tuple or Map (`['a','b']`).
import { quotedIdent, str } from '../clickhouse/sql.js';
import { lex, type Token } from './lexer.js';
import type { Refusal } from './guard.js';

const UNKNOWN_QUERY_PARAMETER = 456;
const BAD_QUERY_PARAMETER = 457;

/** A parameter's name as the URL gives it after `param_`. */
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' };
const BARE_AFTER_ESCAPE = new Set(['\\', "'", '"', '`', '/']);

/** A value in the escaped form, read as ClickHouse reads it (readEscapedString). */
export function unescapeValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '\\' || i === value.length - 1) {
      out += c;
      continue;
    }
    const n = value[++i]!;
    const hex = value.slice(i + 1, i + 3);
    if (n === 'x' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (n !== 'N') {
      const decoded = ESCAPES[n] ?? n;
      // `\%` stays `\%` (for LIKE patterns); escapes of quotes, slashes and control characters lose the backslash.
      if (!BARE_AFTER_ESCAPE.has(decoded) && decoded.charCodeAt(0) >= 32 && decoded.charCodeAt(0) !== 127) out += '\\';
      out += decoded;
    }
  }
  return out;
}


/** The type inside Nullable(…) and LowCardinality(…). */
const innerType = (type: string): string => {
  const m = /^(?:Nullable|LowCardinality)\s*\(([\s\S]*)\)$/.exec(type.trim());
  return m ? innerType(m[1]!) : type.trim();
};
const COMPOSITE = /^(?:Array|Tuple|Map|Nested)\s*\(/;
const INTEGER = /^U?Int(?:8|16|32|64|128|256)$/;
const LITERAL_WORDS = new Set(['NULL', 'TRUE', 'FALSE', 'NAN', 'INF', 'INFINITY']);
const LITERAL_PUNCT = new Set(['[', ']', '(', ')', '{', '}', ',', ':', '-', '+']);

/**
 * Whether `value` is a literal and nothing else: strings, numbers, NULL/true/false,
 * brackets, commas, colons and signs, with nothing but spaces between them (no
 * comment that could swallow the rest of the query, no name, no call).
 */
function isLiteral(value: string): boolean {
  const lexed = lex(value);
  if ('problem' in lexed || lexed.tokens.length === 0) return false;
  let at = 0;
  for (const t of lexed.tokens) {
    if (value.slice(at, t.start).trim() !== '') return false;
    at = t.end;
    const ok =
      t.kind === 'string' ||
      t.kind === 'number' ||
      (t.kind === 'word' && LITERAL_WORDS.has(t.text.toUpperCase())) ||
      (t.kind === 'punct' && LITERAL_PUNCT.has(t.text));
    if (!ok) return false;
  }
  return value.slice(at).trim() === '';
}

/** Whether the placeholder at `open` stands where only a number may (LIMIT n, OFFSET n, LIMIT m, n). */
function numberOnly(tokens: Token[], open: number): boolean {
  const before = (i: number) => tokens[i]?.text.toUpperCase();
  if (before(open - 1) === 'LIMIT' || before(open - 1) === 'OFFSET') return true;
  if (before(open - 1) !== ',') return false;
  // Over the operand before the comma: a number, or a placeholder {…}.
  let i = open - 2;
  if (before(i) === '}') {
    while (i >= 0 && before(i) !== '{') i--;
  }
  return before(i - 1) === 'LIMIT';
}

type Rendered = { text: string } | { refusal: Refusal };

function render(name: string, type: string, raw: string, numeric: boolean): Rendered {
  const bad = (): Rendered => ({ refusal: { reason: 'bad_query_parameter', subject: name, code: BAD_QUERY_PARAMETER } });
  const base = innerType(type);
  if (base === 'Identifier') {
    const parts = raw.split('.');
    if (parts.some((p) => p === '')) return bad();
    return { text: parts.map(quotedIdent).join('.') };
  }
  if (raw === '\\N' && /^Nullable\s*\(/.test(type.trim())) return { text: `CAST(NULL AS ${type})` };
  if (COMPOSITE.test(base)) return isLiteral(raw) ? { text: `CAST(${raw} AS ${type})` } : bad();
  // 18.16 takes only a number after LIMIT; an integer there is written as one.
  if (numeric && INTEGER.test(base) && /^\d+$/.test(raw)) return { text: raw };
  return { text: `CAST(${str(unescapeValue(raw))} AS ${type})` };
}

/**
 * The query with every `{name:Type}` replaced by its value, or the refusal of a
 * placeholder without a value or with a value its type cannot take. A query the
 * lexer cannot read is returned as it is (the guard refuses it).
 */
export function substituteParams(sql: string, params: ReadonlyMap<string, string>): { query: string } | { refusal: Refusal } {
  const lexed = lex(sql);
  if ('problem' in lexed) return { query: sql };
  const tokens = lexed.tokens;
  let out = '';
  let copied = 0;
  for (let i = 0; i < tokens.length; i++) {
    const open = tokens[i]!;
    const nameToken = tokens[i + 1];
    if (open.text !== '{' || nameToken?.kind !== 'word' || tokens[i + 2]?.text !== ':') continue;
    let depth = 0;
    let close = i + 3;
    for (; close < tokens.length; close++) {
      const t = tokens[close]!.text;
      if (t === '(') depth++;
      else if (t === ')') depth--;
      else if (t === '}' && depth === 0) break;
    }
    if (close >= tokens.length || close === i + 3) continue;
    const name = nameToken.text;
    const type = sql.slice(tokens[i + 2]!.end, tokens[close]!.start).trim();
    const raw = params.get(name);
    if (raw === undefined) return { refusal: { reason: 'query_parameter_not_set', subject: name, code: UNKNOWN_QUERY_PARAMETER } };
    const rendered = render(name, type, raw, numberOnly(tokens, i));
    if ('refusal' in rendered) return rendered;
    out += sql.slice(copied, open.start) + rendered.text;
    copied = tokens[close]!.end;
    i = close;
  }
  return { query: out + sql.slice(copied) };
}
