// Revenue against cost per row (a channel, a source, a month) as an inline SVG
// bar chart: an axis in the report currency with round tick values, and the
// value written at each bar. Drawn on the server, no script. Horizontal
// geometry is in percent of the chart's width, text in pixels, so the chart
// fills a phone as well as a wide screen and its words stay readable on both.
import type { Lang } from '../../web/lang.js';
import { esc } from '../../web/html.js';
import type { Report } from '../build.js';
import { WORDS } from '../words.js';
import { money, moneyShort } from './figures.js';
import { keyName } from './names.js';

/** At most this many rows are drawn: the top ones by revenue (months: the latest). */
const MAX_BARS = 12;

/** A round step of about max / 4: 1, 2, 2.5 or 5 times a power of ten, and never below a kopeck (0.01). */
export function tickStep(max: number): number {
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  return Math.max(0.01, power * ([1, 2, 2.5, 5, 10].find((m) => m * power >= rough) ?? 10));
}

/** The axis of values 0…max (major units): round ticks, the last at or above max. */
export function axisTicks(max: number): number[] {
  if (!(max > 0)) return [];
  const step = tickStep(max);
  const n = Math.ceil(max / step - 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => Math.round(i * step * 100) / 100);
}

const SERIES = ['revenue', 'cost'] as const;

/** Geometry in pixels, top to bottom. */
const TITLE_Y = 14;
const TICKS_Y = 38;
const PLOT_TOP = 48;
const ROW_H = 62;
const BAR_H = 15;

/** A share of the width as an SVG length. */
const pct = (x: number) => `${Math.round(x * 10_000) / 100}%`;

export function revenueCostChart(r: Report, lang: Lang): string {
  const w = WORDS[lang].overview;
  const rows = r.rows.filter((x) => x.revenue_minor > 0 || x.cost_minor > 0);
  const shown = r.group === 'month' ? rows.slice(-MAX_BARS) : rows.slice(0, MAX_BARS);
  const maxMajor = Math.max(0, ...shown.flatMap((x) => [x.revenue_minor, x.cost_minor])) / 100;
  const ticks = axisTicks(maxMajor);
  if (!shown.length || !ticks.length) return `<p class="quiet" id="chart-empty">${esc(w.nothingToDraw)}</p>`;
  const top = ticks.at(-1)!;
  const height = PLOT_TOP + shown.length * ROW_H + 6;
  const axis = ticks
    .map((t, i) => {
      const x = pct(t / top);
      const anchor = i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle';
      return `<line class="grid" x1="${x}" x2="${x}" y1="${PLOT_TOP - 4}" y2="${height - 6}"/><text class="tick" x="${x}" y="${TICKS_Y}" text-anchor="${anchor}" data-value="${t}">${esc(moneyShort(t, r.currency, lang))}</text>`;
    })
    .join('\n');
  const bars = shown
    .map((x, i) => {
      const y = PLOT_TOP + i * ROW_H;
      const label = `<text class="label" x="0" y="${y + 13}">${esc(keyName(x.key, r.group, lang))}</text>`;
      const pair = SERIES.map((series, j) => {
        const minor = series === 'revenue' ? x.revenue_minor : x.cost_minor;
        if (minor <= 0) return ''; // no bar, and no "0.00" beside nothing
        const share = minor / 100 / top;
        const by = y + 19 + j * (BAR_H + 3);
        const text = esc(money(minor, r.currency, lang));
        // A long bar carries its value inside its end; a short one, just after it.
        const value =
          share > 0.62
            ? `<text class="value inside" x="${pct(share)}" dx="-6" y="${by + 12}" text-anchor="end" data-key="${esc(x.key)}" data-series="${series}" data-minor="${minor}">${text}</text>`
            : `<text class="value" x="${pct(share)}" dx="6" y="${by + 12}" data-key="${esc(x.key)}" data-series="${series}" data-minor="${minor}">${text}</text>`;
        return `<rect class="bar ${series}" x="0" y="${by}" width="${pct(share)}" height="${BAR_H}" rx="2" data-key="${esc(x.key)}" data-minor="${minor}"><title>${esc(w[series])}: ${text}</title></rect>${value}`;
      }).join('');
      return label + pair;
    })
    .join('\n');
  const legend = `<div class="legend"><span class="swatch revenue"></span>${esc(w.revenue)}<span class="swatch cost"></span>${esc(w.cost)}</div>`;
  return `${legend}<svg id="chart" class="chart" role="img" aria-label="${esc(w.axis(r.currency))}" width="100%" height="${height}" xmlns="http://www.w3.org/2000/svg">
<text class="axis-title" x="0" y="${TITLE_Y}">${esc(w.axis(r.currency))}</text>
${axis}
${bars}
</svg>`;
}
