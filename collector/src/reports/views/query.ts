// What the page is asked for: the report's own options (options.ts) and the
// page's: which view, which row the funnel is drawn for, fresh figures, the
// language switch. A page asked for no period shows the last 30 days; a period
// given as `from` / `to` is taken as given, an empty end being open (the "all
// time" preset is `from=&to=`). Every link the page makes carries the period as
// days, so the figures of a view, another view and the CSV are of one period.
import { DEFAULT_MODEL } from '../../attribution/models.js';
import { oneOf, parseReportOptions, REPORT_PARAMS, type ReportOptions } from '../options.js';
import { DEFAULT_PRESET, presetPeriod } from '../period.js';
import type { View } from '../words.js';

export const VIEWS: readonly View[] = ['overview', 'funnel', 'models'];

/** The page's parameters; `lang` is the switch web/lang.ts reads. */
export const PAGE_PARAMS = [...REPORT_PARAMS, 'fresh', 'view', 'channel', 'lang'] as const;

export type PageQuery = {
  options: ReportOptions;
  view: View;
  /** The row key the funnel is drawn for; '' for all rows together. */
  channel: string;
  fresh: boolean;
  /** The look-back window as given (links carry it only then). */
  window: string | undefined;
};

/** The page's query from its parameters (each once: onceEach); `on` is today. */
export function parsePageQuery(p: Record<string, string>, defaultWindowDays: number, on: string): { query: PageQuery } | { error: string } {
  const view = oneOf('view', p.view, VIEWS, 'overview');
  if ('error' in view) return view;
  const fresh = oneOf('fresh', p.fresh, ['0', '1'], '0');
  if ('error' in fresh) return fresh;
  const asked = Object.hasOwn(p, 'from') || Object.hasOwn(p, 'to');
  const period = asked ? { from: p.from, to: p.to } : presetPeriod(DEFAULT_PRESET, on);
  const parsed = parseReportOptions({ ...p, ...period }, defaultWindowDays);
  if ('error' in parsed) return parsed;
  return { query: { options: parsed.options, view: view.value, channel: p.channel ?? '', fresh: fresh.value === '1', window: p.window || undefined } };
}

/** The page's address for `q` with some of it changed. */
export function pageHref(q: PageQuery, change: { view?: View; period?: ReportOptions['period']; channel?: string } = {}, path = '/reports'): string {
  const view = change.view ?? q.view;
  const period = change.period ?? q.options.period;
  const params = new URLSearchParams();
  if (view !== 'overview') params.set('view', view);
  if (q.options.model !== DEFAULT_MODEL) params.set('model', q.options.model);
  params.set('from', period.from ?? '');
  params.set('to', period.to ?? '');
  if (q.options.group !== 'channel') params.set('group', q.options.group);
  if (q.window) params.set('window', q.window);
  const channel = change.channel ?? q.channel;
  if (view === 'funnel' && channel) params.set('channel', channel);
  return `${path}?${params}`;
}

/** The CSV of what the page shows: the same report options, as days. */
export const csvHref = (q: PageQuery): string => pageHref({ ...q, view: 'overview' }, {}, '/reports/report.csv');
