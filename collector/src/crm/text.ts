// What text from a CRM or from the admin API may hold. A lone surrogate cannot
// be written to ClickHouse as UTF-8 and breaks the SQL or JSON it is put into;
// control and format characters in an id make two ids look the same (or a log
// line lie). These rules are shared by the deal check and the configuration
// schema, so a record and a configuration are judged by the same words.

/** Text without control (Cc) and invisible format (Cf: zero-width, bidi overrides) characters. */
export const NO_CONTROL = /^[^\p{Cc}\p{Cf}]*$/u;

/** Why a value is not acceptable text of at most `max` characters; null when it is. */
export function textProblem(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return 'not text';
  if (!value.isWellFormed()) return 'not well-formed text (a lone surrogate)';
  if (value.length > max) return `longer than ${max} characters`;
  return null;
}

/** As textProblem, and an id or a name must not be empty nor hold control or format characters. */
export function idProblem(value: unknown, max: number): string | null {
  const problem = textProblem(value, max);
  if (problem) return problem;
  if (value === '') return 'empty';
  if (!NO_CONTROL.test(value as string)) return 'holds a control character';
  return null;
}

/**
 * The paths of every string (value or key) in a parsed JSON value that is not
 * well-formed. Walked without recursion: a hostile body may nest deeper than the stack.
 */
export function illFormedPaths(value: unknown): string[] {
  const out: string[] = [];
  const stack: [unknown, string[]][] = [[value, []]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, path] = item;
    if (typeof v === 'string' && !v.isWellFormed()) out.push(path.join('.') || '(top)');
    if (typeof v !== 'object' || v === null) continue;
    for (const [k, child] of Object.entries(v)) {
      if (!k.isWellFormed()) out.push([...path, k.toWellFormed()].join('.'));
      stack.push([child, [...path, k.toWellFormed()]]);
    }
  }
  return out.sort();
}
