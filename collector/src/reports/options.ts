// What a report is asked for, read the same way from a query string (HTTP API,
// page) and from command-line flags (CLI): model, period, grouping, window.
import { DEFAULT_MODEL, isModelName, MODEL_NAMES, type ModelName } from '../attribution/models.js';
import type { Period } from '../attribution/credits-sql.js';
import { MAX_WINDOW_DAYS } from '../attribution/resolve.js';
import { GROUPS, type Group } from './queries.js';

export type ReportOptions = { model: ModelName; period: Period; group: Group; windowDays: number };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isDay(s: string): boolean {
  return DAY.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
}

export function parseReportOptions(
  p: Record<string, string | undefined>,
  defaultWindowDays: number,
): { options: ReportOptions } | { error: string } {
  const model = p.model || DEFAULT_MODEL;
  if (!isModelName(model)) return { error: `model must be one of ${MODEL_NAMES.join(', ')}` };
  const group = p.group || 'channel';
  if (!(GROUPS as readonly string[]).includes(group)) return { error: `group must be one of ${GROUPS.join(', ')}` };
  const from = p.from || undefined;
  const to = p.to || undefined;
  if (from !== undefined && !isDay(from)) return { error: 'from must be a date YYYY-MM-DD' };
  if (to !== undefined && !isDay(to)) return { error: 'to must be a date YYYY-MM-DD' };
  if (from && to && from > to) return { error: 'from is after to' };
  const windowDays = p.window ? Number(p.window) : defaultWindowDays;
  if (!Number.isInteger(windowDays) || windowDays < 1 || windowDays > MAX_WINDOW_DAYS) return { error: `window must be a whole number of days, 1 to ${MAX_WINDOW_DAYS}` };
  return { options: { model, group: group as Group, period: { from, to }, windowDays } };
}
