// The report page: server-rendered HTML, a table per channel (or source, or
// campaign), an inline SVG bar chart of revenue against cost, and a form to pick
// the model, period and grouping. No script: the form reloads the page. Before
// it, the sign-in form (session.ts); neither page ever holds the token.
import { MODELS, MODEL_NAMES } from '../attribution/models.js';
import { FIRST_DAY, LAST_DAY } from '../clickhouse/days.js';
import type { Report, ReportRow } from './build.js';
import { formatCount, formatMinor, formatUnconverted, resolutionNote } from './format.js';
import { GROUPS } from './queries.js';
import { esc, htmlDocument } from '../web/html.js';

const money = (x: number | null) => (x === null ? '—' : formatMinor(x));
const count = (x: number | null) => (x === null ? '—' : formatCount(x));
const pct = (x: number | null) => (x === null ? '—' : `${(Math.round(x * 10_000) / 100).toFixed(2)}%`);

function chart(r: Report): string {
  const rows = r.rows.filter((x) => x.revenue_minor > 0 || x.cost_minor > 0).slice(0, 12);
  const max = Math.max(1, ...rows.flatMap((x) => [x.revenue_minor, x.cost_minor]));
  const barW = 420;
  const rowH = 26;
  const h = rows.length * rowH + 30;
  const bars = rows
    .map((x, i) => {
      const y = 24 + i * rowH;
      const rev = Math.round((x.revenue_minor / max) * barW);
      const cost = Math.round((x.cost_minor / max) * barW);
      return `<text x="0" y="${y + 11}" font-size="12">${esc(x.key)}</text>
<rect x="170" y="${y}" width="${rev}" height="10" fill="#2a9d8f"><title>revenue ${formatMinor(x.revenue_minor)}</title></rect>
<rect x="170" y="${y + 11}" width="${cost}" height="8" fill="#e76f51"><title>cost ${formatMinor(x.cost_minor)}</title></rect>`;
    })
    .join('\n');
  return `<svg id="chart" role="img" aria-label="revenue and cost" width="${170 + barW + 10}" height="${h}" xmlns="http://www.w3.org/2000/svg">
<rect x="170" y="2" width="10" height="10" fill="#2a9d8f"/><text x="184" y="11" font-size="12">revenue</text>
<rect x="260" y="2" width="10" height="10" fill="#e76f51"/><text x="274" y="11" font-size="12">cost</text>
${bars}
</svg>`;
}

/** The table's columns; money columns are headed with the report currency. */
const columns = (currency: string): [string, string, (x: ReportRow) => string][] => [
  ['visits', 'Visits', (x) => String(x.visits)],
  ['visitors', 'Visitors', (x) => String(x.visitors)],
  ['leads', 'Leads', (x) => count(x.leads)],
  ['deals', 'Deals', (x) => count(x.deals)],
  ['won', 'Won', (x) => count(x.won)],
  ['revenue', `Revenue, ${currency}`, (x) => money(x.revenue_minor)],
  ['cost', `Cost, ${currency}`, (x) => money(x.cost_minor)],
  ['cpl', `CPL, ${currency}`, (x) => money(x.cpl_minor)],
  ['cpo', `CPO, ${currency}`, (x) => money(x.cpo_minor)],
  ['roi', 'ROI', (x) => pct(x.roi)],
  ['conversion', 'Lead→sale', (x) => pct(x.conversion)],
  ['avg_deal', `Avg deal, ${currency}`, (x) => money(x.avg_deal_minor)],
];

/** Shown after the stages, only when some money had no rate: it is in none of the columns above. */
const UNCONVERTED: [string, string, (x: ReportRow) => string] = ['unconverted', 'Without a rate (not in the figures)', formatUnconverted];

function row(x: ReportRow, cols: ReturnType<typeof columns>, extra: (typeof UNCONVERTED)[], total = false): string {
  const cells = cols.map(([id, , f]) => `<td data-col="${id}">${esc(f(x))}</td>`);
  const stages = x.stages.map((s) => `<td data-col="passed:${esc(s.stage)}">${count(s.passed)}</td><td data-col="refused:${esc(s.stage)}">${count(s.refused)}</td>`);
  const after = extra.map(([id, , f]) => `<td data-col="${id}">${esc(f(x))}</td>`);
  return `<tr data-key="${esc(x.key)}"${total ? ' class="total"' : ''}><th scope="row">${esc(x.key)}</th>${cells.join('')}${stages.join('')}${after.join('')}</tr>`;
}

/** The document around a page's body: one look for the report and its sign-in. */
const document = (title: string, body: string) => htmlDocument({ lang: 'en', title, body });

/** The sign-in form: the token is posted once, never put in a URL. `problem`: why the last attempt failed. */
export function signInPage(problem?: string): string {
  return document(
    'Throughline — sign in',
    `<h1>Reports</h1>
<form method="post" action="/reports/sign-in" id="sign-in-form">
<label>Reports token <input type="password" name="token" id="token" autocomplete="current-password" required></label>
<button type="submit" id="sign-in">Sign in</button>
</form>${problem ? `\n<p class="problem" id="problem">${esc(problem)}</p>` : ''}`,
  );
}

export function reportPage(r: Report): string {
  const opt = (value: string, label: string, current: string) => `<option value="${esc(value)}"${value === current ? ' selected' : ''}>${esc(label)}</option>`;
  const stageHead = r.stages.map((s) => `<th>passed ${esc(s)}</th><th>refused at ${esc(s)}</th>`).join('');
  const cols = columns(r.currency);
  const extra = r.totals.unconverted.length ? [UNCONVERTED] : [];
  return document(
    `Throughline — ${r.modelLabel}`,
    `<form method="post" action="/reports/sign-out" id="signed-in"><button type="submit" id="sign-out">Sign out</button></form>
<h1>Which channel brought the money</h1>
<form method="get" action="/reports" id="pickers">
<label>Model <select name="model" id="model">${MODEL_NAMES.map((m) => opt(m, MODELS[m].label, r.model)).join('')}</select></label>
<label>From <input type="date" name="from" id="from" min="${FIRST_DAY}" max="${LAST_DAY}" value="${esc(r.period.from ?? '')}"></label>
<label>To <input type="date" name="to" id="to" min="${FIRST_DAY}" max="${LAST_DAY}" value="${esc(r.period.to ?? '')}"></label>
<label>By <select name="group" id="group">${GROUPS.map((g) => opt(g, g, r.group)).join('')}</select></label>
<button type="submit" id="apply">Show</button>
</form>
<p id="summary">${esc(r.modelLabel)}, deals created ${esc(r.period.from ?? 'any time')} – ${esc(r.period.to ?? 'now')}, look-back ${r.windowDays} days.</p>
<p id="resolution" data-current="${r.resolution.current}" data-refreshing="${r.resolution.refreshing}">${esc(resolutionNote(r.resolution))}</p>
${chart(r)}
<table id="report"><thead><tr><th>${esc(r.group)}</th>${cols.map(([, label]) => `<th>${esc(label)}</th>`).join('')}${stageHead}${extra.map(([, label]) => `<th>${esc(label)}</th>`).join('')}</tr></thead>
<tbody>${r.rows.map((x) => row(x, cols, extra)).join('\n')}</tbody>
<tfoot>${row(r.totals, cols, extra, true)}</tfoot></table>`,
  );
}
