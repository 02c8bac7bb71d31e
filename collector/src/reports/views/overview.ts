// The overview: the period's totals as tiles, each with its change against the
// previous period; revenue against cost as a chart; the figures per row (a
// channel by its name, money with its currency); and per row the change of
// visits, leads, won deals, revenue and cost against the previous period. The
// funnel's stages have a view of their own (funnel.ts); the CSV keeps them.
import { esc } from '../../web/html.js';
import type { Lang } from '../../web/lang.js';
import type { Report, ReportRow } from '../build.js';
import type { Change, Compared, Comparison } from '../compare.js';
import { WORDS, type Words } from '../words.js';
import { revenueCostChart } from './chart.js';
import { amount, count, countChange, money, moneyChange, percent, percentChange, periodText } from './figures.js';
import { keyName } from './names.js';

/** A table cell: its text and, for tests and programs, the exact figure behind it. */
type Cell = { text: string; minor?: number | null; value?: number | null };

type Column = { id: string; head: (w: Words, currency: string) => string; cell: (x: ReportRow, r: Report, lang: Lang) => Cell };

const countCell = (f: (x: ReportRow) => number): Column['cell'] => (x, _r, lang) => ({ text: count(f(x), lang), value: f(x) });
const moneyCell = (f: (x: ReportRow) => number | null): Column['cell'] => (x, r, lang) => {
  const minor = f(x);
  return { text: minor === null ? '—' : money(minor, r.currency, lang), minor: minor === null ? null : Math.round(minor) };
};
const ratioCell = (f: (x: ReportRow) => number | null): Column['cell'] => (x, _r, lang) => ({ text: percent(f(x), lang), value: f(x) });

const COLUMNS: Column[] = [
  { id: 'visits', head: (w) => w.columns.visits, cell: countCell((x) => x.visits) },
  { id: 'visitors', head: (w) => w.columns.visitors, cell: countCell((x) => x.visitors) },
  { id: 'leads', head: (w) => w.columns.leads, cell: countCell((x) => x.leads) },
  { id: 'deals', head: (w) => w.columns.deals, cell: countCell((x) => x.deals) },
  { id: 'won', head: (w) => w.columns.won, cell: countCell((x) => x.won) },
  { id: 'revenue', head: (w, c) => w.columns.revenue(c), cell: moneyCell((x) => x.revenue_minor) },
  { id: 'cost', head: (w, c) => w.columns.cost(c), cell: moneyCell((x) => x.cost_minor) },
  { id: 'cpl', head: (w, c) => w.columns.cpl(c), cell: moneyCell((x) => x.cpl_minor) },
  { id: 'cpo', head: (w, c) => w.columns.cpo(c), cell: moneyCell((x) => x.cpo_minor) },
  { id: 'roi', head: (w) => w.columns.roi, cell: ratioCell((x) => x.roi) },
  { id: 'conversion', head: (w) => w.columns.conversion, cell: ratioCell((x) => x.conversion) },
  { id: 'avg_deal', head: (w, c) => w.columns.avgDeal(c), cell: moneyCell((x) => x.avg_deal_minor) },
];

/** Shown last, only when some money had no rate: it is in none of the columns before it. */
const UNCONVERTED: Column = {
  id: 'unconverted',
  head: (w) => w.columns.unconverted,
  cell: (x, _r, lang) => ({ text: x.unconverted.map((u) => WORDS[lang].unconverted(u.currency, amount(u.revenue_minor, lang), amount(u.cost_minor, lang))).join('; ') }),
};

const attrs = (c: Cell) => `${c.minor === undefined || c.minor === null ? '' : ` data-minor="${c.minor}"`}${c.value === undefined || c.value === null ? '' : ` data-value="${c.value}"`}`;

function figuresTable(r: Report, lang: Lang): string {
  const w = WORDS[lang];
  const cols = r.totals.unconverted.length ? [...COLUMNS, UNCONVERTED] : COLUMNS;
  const line = (x: ReportRow, total = false) =>
    `<tr data-key="${esc(x.key)}"${total ? ' class="total"' : ''}><th scope="row">${esc(keyName(x.key, r.group, lang))}</th>${cols
      .map((c) => {
        const cell = c.cell(x, r, lang);
        return `<td data-col="${c.id}"${attrs(cell)}>${esc(cell.text)}</td>`;
      })
      .join('')}</tr>`;
  return `<div class="scroll"><table id="report"><thead><tr><th>${esc(w.groups[r.group])}</th>${cols.map((c) => `<th>${esc(c.head(w, r.currency))}</th>`).join('')}</tr></thead>
<tbody>${r.rows.map((x) => line(x)).join('\n')}</tbody>
<tfoot>${line(r.totals, true)}</tfoot></table></div>`;
}

const COMPARED_COLUMNS: { id: string; figure: Compared; head: (w: Words) => string; money: boolean }[] = [
  { id: 'visits', figure: 'visits', head: (w) => w.columns.visits, money: false },
  { id: 'leads', figure: 'leads', head: (w) => w.columns.leads, money: false },
  { id: 'won', figure: 'won', head: (w) => w.columns.won, money: false },
  { id: 'revenue', figure: 'revenue_minor', head: (w) => w.overview.kpis.revenue, money: true },
  { id: 'cost', figure: 'cost_minor', head: (w) => w.overview.kpis.cost, money: true },
];

/** A change in words: "+₽5,000.00 · +12.5%", "+3 · new" (from zero), "0". */
function changeText(c: Change, isMoney: boolean, currency: string, lang: Lang): { abs: string; rel: string } {
  const abs = isMoney ? moneyChange(c.change, currency, lang) : countChange(c.change, lang);
  const rel = c.pct !== null ? percentChange(c.pct, lang) : c.change !== 0 ? WORDS[lang].overview.fresh : '';
  return { abs, rel };
}

const direction = (c: Change) => (c.change > 0 ? 'up' : c.change < 0 ? 'down' : 'same');

function changeCell(id: string, c: Change, isMoney: boolean, currency: string, lang: Lang): string {
  const t = changeText(c, isMoney, currency, lang);
  const was = isMoney ? money(c.before, currency, lang) : count(c.before, lang);
  const now = isMoney ? money(c.now, currency, lang) : count(c.now, lang);
  return `<td data-col="${id}" class="${direction(c)}" data-change="${c.change}"${c.pct === null ? '' : ` data-pct="${c.pct}"`} title="${esc(`${was} → ${now}`)}"><span class="abs">${esc(t.abs)}</span>${t.rel ? `<span class="rel">${esc(t.rel)}</span>` : ''}</td>`;
}

function compareTable(r: Report, cmp: Comparison, lang: Lang): string {
  const w = WORDS[lang];
  const line = (key: string, changes: Record<Compared, Change>, total = false) =>
    `<tr data-key="${esc(key)}"${total ? ' class="total"' : ''}><th scope="row">${esc(keyName(key, r.group, lang))}</th>${COMPARED_COLUMNS.map((c) =>
      changeCell(c.id, changes[c.figure], c.money, r.currency, lang),
    ).join('')}</tr>`;
  const months = r.group === 'month' ? `<p class="quiet">${esc(w.overview.compareMonths)}</p>` : '';
  return `<section class="card" id="comparison"><h2>${esc(w.overview.compare(periodText(cmp.period, lang)))}</h2>${months}
<div class="scroll"><table id="compare"><thead><tr><th>${esc(w.groups[r.group])}</th>${COMPARED_COLUMNS.map((c) => `<th>${esc(c.head(w))}</th>`).join('')}</tr></thead>
<tbody>${cmp.rows.map((x) => line(x.key, x)).join('\n')}</tbody>
<tfoot>${line(r.totals.key, cmp.totals, true)}</tfoot></table></div></section>`;
}

const KPIS: { id: keyof Words['overview']['kpis']; figure?: Compared; money?: boolean; value: (x: ReportRow) => number | null }[] = [
  { id: 'revenue', figure: 'revenue_minor', money: true, value: (x) => x.revenue_minor },
  { id: 'cost', figure: 'cost_minor', money: true, value: (x) => x.cost_minor },
  { id: 'roi', value: (x) => x.roi },
  { id: 'leads', figure: 'leads', value: (x) => x.leads },
  { id: 'won', figure: 'won', value: (x) => x.won },
  { id: 'visits', figure: 'visits', value: (x) => x.visits },
];

function tiles(r: Report, cmp: Comparison | null, lang: Lang): string {
  const w = WORDS[lang];
  const tile = (k: (typeof KPIS)[number]) => {
    const v = k.value(r.totals);
    const text = k.money ? money(v ?? 0, r.currency, lang) : k.figure ? count(v ?? 0, lang) : percent(v, lang);
    const shown = k.money ? ` data-minor="${v ?? 0}"` : v === null ? '' : ` data-value="${v}"`;
    const c = cmp && k.figure ? cmp.totals[k.figure] : null;
    const t = c ? changeText(c, !!k.money, r.currency, lang) : null;
    const said = c && t ? (c.change === 0 ? w.overview.same : [t.abs, t.rel].filter(Boolean).join(' · ')) : '';
    const delta = c ? `<div class="delta ${direction(c)}" data-change="${c.change}"${c.pct === null ? '' : ` data-pct="${c.pct}"`}>${esc(said)}</div>` : '';
    return `<div class="kpi" data-kpi="${k.id}"><div class="label">${esc(w.overview.kpis[k.id])}</div><div class="value"${shown}>${esc(text)}</div>${delta}</div>`;
  };
  const note = cmp ? w.overview.against(periodText(cmp.period, lang)) : w.overview.noPrevious;
  return `<section id="kpis" class="kpis">${KPIS.map(tile).join('')}</section>
<p class="quiet" id="compare-note">${esc(note)}</p>`;
}

/** The overview of `r`; `cmp`: against the previous period, when the period has one. */
export function overviewView(r: Report, cmp: Comparison | null, lang: Lang): string {
  const w = WORDS[lang];
  if (!r.rows.length) return '';
  return `${tiles(r, cmp, lang)}
<section class="card" id="chart-card"><h2>${esc(w.overview.chart)}</h2>
${revenueCostChart(r, lang)}
</section>
<section class="card" id="figures"><h2>${esc(w.overview.table)}</h2>
${figuresTable(r, lang)}
</section>
${cmp ? compareTable(r, cmp, lang) : ''}`;
}
