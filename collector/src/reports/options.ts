// What a report is asked for, read the same way from a query string (HTTP API,
// page) and from command-line flags (CLI): model, period, grouping, window.
// Each parameter is given at most once and only known ones are taken: a second
// `from`, or `model[]`, is a question the report cannot answer, so it is
// refused with the reason rather than answered for one of its readings.
import { DEFAULT_MODEL, isModelName, MODEL_NAMES, type ModelName } from '../attribution/models.js';
import type { Period } from '../attribution/credits-sql.js';
import { MAX_WINDOW_DAYS } from '../attribution/resolve.js';
import { isStorableDay, STORABLE_DAY_RULE } from '../clickhouse/days.js';
import { GROUPS, type Group } from './queries.js';

export type ReportOptions = { model: ModelName; period: Period; group: Group; windowDays: number };

/** The parameters of every face; the HTTP API and the CLI add their own (format, fresh…). */
export const REPORT_PARAMS = ['model', 'from', 'to', 'group', 'window'] as const;

/** Why a parameter that is not one of `known` is refused; the token has its own word, as old page links carried it. */
function unknownParam(name: string): string {
  return name === 'token'
    ? 'the token is never taken from a URL: send it as an Authorization: Bearer header, or sign in on the page'
    : `unknown parameter ${JSON.stringify(name)}`;
}

/** The pairs of a request's query string exactly as sent (its `originalUrl`): repeats and `name[]` included, which req.query folds. */
export const queryPairs = (url: string): URLSearchParams => new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');

/** Name/value pairs as one value per name: each known, none repeated. */
export function onceEach(pairs: Iterable<[string, string]>, known: readonly string[]): { params: Record<string, string> } | { error: string } {
  const params: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (!known.includes(name)) return { error: unknownParam(name) };
    if (Object.hasOwn(params, name)) return { error: `${name} is given more than once` };
    params[name] = value;
  }
  return { params };
}

/** `value` when it is one of `allowed` (or `fallback` when absent / empty), else the reason. */
export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): { value: T } | { error: string } {
  const v = value || fallback;
  return (allowed as readonly string[]).includes(v) ? { value: v as T } : { error: `${name} must be one of ${allowed.join(', ')}` };
}

export function parseReportOptions(
  p: Record<string, string | undefined>,
  defaultWindowDays: number,
): { options: ReportOptions } | { error: string } {
  const model = p.model || DEFAULT_MODEL;
  if (!isModelName(model)) return { error: `model must be one of ${MODEL_NAMES.join(', ')}` };
  const group = oneOf('group', p.group, GROUPS, 'channel');
  if ('error' in group) return group;
  const from = p.from || undefined;
  const to = p.to || undefined;
  if (from !== undefined && !isStorableDay(from)) return { error: `from must be ${STORABLE_DAY_RULE}` };
  if (to !== undefined && !isStorableDay(to)) return { error: `to must be ${STORABLE_DAY_RULE}` };
  if (from && to && from > to) return { error: 'from is after to' };
  const windowDays = p.window ? (/^\d{1,6}$/.test(p.window) ? Number(p.window) : NaN) : defaultWindowDays;
  if (!Number.isInteger(windowDays) || windowDays < 1 || windowDays > MAX_WINDOW_DAYS) return { error: `window must be a whole number of days, 1 to ${MAX_WINDOW_DAYS}` };
  return { options: { model, group: group.value, period: { from, to }, windowDays } };
}
